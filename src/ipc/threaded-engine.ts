/**
 * @module
 * The broker's engine across threads: one coordinator worker (topic metadata) and N partition workers
 * (each owns the partitions placement.ts assigns it). The main thread only routes: produce bytes go to
 * the owning worker through that worker's shared ring (ring.ts), everything else as small RPC messages.
 * A worker that dies takes the broker down (`onWorkerExit`): serving half the partitions is worse.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BrokerConfig } from '../config/broker-config.ts';
import type { LogConfig } from '../config/log-config.ts';
import type { CoordinatorStore } from '../coordinator/coordinator.ts';
import { groupConfig } from '../coordinator/group-coordinator.ts';
import type { PartitionOffsets } from '../partition/partition-manager.ts';
import { BrokerError } from '../shared/errors.ts';
import type { EpochEnd } from '../storage/leader-epochs.ts';
import type { AppendOptions } from '../storage/partition-log.ts';
import { BrokerEngine, type PartitionHost } from './broker-engine.ts';
import type {
  DeleteRecordsResult,
  FetchRequest,
  OffsetResult,
  OffsetSpec,
  ProduceResult,
  RawFetchResult,
  RecordsFetchResult,
} from './engine.ts';
import { createRing, type RingWriter } from './ring.ts';
import { RpcClient } from './rpc.ts';

export interface ThreadedEngineOptions {
  config: Readonly<BrokerConfig>;
  memory?: boolean;
  /** Called when a worker exits or throws outside a request; the broker should stop. */
  onWorkerExit: (name: string, reason: string) => void;
}

/**
 * Worker entry files. From source they sit in `workers/` at the project root; in the compiled binary
 * (`npm run build`, which lists them as extra entry points) Bun embeds them under the executable's own
 * virtual root, next to the entry point.
 */
const COMPILED = import.meta.url.includes('$bunfs');
const WORKER_FILES = {
  partition: new URL(`${COMPILED ? './' : '../../'}workers/partition-worker.ts`, import.meta.url),
  coordinator: new URL(`${COMPILED ? './' : '../../'}workers/coordinator-worker.ts`, import.meta.url),
};

function startWorker(
  file: URL,
  workerData: unknown,
  name: string,
  onExit: (name: string, reason: string) => void,
): { worker: Worker; rpc: RpcClient; stopping: { value: boolean } } {
  const worker = new Worker(file, { workerData, name });
  const rpc = new RpcClient(worker);
  const stopping = { value: false };
  worker.on('error', (err: Error) => {
    rpc.failAll(new BrokerError('KAFKA_STORAGE_ERROR', `${name} failed: ${err.message}`));
    onExit(name, err.stack ?? err.message);
  });
  worker.on('exit', (code: number) => {
    rpc.failAll(new BrokerError('KAFKA_STORAGE_ERROR', `${name} exited`));
    if (!stopping.value) onExit(name, `exited with code ${code}`);
  });
  return { worker, rpc, stopping };
}

class WorkerHost implements PartitionHost {
  constructor(
    private readonly rpc: RpcClient,
    private readonly ring: RingWriter,
    private readonly index: number,
  ) {}

  open(topic: string, partitions: number[], config: Readonly<LogConfig>): Promise<void> {
    return this.rpc.call('open', topic, partitions, config);
  }
  remove(topic: string, partitions: number[]): Promise<void> {
    return this.rpc.call('remove', topic, partitions);
  }
  reconfigure(topic: string, partitions: number[], config: Readonly<LogConfig>): Promise<void> {
    return this.rpc.call('reconfigure', topic, partitions, config);
  }
  append(
    topic: string,
    partition: number,
    batches: Uint8Array,
    options: AppendOptions = {},
  ): Promise<ProduceResult> {
    if (batches.length > this.ring.capacity) {
      return Promise.reject(
        new BrokerError(
          'RECORD_LIST_TOO_LARGE',
          `${batches.length} bytes exceed the worker queue (max.in.flight.bytes ${this.ring.capacity})`,
        ),
      );
    }
    const slot = this.ring.write(batches);
    if (!slot) {
      return Promise.reject(
        new BrokerError(
          'THROTTLING_QUOTA_EXCEEDED',
          `worker ${this.index} has ${this.inFlightBytes()} bytes in flight (max.in.flight.bytes); retry shortly`,
        ),
      );
    }
    return this.rpc.call('append', topic, partition, slot, options);
  }
  truncate(topic: string, partition: number, offset: number): Promise<PartitionOffsets> {
    return this.rpc.call('truncate', topic, partition, offset);
  }
  truncateFullyAndStartAt(topic: string, partition: number, offset: number): Promise<PartitionOffsets> {
    return this.rpc.call('truncateFullyAndStartAt', topic, partition, offset);
  }
  epochEnd(topic: string, partition: number, epoch: number): Promise<EpochEnd> {
    return this.rpc.call('epochEnd', topic, partition, epoch);
  }
  epochAt(topic: string, partition: number, offset: number): Promise<number> {
    return this.rpc.call('epochAt', topic, partition, offset);
  }
  lastEpoch(topic: string, partition: number): Promise<number> {
    return this.rpc.call('lastEpoch', topic, partition);
  }
  fetchRaw(request: FetchRequest): Promise<RawFetchResult> {
    return this.rpc.call('fetchRaw', request);
  }
  fetchRecords(request: FetchRequest): Promise<RecordsFetchResult> {
    return this.rpc.call('fetchRecords', request);
  }
  listOffset(topic: string, partition: number, spec: OffsetSpec): Promise<OffsetResult> {
    return this.rpc.call('listOffset', topic, partition, spec);
  }
  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult> {
    return this.rpc.call('deleteRecords', topic, partition, beforeOffset);
  }
  offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]> {
    return this.rpc.call('offsets', topic, partitions);
  }
  allOffsets(): Promise<Array<PartitionOffsets & { topic: string }>> {
    return this.rpc.call('allOffsets');
  }
  stopWaiting(): Promise<void> {
    return this.rpc.call('stopWaiting');
  }
  inFlightBytes(): number {
    return this.ring.capacity - this.ring.freeBytes;
  }
  close(): Promise<void> {
    return this.rpc.call('close');
  }
}

export async function createThreadedEngine(options: ThreadedEngineOptions): Promise<BrokerEngine> {
  const { config } = options;
  const dataDir = path.resolve(config.dataDir);
  const started: Array<{ worker: Worker; stopping: { value: boolean } }> = [];
  const coordinator = startWorker(
    WORKER_FILES.coordinator,
    {
      dataDir: options.memory ? null : dataDir,
      logDefaults: config.logDefaults,
      groupConfig: groupConfig(config),
      // In a cluster, groups live in the replicated __consumer_offsets (src/cluster/cluster-groups.ts), whose
      // partition a partition worker hosts: the worker keeps no group log of its own then.
      groupsInMemory: config.etcdEndpoints !== null,
      logLevel: config.logLevel,
    },
    'coordinator',
    options.onWorkerExit,
  );
  started.push(coordinator);
  const hosts: WorkerHost[] = [];
  const pings: Array<Promise<unknown>> = [coordinator.rpc.call('ping')];
  for (let index = 0; index < config.workers; index++) {
    const { sab, writer } = createRing(config.maxInFlightBytes);
    const w = startWorker(
      WORKER_FILES.partition,
      {
        index,
        dataDir,
        memory: options.memory ?? false,
        retentionCheckIntervalMs: config.retentionCheckIntervalMs,
        logLevel: config.logLevel,
        ring: sab,
      },
      `partition-worker-${index}`,
      options.onWorkerExit,
    );
    started.push(w);
    hosts.push(new WorkerHost(w.rpc, writer, index));
    pings.push(w.rpc.call('ping'));
  }
  await Promise.all(pings);
  const store = coordinator.rpc.proxy<CoordinatorStore>();
  const engine = new BrokerEngine(store, hosts, config, async () => {
    for (const w of started) w.stopping.value = true;
    await Promise.all(started.map((w) => w.worker.terminate()));
  });
  await engine.start();
  return engine;
}
