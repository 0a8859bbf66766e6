/**
 * @module
 * Consumer groups in a cluster: every group is coordinated by the leader of partition 0 of
 * `__consumer_offsets`, a replicated topic like any other (replication factor min(3, live brokers), created
 * the first time a group or FindCoordinator needs it). Group state goes to that partition in Kafka's record
 * formats (group-records.ts) with acks=all, so a committed offset is on every in-sync replica before the
 * commit is answered; when the leader dies, the controller elects an in-sync replica, which replays the
 * partition and coordinates from then on (Kafka's group coordinator failover).
 *
 * - The leader runs a GroupCoordinator over `ReplicatedGroupLog` (below). While it replays, group calls
 *   answer COORDINATOR_LOAD_IN_PROGRESS; when it loses the partition, the coordinator closes (waiting joins
 *   answer retriably) and is dropped.
 * - Any other broker forwards group calls to the leader (`forward`, an internal HTTP call), so HTTP clients
 *   need not know the coordinator; Kafka clients learn it from FindCoordinator and talk to it directly.
 *
 * DEPARTURE: in a cluster the coordinator runs on the broker's main thread, next to the replication layer
 * that owns its log, not in the coordinator worker (which then keeps topic metadata only). One partition
 * holds every group, so one broker coordinates them all.
 */
import type { GroupApi } from '../coordinator/group-api.ts';
import { GroupCoordinator, groupConfig } from '../coordinator/group-coordinator.ts';
import type { GroupLog } from '../coordinator/group-log.ts';
import { decodeGroupRecord, type GroupRecord, OFFSETS_TOPIC } from '../coordinator/group-records.ts';
import type {
  BrokerInfo,
  DeleteRecordsResult,
  FetchRequest,
  ProduceRequest,
  ProduceResult,
  RecordsFetchResult,
} from '../ipc/engine.ts';
import { encodeGroupBatches } from '../partition/group-log-file.ts';
import { BrokerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';

export const OFFSETS_PARTITION = 0;
/** Where brokers forward group calls to the coordinator (msgpack `{method, request}` → `{ok}` or `{error}`). */
export const GROUP_CALL_PATH = '/v1/internal/group-call';
const REPLAY_CHUNK_BYTES = 1024 * 1024;

/** The group calls that are forwarded, by name. */
export const GROUP_METHODS = [
  'joinGroup',
  'syncGroup',
  'heartbeat',
  'leaveGroup',
  'commitOffsets',
  'fetchOffsets',
  'listGroups',
  'describeGroup',
  'deleteGroup',
] as const satisfies readonly (keyof GroupApi)[];
export type GroupMethod = (typeof GROUP_METHODS)[number];

/** What the group layer needs of the replicated engine (the leader's produce, the local log). */
export interface OffsetsPartition {
  produce(request: ProduceRequest): Promise<ProduceResult>;
  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult>;
  /** Reads this broker's replica up to its log end (no leadership check). */
  readLocal(request: FetchRequest): Promise<RecordsFetchResult>;
  localOffsets(): Promise<{ logStartOffset: number; logEndOffset: number }>;
}

/** `__consumer_offsets` partition 0 through the replication layer: appends are acks=all produces. */
export class ReplicatedGroupLog implements GroupLog {
  private size = 0;

  constructor(private readonly partition: OffsetsPartition) {}

  get sizeInBytes(): number {
    return this.size;
  }

  async append(records: readonly GroupRecord[]): Promise<void> {
    if (records.length === 0) return;
    const [batch] = encodeGroupBatches(records, Number.POSITIVE_INFINITY);
    await this.produce(batch!);
    this.size += batch!.length;
  }

  private async produce(batches: Uint8Array): Promise<ProduceResult> {
    try {
      return await this.partition.produce({
        topic: OFFSETS_TOPIC,
        partition: OFFSETS_PARTITION,
        batches,
        acks: -1,
      });
    } catch (err) {
      if (
        err instanceof BrokerError &&
        (err.code === 'NOT_LEADER_OR_FOLLOWER' || err.code === 'LEADER_NOT_AVAILABLE')
      ) {
        throw new BrokerError('NOT_COORDINATOR', `this broker no longer coordinates groups: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
  }

  /** Everything in this broker's replica, from its log start to its log end (the new leader's log). */
  async replay(): Promise<GroupRecord[]> {
    const { logStartOffset, logEndOffset } = await this.partition.localOffsets();
    const out: GroupRecord[] = [];
    let offset = logStartOffset;
    this.size = 0;
    while (offset < logEndOffset) {
      const read = await this.partition.readLocal({
        topic: OFFSETS_TOPIC,
        partition: OFFSETS_PARTITION,
        offset,
        maxBytes: REPLAY_CHUNK_BYTES,
        maxWaitMs: 0,
        minBytes: 0,
      });
      if (read.nextOffset <= offset) {
        throw new BrokerError('KAFKA_STORAGE_ERROR', `${OFFSETS_TOPIC} replay made no progress at ${offset}`);
      }
      for (const stored of read.records) {
        if (stored.offset < read.logStartOffset || stored.key === null) continue;
        const record = decodeGroupRecord(stored.key, stored.value);
        if (record !== null) out.push(record);
        this.size += 32 + stored.key.length + (stored.value?.length ?? 0);
      }
      offset = read.nextOffset;
    }
    return out;
  }

  async compact(live: readonly GroupRecord[]): Promise<void> {
    const batches = encodeGroupBatches(live);
    if (batches.length === 0) return;
    const total = batches.reduce((sum, b) => sum + b.length, 0);
    const all = new Uint8Array(total);
    let pos = 0;
    for (const b of batches) {
      all.set(b, pos);
      pos += b.length;
    }
    const result = await this.produce(all);
    await this.partition.deleteRecords(OFFSETS_TOPIC, OFFSETS_PARTITION, result.baseOffset);
    this.size = total;
  }

  async close(): Promise<void> {
    // The partition belongs to the replication layer; nothing to close here.
  }
}

export interface ClusterGroupsOptions {
  nodeId: number;
  config: Parameters<typeof groupConfig>[0];
  partition: OffsetsPartition;
  /** The live leader of __consumer_offsets-0 ({nodeId}), or null while there is none. */
  leader: () => BrokerInfo | null;
  /** Creates __consumer_offsets in etcd when it does not exist yet; resolves when it has a leader. */
  ensureTopic: () => Promise<void>;
  partitionCount: (topic: string) => number | undefined;
  /** Calls `method` on the coordinator broker `to`. */
  forward: (to: BrokerInfo, method: GroupMethod, request: unknown) => Promise<unknown>;
  logger: Logger;
}

interface Active {
  epoch: number;
  coordinator: GroupCoordinator;
  loaded: boolean;
}

export class ClusterGroups {
  private readonly options: ClusterGroupsOptions;
  private active: Active | null = null;

  constructor(options: ClusterGroupsOptions) {
    this.options = options;
  }

  /** The partition's role changed here: `epoch` when this broker now leads it, null when it does not. */
  leadership(epoch: number | null): void {
    const current = this.active;
    if (current && current.epoch === epoch) return;
    if (current) {
      this.active = null;
      void current.coordinator.close().catch(() => {});
      this.options.logger.info('no longer the group coordinator', { epoch: current.epoch });
    }
    if (epoch === null) return;
    const coordinator = new GroupCoordinator({
      log: new ReplicatedGroupLog(this.options.partition),
      config: groupConfig(this.options.config),
      partitionCount: this.options.partitionCount,
      logger: this.options.logger,
    });
    const active: Active = { epoch, coordinator, loaded: false };
    this.active = active;
    coordinator.load().then(
      () => {
        active.loaded = true;
        this.options.logger.info('group coordinator loaded', { epoch });
      },
      (err: unknown) => {
        this.options.logger.error('group coordinator failed to load; retrying', { error: String(err) });
        if (this.active === active) {
          this.active = null;
          setTimeout(() => this.leadership(epoch), 500).unref?.();
        }
      },
    );
  }

  /** Where group calls go: this broker (null) or the coordinator broker. */
  async coordinator(): Promise<BrokerInfo> {
    await this.options.ensureTopic();
    const leader = this.options.leader();
    if (leader === null) {
      throw new BrokerError(
        'COORDINATOR_NOT_AVAILABLE',
        '__consumer_offsets has no leader right now; retry shortly',
      );
    }
    return leader;
  }

  /** Runs a group call here when this broker coordinates, else on the coordinator (unless `localOnly`). */
  async call(method: GroupMethod, request: unknown, localOnly = false): Promise<unknown> {
    const active = this.active;
    if (active) {
      if (!active.loaded) {
        throw new BrokerError(
          'COORDINATOR_LOAD_IN_PROGRESS',
          'the group coordinator is loading __consumer_offsets',
        );
      }
      const fn = active.coordinator[method] as (r: unknown) => Promise<unknown>;
      return fn.call(active.coordinator, request);
    }
    const leader = await this.coordinator();
    if (leader.nodeId === this.options.nodeId) {
      throw new BrokerError(
        'COORDINATOR_LOAD_IN_PROGRESS',
        'this broker is taking over the group coordinator',
      );
    }
    if (localOnly) {
      throw new BrokerError(
        'NOT_COORDINATOR',
        `broker ${this.options.nodeId} is not the group coordinator; ${leader.nodeId} is`,
      );
    }
    return this.options.forward(leader, method, request);
  }

  /** The groups this broker coordinates (for metrics); none when it is not the coordinator. */
  stats(): ReturnType<GroupCoordinator['stats']> | [] {
    const active = this.active;
    return active?.loaded ? active.coordinator.stats() : [];
  }

  async close(): Promise<void> {
    const current = this.active;
    this.active = null;
    await current?.coordinator.close().catch(() => {});
  }
}
