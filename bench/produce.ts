import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as buildHistogram, type Histogram } from 'hdr-histogram-js';
import { Admin, Consumer, Producer, type RecordMetadata } from '../src/client/index.ts';
import { checkBatch, lastOffsetOf, readBatchHeader } from '../src/records/batch-header.ts';
import {
  type BenchOptions,
  KIB,
  MIB,
  makeTempDir,
  mbPerSec,
  progress,
  putSummary,
  removeDir,
  round,
  runDirectly,
  settle,
} from './harness.ts';
import { startFreshetBroker } from './targets/freshet.ts';

/*
 * What is measured, and how:
 *
 * - One broker process (`bun src/main.ts`, default workers and flush policy, i.e. interval: acknowledged once
 *   in the page cache) on a temp data dir, started once and killed by PID at the end, also on error. The
 *   client (Producer, Consumer, Admin of src/client) runs in this process, on the same machine: client and
 *   broker share the cores, and the figures are for both together.
 * - Every topic has one partition and is created before its clock starts. Each repetition writes new topics
 *   and deletes them when it is done; a warm-up round (off the clock, not reported) runs every path first.
 * - W1/W2: one Producer, `send()` per record without awaiting it, `await ready()` only when `full` (the
 *   documented way to stream), then `flush()`; the clock runs from the first send to the end of flush.
 *   Values come from a pool of distinct random buffers (no key, no headers). MB/s counts value bytes.
 *   Every 1024th record's time from send() to acknowledgement goes into a histogram (ack_p50/p99).
 * - W3: the W1 topic (and the W2 topic, as `w3_1k_*`) read from offset 0 to the end, from the page cache:
 *   (a) a Consumer, counting decoded records and their value bytes, checking every offset in turn;
 *   (b) raw fetches (`Accept: application/vnd.kafka.recordbatch`) in a loop, each from the previous
 *   answer's next offset, counting records from the batch headers without decoding them (MB/s: batch bytes).
 * - HTTP: autocannon, run in this process, POSTs one JSON record (`{"records":[{"value":...}]}`) per request
 *   to a fresh topic with 100 connections (acks=all, the default).
 * - Checks, off the clock, after every run: each send() resolved with offset i for the i-th record; the log
 *   read back raw has gap-free offsets, valid CRCs and exactly the records acknowledged (for autocannon:
 *   between the 2xx answers counted and the requests sent, since requests cut off at the end may have been
 *   appended); no error or non-2xx answer.
 * - CPU: the bench process's and the broker process's CPU time over each clock (from /proc on Linux), as
 *   cores busy on average, to see which side is the limit.
 *
 * FRESHET_BENCH_BROKER_PROFILE=<dir> starts the broker with `--cpu-prof` into <dir> (its main thread only).
 */

/** Producer settings: the workloads differ only in value size (tuned by hand, see the report in `settings`). */
export interface ProducerSettings {
  lingerMs: number;
  batchBytes: number;
  maxBufferedBytes: number;
}

/**
 * Small batches and a small buffer, chosen by trying 128 KiB to 1 MiB batches with 1 to 64 MiB buffers:
 * the Producer keeps one request in flight per partition and encodes a batch only when it sends it, so the
 * client's and the broker's work alternate, and smaller batches overlap them better; a small buffer makes the
 * send() loop yield to the network sooner. For W1, 256 KiB/2 MiB beat 1 MiB/64 MiB by about 1.5x; lingerMs
 * barely matters while the loop keeps the queue full. (The broker's max.message.bytes, 1 MiB + 12, caps a
 * batch anyway.)
 */
const W1_PRODUCER: ProducerSettings = { lingerMs: 5, batchBytes: 256 * KIB, maxBufferedBytes: 2 * MIB };
const W2_PRODUCER: ProducerSettings = { lingerMs: 5, batchBytes: 512 * KIB, maxBufferedBytes: 4 * MIB };
/** Bytes per fetch for the Consumer (maxPartitionFetchBytes, its default); larger answers were slower. */
const CONSUMER_FETCH_BYTES = 1 * MIB;
/** Bytes per raw fetch (maxBytes). */
const RAW_FETCH_BYTES = 4 * MIB;
const MAX_POLL_RECORDS = 10_000;
const HTTP_CONNECTIONS = 100;
const HTTP_BODY = JSON.stringify({ records: [{ value: 'freshet bench: one small record per request' }] });
/** One record in this many has its acknowledgement latency recorded. */
const LATENCY_SAMPLE_EVERY = 1024;
const VALUE_POOL = 64;
const RECORD_BATCH_TYPE = 'application/vnd.kafka.recordbatch';

const _REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Plan {
  w1Records: number;
  w2Records: number;
  reps: number;
  httpSeconds: number;
  /** The warm-up round's volumes: enough for the JIT to settle (W1 runs were still speeding up after 400k records). */
  warmupW1Records: number;
  warmupW2Records: number;
  warmupHttpSeconds: number;
}

function planFor(opts: BenchOptions): Plan {
  return opts.quick
    ? {
        w1Records: 100_000,
        w2Records: 50_000,
        reps: 1,
        httpSeconds: 3,
        warmupW1Records: 300_000,
        warmupW2Records: 50_000,
        warmupHttpSeconds: 1,
      }
    : {
        w1Records: 1_000_000,
        w2Records: 500_000,
        reps: 3,
        httpSeconds: 10,
        warmupW1Records: 300_000,
        warmupW2Records: 100_000,
        warmupHttpSeconds: 2,
      };
}

// ------------------------------------------------------------------ the broker process

export interface BenchBroker {
  url: string;
  pid: number;
  workers: number | null;
  /** CPU seconds (user + system) the broker process has used so far; null off Linux. */
  cpuSeconds(): number | null;
  /** Why the broker is gone, with the end of its log; null while it runs. */
  exitReport(): string | null;
  /** SIGTERM, SIGKILL after 10 s; waits for the exit and removes the data dir. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts `bun src/main.ts` on a temp data dir and a free port (bench/targets/freshet.ts); the data dir goes when it stops. */
export async function startBenchBroker(profileDir?: string): Promise<BenchBroker> {
  const dataDir = makeTempDir('broker');
  let broker: BenchBroker;
  try {
    broker = await startFreshetBroker({
      dataDir,
      ...(profileDir ? { bunArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
    });
  } catch (err) {
    removeDir(dataDir);
    throw err;
  }
  let stopped: Promise<void> | null = null;
  return {
    ...broker,
    stop: () =>
      (stopped ??= (async () => {
        await broker.stop();
        removeDir(dataDir);
      })()),
  };
}

/** utime + stime of a process from /proc (Linux); null elsewhere. Assumes USER_HZ = 100, Linux's value everywhere. */
function _processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5), counted from the state field (3).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** CPU of this process and the broker over a timed section, as cores busy on average. */
class CpuMeter {
  private readonly startOwn = process.cpuUsage();
  private readonly startBroker: number | null;
  private readonly startMs = performance.now();

  constructor(private readonly broker: BenchBroker) {
    this.startBroker = broker.cpuSeconds();
  }

  read(): { client: number; broker: number | null } {
    const seconds = (performance.now() - this.startMs) / 1000;
    const own = process.cpuUsage(this.startOwn);
    const brokerNow = this.broker.cpuSeconds();
    return {
      client: round((own.user + own.system) / 1e6 / seconds, 2),
      broker:
        brokerNow === null || this.startBroker === null
          ? null
          : round((brokerNow - this.startBroker) / seconds, 2),
    };
  }
}

// ------------------------------------------------------------------ W1, W2: produce

export interface ProduceRun {
  records: number;
  valueBytes: number;
  ms: number;
  ackP50Ms: number;
  ackP99Ms: number;
  cpu: { client: number; broker: number | null };
}

function randomValues(size: number): Uint8Array[] {
  return Array.from({ length: VALUE_POOL }, () => {
    const value = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536)
      crypto.getRandomValues(value.subarray(at, Math.min(size, at + 65536)));
    return value;
  });
}

/**
 * Produces `records` values of `valueBytes` to partition 0 of `topic` with one Producer; returns the time
 * from the first send() to the end of flush(). Afterwards, off the clock, checks that the i-th send()
 * resolved with offset i.
 */
export async function produceRun(
  broker: BenchBroker,
  topic: string,
  records: number,
  valueBytes: number,
  settings: ProducerSettings,
): Promise<ProduceRun> {
  const values = randomValues(valueBytes);
  const producer = new Producer({ url: broker.url, ...settings });
  const acks: Promise<RecordMetadata>[] = new Array(records);
  const histogram: Histogram = buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
  });
  const sampleAck = (sentAt: number) => () => {
    histogram.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
  };
  settle();
  const cpu = new CpuMeter(broker);
  const start = performance.now();
  try {
    for (let i = 0; i < records; i++) {
      const ack = producer.send(topic, { value: values[i % VALUE_POOL]! });
      acks[i] = ack;
      if (i % LATENCY_SAMPLE_EVERY === 0) ack.then(sampleAck(performance.now()), () => {});
      if (producer.full) await producer.ready();
    }
    await producer.flush();
  } finally {
    await producer.close();
  }
  const ms = performance.now() - start;
  const usage = cpu.read();

  const answers = await Promise.allSettled(acks);
  for (let i = 0; i < records; i++) {
    const answer = answers[i]!;
    if (answer.status === 'rejected')
      throw new Error(`${topic}: send #${i} failed: ${String(answer.reason)}`);
    if (answer.value.partition !== 0 || answer.value.offset !== i) {
      throw new Error(
        `${topic}: send #${i} landed at ${answer.value.partition}/${answer.value.offset}, expected 0/${i}`,
      );
    }
  }
  return {
    records,
    valueBytes,
    ms,
    ackP50Ms: histogram.getValueAtPercentile(50) / 1000,
    ackP99Ms: histogram.getValueAtPercentile(99) / 1000,
    cpu: usage,
  };
}

// ------------------------------------------------------------------ W3: consume

export interface ReadRun {
  records: number;
  /** Value bytes (decoded) or batch bytes (raw). */
  bytes: number;
  ms: number;
  cpu: { client: number; broker: number | null };
}

/** Reads `expected` records of partition 0 from offset 0 with a Consumer, checking offsets and value sizes. */
export async function consumeDecoded(
  broker: BenchBroker,
  topic: string,
  expected: number,
  valueBytes: number,
): Promise<ReadRun> {
  const consumer = new Consumer({
    url: broker.url,
    autoOffsetReset: 'none',
    maxPartitionFetchBytes: CONSUMER_FETCH_BYTES,
    maxPollRecords: MAX_POLL_RECORDS,
    fetchMaxWaitMs: 500,
  });
  let next = 0;
  let bytes = 0;
  settle();
  const cpu = new CpuMeter(broker);
  const start = performance.now();
  try {
    consumer.assign([{ topic, partition: 0, offset: 0 }]);
    while (next < expected) {
      const records = await consumer.poll({ maxWaitMs: 10_000 });
      if (records.length === 0) throw new Error(`${topic}: the consumer got nothing at offset ${next}`);
      for (const record of records) {
        if (record.offset !== next)
          throw new Error(`${topic}: offset ${record.offset} where ${next} was due`);
        const size = record.value?.length ?? -1;
        if (size !== valueBytes) throw new Error(`${topic}@${next}: value of ${size} bytes`);
        bytes += size;
        next++;
      }
    }
  } finally {
    await consumer.close();
  }
  const ms = performance.now() - start;
  return { records: next, bytes, ms, cpu: cpu.read() };
}

interface RawAnswer {
  body: Uint8Array;
  nextOffset: number;
  highWatermark: number;
}

async function fetchRawBatches(url: string, topic: string, offset: number): Promise<RawAnswer> {
  const response = await fetch(
    `${url}/v1/topics/${encodeURIComponent(topic)}/partitions/0/records?offset=${offset}&maxBytes=${RAW_FETCH_BYTES}`,
    { headers: { accept: RECORD_BATCH_TYPE } },
  );
  const body = new Uint8Array(await response.arrayBuffer());
  if (!response.ok) {
    throw new Error(`${topic}@${offset}: HTTP ${response.status}: ${new TextDecoder().decode(body)}`);
  }
  return {
    body,
    nextOffset: Number(response.headers.get('freshet-next-offset')),
    highWatermark: Number(response.headers.get('freshet-high-watermark')),
  };
}

/**
 * Reads partition 0 from offset 0 to `expected` with raw fetches, counting records from batch headers.
 * With `verify` (off the clock), also checks every batch's CRC and that the log ends at `expected`.
 */
export async function consumeRaw(
  broker: BenchBroker,
  topic: string,
  expected: number,
  verify = false,
): Promise<ReadRun> {
  let offset = 0;
  let records = 0;
  let bytes = 0;
  settle();
  const cpu = new CpuMeter(broker);
  const start = performance.now();
  while (offset < expected) {
    const answer = await fetchRawBatches(broker.url, topic, offset);
    const { body } = answer;
    if (body.length === 0) throw new Error(`${topic}: raw fetch at ${offset} returned nothing`);
    let position = 0;
    while (position < body.length) {
      const header = verify ? checkBatch(body, position) : readBatchHeader(body, position);
      if (header.baseOffset !== offset) {
        throw new Error(`${topic}: batch at ${header.baseOffset} where ${offset} was due`);
      }
      records += header.recordCount;
      offset = lastOffsetOf(header) + 1;
      position += header.sizeInBytes;
    }
    if (position !== body.length) throw new Error(`${topic}: a raw answer ends inside a batch`);
    if (answer.nextOffset !== offset) {
      throw new Error(`${topic}: Freshet-Next-Offset ${answer.nextOffset}, the batches end at ${offset}`);
    }
    if (verify && answer.highWatermark !== expected) {
      throw new Error(`${topic}: high watermark ${answer.highWatermark}, expected ${expected}`);
    }
    bytes += body.length;
  }
  const ms = performance.now() - start;
  if (records !== expected || offset !== expected) {
    throw new Error(`${topic}: read ${records} records up to offset ${offset}, expected ${expected}`);
  }
  return { records, bytes, ms, cpu: cpu.read() };
}

// ------------------------------------------------------------------ HTTP: autocannon

interface AutocannonResult {
  requests: { average: number; total: number; sent: number };
  latency: { p50: number; p99: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  duration: number;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

/** autocannon ships no types; this is the part of its programmatic API used here. */
async function loadAutocannon(): Promise<Autocannon> {
  const name = 'autocannon';
  const mod = (await import(name)) as { default: Autocannon };
  return mod.default;
}

export interface HttpRun {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  appended: number;
  cpu: { client: number; broker: number | null };
}

/** autocannon POSTs one JSON record per request to `topic` for `seconds`; then checks the log. */
export async function httpRun(
  broker: BenchBroker,
  admin: Admin,
  topic: string,
  seconds: number,
): Promise<HttpRun> {
  const autocannon = await loadAutocannon();
  settle();
  const cpu = new CpuMeter(broker);
  const result = await autocannon({
    url: `${broker.url}/v1/topics/${encodeURIComponent(topic)}/records`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: HTTP_BODY,
    connections: HTTP_CONNECTIONS,
    duration: seconds,
  });
  const usage = cpu.read();
  if (result.errors > 0 || result.timeouts > 0 || result.non2xx > 0) {
    throw new Error(
      `${topic}: autocannon saw ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`,
    );
  }
  const described = await admin.describeTopic(topic);
  const appended = described.partitions[0]!.highWatermark;
  const ok = result['2xx'];
  if (appended < ok || appended > result.requests.sent) {
    throw new Error(
      `${topic}: ${appended} records appended, ${ok} answered 200, ${result.requests.sent} sent`,
    );
  }
  await consumeRaw(broker, topic, appended, true);
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ok,
    appended,
    cpu: usage,
  };
}

// ------------------------------------------------------------------ the workload

const load = () => loadavg().map((l) => round(l, 2));

interface Series {
  w1Rps: number[];
  w1AckP50: number[];
  w1AckP99: number[];
  w2Rps: number[];
  w2MbS: number[];
  w2AckP99: number[];
  w3Rps: number[];
  w3MbS: number[];
  w3RawRps: number[];
  w3RawMbS: number[];
  w3KRps: number[];
  w3KMbS: number[];
  w3KRawRps: number[];
  w3KRawMbS: number[];
  httpRps: number[];
  httpP50: number[];
  httpP99: number[];
}

function emptySeries(): Series {
  return {
    w1Rps: [],
    w1AckP50: [],
    w1AckP99: [],
    w2Rps: [],
    w2MbS: [],
    w2AckP99: [],
    w3Rps: [],
    w3MbS: [],
    w3RawRps: [],
    w3RawMbS: [],
    w3KRps: [],
    w3KMbS: [],
    w3KRawRps: [],
    w3KRawMbS: [],
    httpRps: [],
    httpP50: [],
    httpP99: [],
  };
}

const perSec = (records: number, ms: number) => records / (ms / 1000);
const cpuNote = (cpu: { client: number; broker: number | null }) =>
  `cpu client ${cpu.client} broker ${cpu.broker ?? '?'}`;

interface Round {
  label: string;
  w1Records: number;
  w2Records: number;
  httpSeconds: number;
}

/** One round of every workload on fresh topics, deleted afterwards; `series` is null for the warm-up. */
async function runRound(
  broker: BenchBroker,
  admin: Admin,
  { label, w1Records, w2Records, httpSeconds }: Round,
  series: Series | null,
  cpuLog: Record<string, unknown>,
): Promise<void> {
  const w1Topic = `bench-w1-${label}`;
  const w2Topic = `bench-w2-${label}`;
  const httpTopic = `bench-http-${label}`;
  for (const topic of [w1Topic, w2Topic, httpTopic]) await admin.createTopic(topic, { partitions: 1 });
  try {
    const w1 = await produceRun(broker, w1Topic, w1Records, 100, W1_PRODUCER);
    await consumeRaw(broker, w1Topic, w1Records, true);
    const w1Rps = perSec(w1.records, w1.ms);
    progress(
      `produce ${label}: W1 ${Math.round(w1Rps)} records/s (ack p99 ${w1.ackP99Ms} ms, ${cpuNote(w1.cpu)})`,
    );

    const w2 = await produceRun(broker, w2Topic, w2Records, KIB, W2_PRODUCER);
    await consumeRaw(broker, w2Topic, w2Records, true);
    const w2Rps = perSec(w2.records, w2.ms);
    const w2MbS = mbPerSec(w2.records * w2.valueBytes, w2.ms);
    progress(
      `produce ${label}: W2 ${w2MbS.toFixed(1)} MB/s, ${Math.round(w2Rps)} records/s (${cpuNote(w2.cpu)})`,
    );

    const w3 = await consumeDecoded(broker, w1Topic, w1Records, 100);
    const w3Raw = await consumeRaw(broker, w1Topic, w1Records);
    const w3K = await consumeDecoded(broker, w2Topic, w2Records, KIB);
    const w3KRaw = await consumeRaw(broker, w2Topic, w2Records);
    progress(
      `produce ${label}: W3 consumer ${Math.round(perSec(w3.records, w3.ms))} records/s (${cpuNote(w3.cpu)}), ` +
        `raw ${Math.round(perSec(w3Raw.records, w3Raw.ms))} records/s ${mbPerSec(w3Raw.bytes, w3Raw.ms).toFixed(1)} MB/s; ` +
        `1 KiB: consumer ${mbPerSec(w3K.bytes, w3K.ms).toFixed(1)} MB/s, raw ${mbPerSec(w3KRaw.bytes, w3KRaw.ms).toFixed(1)} MB/s`,
    );

    const http = await httpRun(broker, admin, httpTopic, httpSeconds);
    progress(
      `produce ${label}: HTTP ${Math.round(http.rps)} requests/s, p50 ${http.p50Ms} ms, p99 ${http.p99Ms} ms (${cpuNote(http.cpu)})`,
    );

    if (series === null) return;
    series.w1Rps.push(w1Rps);
    series.w1AckP50.push(w1.ackP50Ms);
    series.w1AckP99.push(w1.ackP99Ms);
    series.w2Rps.push(w2Rps);
    series.w2MbS.push(w2MbS);
    series.w2AckP99.push(w2.ackP99Ms);
    series.w3Rps.push(perSec(w3.records, w3.ms));
    series.w3MbS.push(mbPerSec(w3.bytes, w3.ms));
    series.w3RawRps.push(perSec(w3Raw.records, w3Raw.ms));
    series.w3RawMbS.push(mbPerSec(w3Raw.bytes, w3Raw.ms));
    series.w3KRps.push(perSec(w3K.records, w3K.ms));
    series.w3KMbS.push(mbPerSec(w3K.bytes, w3K.ms));
    series.w3KRawRps.push(perSec(w3KRaw.records, w3KRaw.ms));
    series.w3KRawMbS.push(mbPerSec(w3KRaw.bytes, w3KRaw.ms));
    series.httpRps.push(http.rps);
    series.httpP50.push(http.p50Ms);
    series.httpP99.push(http.p99Ms);
    // The CPU split of the last repetition: which side was busy.
    Object.assign(cpuLog, {
      w1: w1.cpu,
      w2: w2.cpu,
      w3: w3.cpu,
      w3_raw: w3Raw.cpu,
      http: http.cpu,
    });
  } finally {
    for (const topic of [w1Topic, w2Topic, httpTopic]) await admin.deleteTopic(topic).catch(() => {});
  }
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const plan = planFor(opts);
  const loadAtStart = load();
  const broker = await startBenchBroker(process.env.FRESHET_BENCH_BROKER_PROFILE || undefined);
  try {
    const admin = new Admin({ url: broker.url });
    progress(
      `produce: broker pid ${broker.pid} at ${broker.url}, ${broker.workers ?? '?'} workers; warming up`,
    );
    const flushPolicy = await admin
      .createTopic('bench-probe', { partitions: 1 })
      .then((t) => t.config['flush.policy'] ?? null);
    await admin.deleteTopic('bench-probe');
    const cpu: Record<string, unknown> = {};
    const warmup = {
      label: 'warmup',
      w1Records: plan.warmupW1Records,
      w2Records: plan.warmupW2Records,
      httpSeconds: plan.warmupHttpSeconds,
    };
    await runRound(broker, admin, warmup, null, cpu);

    const series = emptySeries();
    for (let rep = 0; rep < plan.reps; rep++) {
      const round = { label: `r${rep + 1}`, ...plan };
      await runRound(broker, admin, round, series, cpu);
    }

    const out: Record<string, unknown> = { bench: 'produce' };
    putSummary(out, 'w1_rps', series.w1Rps, 0);
    putSummary(out, 'w2_mb_s', series.w2MbS);
    putSummary(out, 'w2_rps', series.w2Rps, 0);
    putSummary(out, 'w3_rps', series.w3Rps, 0);
    putSummary(out, 'w3_mb_s', series.w3MbS);
    putSummary(out, 'w3_raw_rps', series.w3RawRps, 0);
    putSummary(out, 'w3_raw_mb_s', series.w3RawMbS);
    putSummary(out, 'http_rps', series.httpRps, 0);
    putSummary(out, 'http_p50_ms', series.httpP50, 2);
    putSummary(out, 'http_p99_ms', series.httpP99, 2);
    putSummary(out, 'w1_ack_p50_ms', series.w1AckP50, 2);
    putSummary(out, 'w1_ack_p99_ms', series.w1AckP99, 2);
    putSummary(out, 'w2_ack_p99_ms', series.w2AckP99, 2);
    putSummary(out, 'w3_1k_rps', series.w3KRps, 0);
    putSummary(out, 'w3_1k_mb_s', series.w3KMbS);
    putSummary(out, 'w3_1k_raw_rps', series.w3KRawRps, 0);
    putSummary(out, 'w3_1k_raw_mb_s', series.w3KRawMbS);
    Object.assign(out, {
      cpu_cores_last_rep: cpu,
      settings: {
        w1_producer: W1_PRODUCER,
        w2_producer: W2_PRODUCER,
        consumer_fetch_bytes: CONSUMER_FETCH_BYTES,
        raw_fetch_bytes: RAW_FETCH_BYTES,
        max_poll_records: MAX_POLL_RECORDS,
        http_connections: HTTP_CONNECTIONS,
        http_body_bytes: HTTP_BODY.length,
        http_seconds: plan.httpSeconds,
        workers: broker.workers,
        flush_policy: flushPolicy,
        acks: 'all',
      },
      w1_records: plan.w1Records,
      w2_records: plan.w2Records,
      w1_value_bytes: 100,
      w2_value_bytes: KIB,
      reps: plan.reps,
      quick: opts.quick,
      load_average: { atStart: loadAtStart, atEnd: load() },
    });
    return out;
  } catch (err) {
    // A broker that died makes every request fail with a network error: say why it died.
    const report = broker.exitReport();
    if (report !== null && err instanceof Error) err.message = `${err.message}; ${report}`;
    throw err;
  } finally {
    await broker.stop();
  }
}

if (import.meta.main) await runDirectly(run);
