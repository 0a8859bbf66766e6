/** @module The Freshet `Target` of the comparative suite: the real broker process (`bun src/main.ts`) on the suite's temp dir, driven through the TypeScript client (Producer, Consumer) and raw batch fetches. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, HttpClient, Producer, type RecordMetadata } from '../../src/client/index.ts';
import { lastOffsetOf, readBatchHeader } from '../../src/records/batch-header.ts';
import { KIB, MIB, processCpuSeconds, processRssBytes, removeDir, settle } from '../harness.ts';
import type { BenchBroker, ProducerSettings } from '../produce.ts';
import type {
  ConsumeOutcome,
  Durability,
  ProduceOutcome,
  ProduceSpec,
  Target,
  TargetOptions,
} from './target.ts';

/*
 * How each Target operation runs on Freshet:
 *
 * - start: `bun src/main.ts --data-dir <dir> --http-port 0 --host 127.0.0.1` (plus `--flush-policy always` for
 *   'fsync-always': acknowledged only after an fdatasync, group commit), default workers (one per core). Ready
 *   when it prints its `listening` line; stopped by PID: SIGTERM, SIGKILL after 10 s, also when this process
 *   exits or is interrupted. The data dir belongs to the caller (the suite removes it after stop()).
 * - produce: `spec.producers` Producer instances (acks=all), each sending its share of the records in turn,
 *   `await ready()` only when `full` (the documented way to stream), then `flush()`. A producer owns the
 *   partitions p with p % producers == its index and spreads its records round-robin over them, so every
 *   partition has exactly one writer and its acknowledged offsets must run 0, 1, 2, ... (checked on every
 *   acknowledgement; a handler per record is what an application pays too). Batch settings are by value size,
 *   the ones bench/produce.ts found best.
 * - consume 'decoded': one Consumer assigned every partition from offset 0, polling until it has every record,
 *   checking each partition's offsets run on without a gap and counting value bytes. 'raw': per partition (all
 *   partitions at once), raw fetches (`Accept: application/vnd.kafka.recordbatch`) from the previous answer's
 *   next offset, records counted from the batch headers, nothing decoded. Both report payload (value) bytes, so
 *   MB/s compares with the produce side and the peers; the end offsets come from describeTopic, off the clock.
 * - latency: a Producer with lingerMs 0 (a batch leaves as soon as the previous one is acknowledged) sends at
 *   the offered rate, paced by a 1 ms timer, each value stamped with performance.now() when send() is called;
 *   a Consumer in this process long-polls (fetchMaxWaitMs 1 s, the broker answers at once on an append) and
 *   reports receive time - stamp. Values come from a ring larger than what the Producer may hold unsent.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RECORD_BATCH_ACCEPT = 'application/vnd.kafka.recordbatch, application/msgpack';
const STOP_GRACE_MS = 10_000;
const START_TIMEOUT_MS = 60_000;
/** Distinct random values per size, so neighbouring records differ. */
const VALUE_POOL = 64;

/** bench/produce.ts's tuned settings: small batches overlap client and broker work best (see its notes). */
const SMALL_RECORD_PRODUCER: ProducerSettings = {
  lingerMs: 5,
  batchBytes: 256 * KIB,
  maxBufferedBytes: 2 * MIB,
};
const LARGE_RECORD_PRODUCER: ProducerSettings = {
  lingerMs: 5,
  batchBytes: 512 * KIB,
  maxBufferedBytes: 4 * MIB,
};
export const LATENCY_PRODUCER: ProducerSettings = {
  lingerMs: 0,
  batchBytes: 256 * KIB,
  maxBufferedBytes: 8 * MIB,
};
const CONSUMER_FETCH_BYTES = 1 * MIB;
const CONSUMER_MAX_POLL_RECORDS = 10_000;
const RAW_FETCH_BYTES = 4 * MIB;
/** A poll that brings nothing for this long means the consumer is stuck. */
const POLL_STALL_MS = 10_000;
/** Longest any one produce or consume may take before it is abandoned as stuck. */
const OPERATION_DEADLINE_MS = 15 * 60_000;
/** How long the latency consumer keeps waiting for the last records after the sender is done. */
const LATENCY_DRAIN_MS = 15_000;

export function producerSettingsFor(valueBytes: number): ProducerSettings {
  return valueBytes <= 256 ? SMALL_RECORD_PRODUCER : LARGE_RECORD_PRODUCER;
}

// ------------------------------------------------------------------ the broker process

export interface FreshetBrokerOptions {
  /** The data dir; left in place by stop() (the caller owns it, so a restart finds its logs). */
  dataDir: string;
  flushPolicy?: 'interval' | 'always';
  /** More broker flags, e.g. `['--workers', '1']`. */
  extraArgs?: readonly string[];
  /** Flags for bun itself, before the script (e.g. `--cpu-prof`). */
  bunArgs?: readonly string[];
}

/** A running broker; fits bench/produce.ts's BenchBroker, so its httpRun/consumeRaw work against it. */
export interface FreshetBroker extends BenchBroker {
  readonly dataDir: string;
  /** performance.now() when the process was spawned. */
  readonly spawnedAt: number;
  /** Milliseconds from spawn to the broker's `listening` line. */
  readonly listeningMs: number;
  rssBytes(): number | null;
  /** How the last stop() went: milliseconds from SIGTERM to exit, and whether SIGKILL was needed. */
  stopReport(): { ms: number; killed: boolean } | null;
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** Spawns `bun src/main.ts` on `dataDir` and a free port; resolves once it listens (rejects after 60 s). */
export async function startFreshetBroker(options: FreshetBrokerOptions): Promise<FreshetBroker> {
  const args = [
    ...(options.bunArgs ?? []),
    'src/main.ts',
    '--data-dir',
    options.dataDir,
    '--http-port',
    '0',
    // A free port, not 9092: benches may run brokers side by side (a later --kafka-port in extraArgs wins).
    '--kafka-port',
    '0',
    '--host',
    '127.0.0.1',
    ...(options.flushPolicy ? ['--flush-policy', options.flushPolicy] : []),
    ...(options.extraArgs ?? []),
  ];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  // A spawn failure arrives as an 'error' event (and no 'exit'); without a listener it would crash this process.
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const exitReport = () =>
    alive()
      ? null
      : `broker exited (code ${child.exitCode}, signal ${child.signalCode}): ${stderr.slice(-4000)}`;

  // Should this process end without stop() (an uncaught error, Ctrl-C, a timeout's SIGTERM), the broker goes too.
  const killNow = () => {
    if (alive() && pid !== undefined) process.kill(pid, 'SIGKILL');
  };
  // A signal ends this process at once, so no caller gets to remove the data dir: it goes here.
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES) => {
    killNow();
    removeDir(options.dataDir);
    process.exit(SIGNAL_EXIT_CODES[signal]);
  };
  process.once('exit', killNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let report: { ms: number; killed: boolean } | null = null;
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      if (alive() && pid !== undefined) {
        const start = performance.now();
        let killed = false;
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (alive()) {
            killed = true;
            process.kill(pid, 'SIGKILL');
          }
        }, STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
        report = { ms: performance.now() - start, killed };
      }
      process.removeListener('exit', killNow);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    })());

  try {
    if (pid === undefined) throw spawnError ?? new Error('the broker process did not start');
    const listening = await new Promise<{ http: string; workers?: number }>((done, fail) => {
      let stdout = '';
      const timer = setTimeout(
        () => fail(new Error(`broker did not listen within ${START_TIMEOUT_MS / 1000} s: ${stderr}`)),
        START_TIMEOUT_MS,
      );
      const onData = (chunk: string) => {
        stdout += chunk;
        const lines = stdout.split('\n');
        stdout = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('{')) continue;
          try {
            const event = JSON.parse(line) as { msg?: string; http?: string; workers?: number };
            if (event.msg === 'listening' && typeof event.http === 'string') {
              clearTimeout(timer);
              child.stdout!.removeListener('data', onData);
              done({ http: event.http, workers: event.workers });
              return;
            }
          } catch {
            // Not one of the broker's JSON lines.
          }
        }
      };
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        fail(new Error(exitReport() ?? 'broker exited before listening'));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
    });
    const listeningMs = performance.now() - spawnedAt;
    // Keep draining stdout so the broker never blocks on a full pipe.
    child.stdout!.resume();
    return {
      url: listening.http,
      pid,
      workers: listening.workers ?? null,
      dataDir: options.dataDir,
      spawnedAt,
      listeningMs,
      cpuSeconds: () => processCpuSeconds(pid),
      rssBytes: () => processRssBytes(pid),
      exitReport,
      stop,
      stopReport: () => report,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ------------------------------------------------------------------ the target

/** What `latency()` returns: the Target's answer plus how far the sender fell behind its schedule. */
export interface LatencyOutcome {
  sent: number;
  received: number;
  /** The most the sender was behind the offered rate, in ms (large: the client could not keep up). */
  senderLagMaxMs: number;
}

/** What offerAtRate sends, where, and what it tells of each record. */
export interface PacedOffer {
  url: string;
  topic: string;
  ratePerSecond: number;
  seconds: number;
  valueBytes: number;
  /** Send → the consumer's receipt of each record, in ms. */
  onReceived: (ms: number) => void;
  /** Send → acknowledgement (acks=all) of each record, in ms. */
  onAcknowledged?: (ms: number) => void;
}

/**
 * W4's sender and receiver, shared by the suite and the replication bench: a Producer with
 * LATENCY_PRODUCER's settings offers `ratePerSecond` records of `valueBytes` (the send time stamped in the
 * first 8 bytes) to partition 0 of `topic`, paced by a 1 ms timer, while a Consumer there long-polls and
 * reports each record's age. Bounded: it stops at the last record, or 5 s past the end when the client
 * cannot keep up, and waits at most LATENCY_DRAIN_MS for the consumer after.
 */
export async function offerAtRate(offer: PacedOffer): Promise<LatencyOutcome & { acknowledged: number }> {
  const { url, topic, valueBytes, onReceived, onAcknowledged } = offer;
  if (valueBytes < 8) throw new Error('freshet: latency values need 8 bytes for the send time');
  const total = Math.max(1, Math.round(offer.ratePerSecond * offer.seconds));
  // Larger than what the Producer may hold unencoded (maxBufferedBytes), so no value is rewritten early.
  const ringSize = Math.min(total, 2 * Math.ceil(LATENCY_PRODUCER.maxBufferedBytes / valueBytes) + 64);
  const ring = randomValues(valueBytes, ringSize);
  const stamps = ring.map((value) => new DataView(value.buffer, value.byteOffset, 8));
  const producer = new Producer({ url, ...LATENCY_PRODUCER, acks: 'all' });
  const consumer = new Consumer({
    url,
    autoOffsetReset: 'earliest',
    fetchMaxWaitMs: 1000,
    maxPollRecords: CONSUMER_MAX_POLL_RECORDS,
  });
  let sent = 0;
  let acknowledged = 0;
  let received = 0;
  let sending = true;
  let failure: unknown = null;
  const onFail = (err: unknown) => {
    failure ??= err;
  };
  const start = performance.now();
  const sendEnd = start + offer.seconds * 1000;
  let receiveDeadline = sendEnd + LATENCY_DRAIN_MS + 30_000;
  let senderLagMaxMs = 0;
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const receiving = (async () => {
      while ((sending || received < sent) && performance.now() < receiveDeadline) {
        const batch = await consumer.poll({ maxWaitMs: 100 });
        const now = performance.now();
        for (const r of batch) {
          const value = r.value!;
          onReceived(now - new DataView(value.buffer, value.byteOffset, 8).getFloat64(0, true));
        }
        received += batch.length;
      }
    })();
    const msPerRecord = 1000 / offer.ratePerSecond;
    while (sent < total && failure === null) {
      const now = performance.now();
      if (now > sendEnd + 5_000) break;
      const due = Math.min(total, Math.floor((now - start) / msPerRecord) + 1);
      while (sent < due) {
        const slot = sent % ringSize;
        const sentAt = performance.now();
        stamps[slot]!.setFloat64(0, sentAt, true);
        producer.send(topic, { value: ring[slot]!, partition: 0 }).then(() => {
          acknowledged++;
          onAcknowledged?.(performance.now() - sentAt);
        }, onFail);
        sent++;
        if (producer.full) {
          await producer.ready();
          break;
        }
      }
      senderLagMaxMs = Math.max(senderLagMaxMs, performance.now() - start - sent * msPerRecord);
      if (sent < total) await sleep(1);
    }
    await producer.flush();
    sending = false;
    receiveDeadline = Math.min(receiveDeadline, performance.now() + LATENCY_DRAIN_MS);
    await receiving;
  } finally {
    sending = false;
    await producer.close().catch(() => {});
    await consumer.close().catch(() => {});
  }
  if (failure !== null) throw new Error(`${topic}: a send failed: ${String(failure)}`);
  return { sent, acknowledged, received, senderLagMaxMs };
}

function randomValues(size: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, () => {
    const value = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536)
      crypto.getRandomValues(value.subarray(at, Math.min(size, at + 65536)));
    return value;
  });
}

/** Which records and partitions each producer takes: producer k owns the partitions p with p % producers == k. */
function partitionPlan(spec: ProduceSpec): Array<{ count: number; partitions: number[] }> {
  const { producers, partitions, records } = spec;
  return Array.from({ length: producers }, (_, k) => ({
    count: Math.floor(records / producers) + (k < records % producers ? 1 : 0),
    partitions:
      partitions >= producers
        ? Array.from({ length: partitions }, (_, p) => p).filter((p) => p % producers === k)
        : [k % partitions],
  }));
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

export class FreshetTarget implements Target {
  readonly name = 'freshet';
  private current: FreshetBroker | null = null;
  private previous: FreshetBroker | null = null;
  private durability: Durability = 'os-cache';
  private lastWorkers: number | null = null;

  constructor(private readonly extraArgs: readonly string[] = []) {}

  describe(): string {
    const policy = this.durability === 'fsync-always' ? 'always (group commit)' : 'interval (page cache)';
    return (
      `Freshet ${packageVersion()} (bun src/main.ts, ${this.lastWorkers ?? 'one per core'} partition workers, ` +
      `flush.policy ${policy}), HTTP API; TypeScript client: Producer acks=all ` +
      `(batches ${SMALL_RECORD_PRODUCER.batchBytes / KIB} KiB for 100 B records, ${LARGE_RECORD_PRODUCER.batchBytes / KIB} KiB for 1 KiB; linger ` +
      `${SMALL_RECORD_PRODUCER.lingerMs} ms, 0 ms for latency), Consumer (decoded) and raw batch fetches`
    );
  }

  supports(_durability: Durability): boolean {
    return true;
  }

  async start(options: TargetOptions): Promise<void> {
    if (this.current !== null) throw new Error('freshet: already started');
    this.durability = options.durability;
    this.current = await startFreshetBroker({
      dataDir: options.dir,
      flushPolicy: options.durability === 'fsync-always' ? 'always' : 'interval',
      extraArgs: this.extraArgs,
    });
    this.lastWorkers = this.current.workers;
  }

  /** The running broker (for Freshet-only workloads: its URL, PID, RSS, start-up time). */
  get broker(): FreshetBroker {
    if (this.current === null) throw new Error('freshet: not started');
    // A broker that died makes every request fail with a network error: say why it died.
    const report = this.current.exitReport();
    if (report !== null) throw new Error(report);
    return this.current;
  }

  pids(): number[] {
    return this.current === null ? [] : [this.current.pid];
  }

  admin(): Admin {
    return new Admin({ url: this.broker.url });
  }

  async create(spec: ProduceSpec): Promise<void> {
    await this.admin().createTopic(spec.stream, { partitions: spec.partitions });
  }

  async produce(spec: ProduceSpec): Promise<ProduceOutcome> {
    const { url } = this.broker;
    const settings = producerSettingsFor(spec.valueBytes);
    const values = randomValues(spec.valueBytes, VALUE_POOL);
    const plan = partitionPlan(spec);
    const exclusive = spec.partitions >= spec.producers;
    const producers = plan.map(() => new Producer({ url, ...settings, acks: 'all' }));
    const nextOffset = new Array<number>(spec.partitions).fill(0);
    let acked = 0;
    let misplaced: string | null = null;
    let failure: unknown = null;
    const onAck = (metadata: RecordMetadata) => {
      const expected = nextOffset[metadata.partition]!;
      if (exclusive && metadata.offset !== expected && misplaced === null)
        misplaced = `partition ${metadata.partition}: offset ${metadata.offset} where ${expected} was due`;
      nextOffset[metadata.partition] = expected + 1;
      acked++;
    };
    const onFail = (err: unknown) => {
      failure ??= err;
    };
    const deadline = performance.now() + OPERATION_DEADLINE_MS;
    const loop = async (k: number) => {
      const producer = producers[k]!;
      const { count, partitions } = plan[k]!;
      const owned = partitions.length;
      for (let j = 0; j < count; j++) {
        producer
          .send(spec.stream, { value: values[j % VALUE_POOL]!, partition: partitions[j % owned]! })
          .then(onAck, onFail);
        if (producer.full) {
          await producer.ready();
          if (failure !== null || performance.now() > deadline) break;
        }
      }
      await producer.flush();
    };
    settle();
    const start = performance.now();
    try {
      await Promise.all(plan.map((_, k) => loop(k)));
    } finally {
      await Promise.all(producers.map((p) => p.close().catch(() => {})));
    }
    const seconds = (performance.now() - start) / 1000;
    if (failure !== null) throw this.explain(`${spec.stream}: a send failed: ${String(failure)}`);
    if (misplaced !== null) throw new Error(`freshet: ${spec.stream}: ${misplaced}`);
    if (acked !== spec.records)
      throw new Error(`freshet: ${spec.stream}: ${acked} of ${spec.records} records acknowledged`);
    return { records: acked, bytes: acked * spec.valueBytes, seconds };
  }

  /** Every partition's high watermark, which consume() reads up to. */
  private async endOffsets(spec: ProduceSpec): Promise<number[]> {
    const described = await this.admin().describeTopic(spec.stream);
    const ends = described.partitions.map((p) => p.highWatermark);
    const total = ends.reduce((a, b) => a + b, 0);
    if (total !== spec.records)
      throw new Error(`freshet: ${spec.stream} holds ${total} records, expected ${spec.records}`);
    return ends;
  }

  async consume(spec: ProduceSpec, mode: 'decoded' | 'raw'): Promise<ConsumeOutcome> {
    try {
      const ends = await this.endOffsets(spec);
      return await (mode === 'decoded' ? this.consumeDecoded(spec, ends) : this.consumeRaw(spec, ends));
    } catch (err) {
      throw this.explain(err);
    }
  }

  private async consumeDecoded(spec: ProduceSpec, ends: number[]): Promise<ConsumeOutcome> {
    const consumer = new Consumer({
      url: this.broker.url,
      autoOffsetReset: 'none',
      maxPartitionFetchBytes: CONSUMER_FETCH_BYTES,
      maxPollRecords: CONSUMER_MAX_POLL_RECORDS,
      fetchMaxWaitMs: 500,
    });
    const next = new Array<number>(ends.length).fill(0);
    const expected = spec.records;
    let records = 0;
    let bytes = 0;
    settle();
    const start = performance.now();
    const deadline = start + OPERATION_DEADLINE_MS;
    try {
      consumer.assign(ends.map((_, partition) => ({ topic: spec.stream, partition, offset: 0 })));
      while (records < expected) {
        if (performance.now() > deadline) throw new Error(`freshet: ${spec.stream}: consume took too long`);
        const batch = await consumer.poll({ maxWaitMs: POLL_STALL_MS });
        if (batch.length === 0)
          throw new Error(
            `freshet: ${spec.stream}: nothing for ${POLL_STALL_MS} ms after ${records} records`,
          );
        for (const record of batch) {
          const due = next[record.partition]!;
          if (record.offset !== due)
            throw new Error(
              `freshet: ${spec.stream}/${record.partition}: offset ${record.offset} where ${due} was due`,
            );
          next[record.partition] = due + 1;
          bytes += record.value?.length ?? 0;
          records++;
        }
      }
    } finally {
      await consumer.close();
    }
    const seconds = (performance.now() - start) / 1000;
    return { records, bytes, seconds };
  }

  private async consumeRaw(spec: ProduceSpec, ends: number[]): Promise<ConsumeOutcome> {
    const http = new HttpClient({ url: this.broker.url });
    const topicPath = `/v1/topics/${encodeURIComponent(spec.stream)}/partitions`;
    settle();
    const start = performance.now();
    const deadline = start + OPERATION_DEADLINE_MS;
    const readPartition = async (partition: number, end: number): Promise<number> => {
      let offset = 0;
      let records = 0;
      while (offset < end) {
        if (performance.now() > deadline) throw new Error(`freshet: ${spec.stream}: raw read took too long`);
        const { body, headers } = await http.exchange('GET', `${topicPath}/${partition}/records`, {
          query: { offset, maxBytes: RAW_FETCH_BYTES },
          accept: RECORD_BATCH_ACCEPT,
        });
        if (body.length === 0)
          throw new Error(`freshet: ${spec.stream}/${partition}: raw fetch at ${offset} returned nothing`);
        let position = 0;
        while (position < body.length) {
          const header = readBatchHeader(body, position);
          if (header.baseOffset !== offset)
            throw new Error(
              `freshet: ${spec.stream}/${partition}: batch at ${header.baseOffset} where ${offset} was due`,
            );
          records += header.recordCount;
          offset = lastOffsetOf(header) + 1;
          position += header.sizeInBytes;
        }
        const nextOffset = Number(headers.get('freshet-next-offset'));
        if (position !== body.length || nextOffset !== offset)
          throw new Error(
            `freshet: ${spec.stream}/${partition}: answer ends at ${position}/${body.length} bytes, ` +
              `next offset ${nextOffset}, batches end at ${offset}`,
          );
      }
      return records;
    };
    const counts = await Promise.all(ends.map((end, partition) => readPartition(partition, end)));
    const seconds = (performance.now() - start) / 1000;
    const records = counts.reduce((a, b) => a + b, 0);
    if (records !== spec.records)
      throw new Error(`freshet: ${spec.stream}: read ${records} records raw, expected ${spec.records}`);
    return { records, bytes: records * spec.valueBytes, seconds };
  }

  async latency(
    spec: { stream: string; ratePerSecond: number; seconds: number; valueBytes: number },
    record: (ms: number) => void,
  ): Promise<LatencyOutcome> {
    try {
      return await offerAtRate({
        url: this.broker.url,
        topic: spec.stream,
        ratePerSecond: spec.ratePerSecond,
        seconds: spec.seconds,
        valueBytes: spec.valueBytes,
        onReceived: record,
      });
    } catch (err) {
      throw this.explain(err);
    }
  }

  /** An error for `problem`, with why the broker exited when it is gone (the usual cause of failed requests). */
  private explain(problem: unknown): Error {
    const report = this.current?.exitReport() ?? null;
    if (problem instanceof Error && report === null) return problem;
    const message = problem instanceof Error ? problem.message : String(problem);
    return new Error(
      `${message.startsWith('freshet: ') ? '' : 'freshet: '}${message}${report === null ? '' : `; ${report}`}`,
    );
  }

  /** How the last stop() went (W6 reports the shutdown time of a broker holding many partitions). */
  lastStopReport(): { ms: number; killed: boolean } | null {
    return this.previous?.stopReport() ?? null;
  }

  async stop(): Promise<void> {
    const broker = this.current;
    this.current = null;
    if (broker === null) return;
    this.previous = broker;
    await broker.stop();
  }
}
