/** @module Freshet's two doors side by side (`npm run bench -- kafka [--quick]`): W1 (100 B) and W2 (1 KiB) produced to one partition and W3 read back from offset 0 by unmodified Kafka clients (kcat, kafkajs) on the Kafka door, and by Freshet's own HTTP client on the HTTP door, against one broker in one run. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import {
  Kafka,
  type Consumer as KafkaConsumer,
  type Producer as KafkaProducer,
  logLevel,
  Partitioners,
} from 'kafkajs';
import type { Admin } from '../src/client/index.ts';
import {
  type BenchOptions,
  KIB,
  MB,
  makeTempDir,
  median,
  progress,
  putSummary,
  removeDir,
  round,
  runDirectly,
  settle,
} from './harness.ts';
import { FreshetTarget } from './targets/freshet.ts';
import type { ProduceSpec } from './targets/target.ts';

/*
 * What is measured, and how. One broker process (`bun src/main.ts`, started and stopped by PID by the suite's
 * FreshetTarget, default workers and flush policy (interval: page-cache durability), with `--kafka-port` on a
 * free port and `--group-initial-rebalance-delay-ms 0`) serves both doors; each figure is one client:
 *
 * - kcat (librdkafka, a child process): produce `kcat -P -t <topic> -X linger.ms=5 -X batch.num.messages=10000
 *   -l <file>` from a file written off the clock (one value per line, librdkafka's defaults otherwise: acks all,
 *   no compression); the clock runs from spawn to exit, so it includes kcat's start-up and metadata round trip.
 *   Consume `kcat -C -t <topic> -e -o beginning -q` into a file (page cache), its lines counted afterwards.
 * - kafkajs (in this process, under Bun): produce with `producer.send({acks: 1})` of batches of ~512 KiB of
 *   values (kafkajs sends each as one RecordBatch; the topic's max.message.bytes, 1 MiB, caps a batch), up to 4
 *   sends in flight, Java's partitioner; a producer connected off the clock. Consume: a consumer in a fresh
 *   group from the beginning, `eachBatch` counting records; the clock starts at its GROUP_JOIN (kafkajs has no
 *   assign(), so the join is off the clock) and stops at the last record.
 * - http: the comparative suite's own FreshetTarget.produce (Producer, acks=all, its tuned batch settings) and
 *   FreshetTarget.consume, decoded (Consumer) and raw (record batches counted from their headers).
 *
 * W1 and W2 write a fresh topic of one partition per client and repetition (deleted afterwards) and check its
 * high watermark; the clients take turns, in a rotated order each repetition. W3 reads two topics (100 B and
 * 1 KiB printable values) produced once, off the clock, by kcat. Each client is warmed up off the clock
 * first. Figures: records/s and MB/s (10^6 bytes of values per second), medians over the repetitions, and each
 * Kafka client's ratio to the HTTP client (the median of per-repetition ratios, neighbours in time). kafkajs
 * produces a fifth of the records of the others (it encodes at ~30-40k records/s); rates compare, not totals.
 */

const VALUE_100_B = 100;
const VALUE_1_KIB = KIB;
/** kafkajs batches: about this many bytes of values per send (under the topic's 1 MiB max.message.bytes). */
const KAFKAJS_BATCH_BYTES = 512 * KIB;
const KAFKAJS_IN_FLIGHT = 4;
/** Longest one measurement may take before it is given up. */
const MEASURE_DEADLINE_MS = 180_000;

type ProduceClient = 'kcat' | 'kafkajs' | 'http';
type ConsumeClient = 'kcat' | 'kafkajs' | 'http' | 'http_raw';
const PRODUCE_CLIENTS: readonly ProduceClient[] = ['kcat', 'kafkajs', 'http'];
const CONSUME_CLIENTS: readonly ConsumeClient[] = ['kcat', 'kafkajs', 'http', 'http_raw'];

interface Plan {
  reps: number;
  /** Records per produce measurement: W1 and W2, for kcat and the HTTP client. */
  w1Records: number;
  w2Records: number;
  /** kafkajs's share of that. */
  kafkajsFraction: number;
  warmupRecords: number;
}

function planFor(opts: BenchOptions): Plan {
  return opts.quick
    ? { reps: 2, w1Records: 100_000, w2Records: 40_000, kafkajsFraction: 0.2, warmupRecords: 10_000 }
    : { reps: 3, w1Records: 1_000_000, w2Records: 500_000, kafkajsFraction: 0.2, warmupRecords: 50_000 };
}

interface Sample {
  records: number;
  bytes: number;
  seconds: number;
}

const rps = (s: Sample) => s.records / s.seconds;
const mbs = (s: Sample) => s.bytes / MB / s.seconds;

// ------------------------------------------------------------------ helpers

/** A free TCP port on 127.0.0.1 (closed again at once; the broker binds it moments later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Printable random values of `size` bytes (no newline: kcat reads one value per line). */
function randomLines(size: number, count: number): string[] {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from({ length: count }, () => {
    let line = '';
    for (let i = 0; i < size; i++) line += alphabet[Math.floor(Math.random() * alphabet.length)];
    return line;
  });
}

/** A file of `records` lines cycling through a pool of random values, for `kcat -P -l`. */
function valueFile(dir: string, size: number, records: number): string {
  const pool = randomLines(size, 64);
  const file = join(dir, `values-${size}-${records}.txt`);
  const lines: string[] = new Array(records);
  for (let i = 0; i < records; i++) lines[i] = pool[i % pool.length]!;
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function kcatVersion(): string {
  const probe = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (probe.status !== 0)
    throw new Error(
      `kcat is needed for this benchmark: apt-get install -y kcat (${probe.error?.message ?? probe.stderr})`,
    );
  return /Version (\S+) .*librdkafka (\S+)/.exec(probe.stdout)?.slice(1, 3).join(', librdkafka ') ?? '?';
}

function kafkajsVersion(): string {
  try {
    return (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Children of this run, killed (by PID) if the run ends early. */
const children = new Set<ChildProcess>();

/**
 * Runs kcat to its exit within the deadline, its stdout going to `stdoutFile` (a file: reading kcat's output
 * through a pipe into this process cost more than kcat itself) or nowhere. Returns the wall time from spawn to
 * exit; throws with kcat's stderr on a failure.
 */
function runKcat(args: readonly string[], stdoutFile?: string): Promise<number> {
  const out = stdoutFile === undefined ? 'ignore' : openSync(stdoutFile, 'w');
  const start = performance.now();
  const child = spawn('kcat', args, { stdio: ['ignore', out, 'pipe'] });
  if (typeof out === 'number') closeSync(out);
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), MEASURE_DEADLINE_MS);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      children.delete(child);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      const ms = performance.now() - start;
      if (code === 0) resolve(ms);
      else reject(new Error(`kcat ${args.join(' ')} failed (exit ${code}, signal ${signal}): ${stderr}`));
    });
  });
}

/** Newlines in a file, read in 4 MiB chunks. */
function countLines(file: string): number {
  const fd = openSync(file, 'r');
  const chunk = Buffer.allocUnsafe(4 * MB);
  let lines = 0;
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      const view = n === chunk.length ? chunk : chunk.subarray(0, n);
      for (let at = view.indexOf(10); at >= 0; at = view.indexOf(10, at + 1)) lines++;
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

function withDeadline<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: gave up after ${MEASURE_DEADLINE_MS} ms`)),
      MEASURE_DEADLINE_MS,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

// ------------------------------------------------------------------ the clients

interface Doors {
  target: FreshetTarget;
  admin: Admin;
  kafkaAddress: string;
  kafka: Kafka;
  producer: KafkaProducer;
  dir: string;
}

async function highWatermark(doors: Doors, topic: string): Promise<number> {
  const described = await doors.admin.describeTopic(topic);
  return described.partitions.reduce((sum, p) => sum + p.highWatermark, 0);
}

async function kcatProduce(
  doors: Doors,
  topic: string,
  file: string,
  records: number,
  size: number,
): Promise<Sample> {
  settle();
  const ms = await runKcat([
    '-b',
    doors.kafkaAddress,
    '-P',
    '-t',
    topic,
    '-X',
    'linger.ms=5',
    '-X',
    'batch.num.messages=10000',
    '-l',
    file,
  ]);
  return { records, bytes: records * size, seconds: ms / 1000 };
}

async function kafkajsProduce(doors: Doors, topic: string, records: number, size: number): Promise<Sample> {
  const value = Buffer.from(randomLines(size, 1)[0]!);
  const perBatch = Math.max(1, Math.floor(KAFKAJS_BATCH_BYTES / size));
  const inFlight: Promise<unknown>[] = [];
  settle();
  const start = performance.now();
  for (let at = 0; at < records; at += perBatch) {
    const count = Math.min(perBatch, records - at);
    inFlight.push(
      doors.producer.send({ topic, acks: 1, messages: Array.from({ length: count }, () => ({ value })) }),
    );
    if (inFlight.length >= KAFKAJS_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return { records, bytes: records * size, seconds: (performance.now() - start) / 1000 };
}

async function kcatConsume(doors: Doors, topic: string, records: number, size: number): Promise<Sample> {
  const output = join(doors.dir, 'kcat-consume.out');
  settle();
  const ms = await runKcat(
    ['-b', doors.kafkaAddress, '-C', '-t', topic, '-e', '-o', 'beginning', '-q'],
    output,
  );
  // Checked off the clock: one line per record (the values are printable, without newlines).
  const lines = countLines(output);
  rmSync(output, { force: true });
  if (lines !== records) throw new Error(`kcat read ${lines} records of ${topic}, expected ${records}`);
  return { records, bytes: records * size, seconds: ms / 1000 };
}

let groupCounter = 0;

async function kafkajsConsume(doors: Doors, topic: string, records: number, size: number): Promise<Sample> {
  const consumer: KafkaConsumer = doors.kafka.consumer({
    groupId: `bench-kafka-${process.pid}-${++groupCounter}`,
  });
  let received = 0;
  let bytes = 0;
  let joinedAt = 0;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      joinedAt = performance.now();
    });
    settle();
    const done = new Promise<number>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          received += batch.messages.length;
          for (const m of batch.messages) bytes += m.value?.length ?? 0;
          if (received >= records) resolve(performance.now());
        },
      });
    });
    const end = await withDeadline(done, `kafkajs consume ${topic}`);
    if (joinedAt === 0) throw new Error(`kafkajs consume ${topic}: no GROUP_JOIN event`);
    if (received !== records)
      throw new Error(`kafkajs read ${received} records of ${topic}, expected ${records}`);
    if (bytes !== records * size) throw new Error(`kafkajs read ${bytes} value bytes of ${topic}`);
    return { records, bytes, seconds: (end - joinedAt) / 1000 };
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

const specOf = (stream: string, records: number, valueBytes: number): ProduceSpec => ({
  stream,
  partitions: 1,
  producers: 1,
  records,
  valueBytes,
});

/** One produce measurement to a fresh one-partition topic, checked and deleted afterwards. */
async function produceOnce(
  doors: Doors,
  client: ProduceClient,
  topic: string,
  size: number,
  records: number,
  files: Map<string, string>,
): Promise<Sample> {
  const spec = specOf(topic, records, size);
  await doors.target.create(spec);
  try {
    let sample: Sample;
    if (client === 'kcat') {
      const key = `${size}/${records}`;
      if (!files.has(key)) files.set(key, valueFile(doors.dir, size, records));
      sample = await withDeadline(kcatProduce(doors, topic, files.get(key)!, records, size), `kcat ${topic}`);
    } else if (client === 'kafkajs') {
      sample = await withDeadline(kafkajsProduce(doors, topic, records, size), `kafkajs ${topic}`);
    } else {
      sample = await withDeadline(doors.target.produce(spec), `http ${topic}`);
    }
    const stored = await highWatermark(doors, topic);
    if (stored !== records)
      throw new Error(`${client}: ${topic} holds ${stored} records, expected ${records}`);
    return sample;
  } finally {
    await doors.admin.deleteTopic(topic).catch(() => {});
  }
}

async function consumeOnce(doors: Doors, client: ConsumeClient, spec: ProduceSpec): Promise<Sample> {
  const { stream, records, valueBytes } = spec;
  if (client === 'kcat') return kcatConsume(doors, stream, records, valueBytes);
  if (client === 'kafkajs') return kafkajsConsume(doors, stream, records, valueBytes);
  return withDeadline(
    doors.target.consume(spec, client === 'http' ? 'decoded' : 'raw'),
    `${client} ${stream}`,
  );
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

// ------------------------------------------------------------------ the run

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const plan = planFor(opts);
  const versions = { kcat: kcatVersion(), kafkajs: kafkajsVersion() };
  const dir = makeTempDir('kafka');
  const dataDir = makeTempDir('kafka-data');
  const port = await freePort();
  const target = new FreshetTarget(['--kafka-port', String(port), '--group-initial-rebalance-delay-ms', '0']);
  const killChildren = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killChildren);
  const out: Record<string, unknown> = { bench: 'kafka' };
  const notes: string[] = [];
  const producer: { current: KafkaProducer | null } = { current: null };
  try {
    await target.start({ dir: dataDir, durability: 'os-cache' });
    const kafkaAddress = `127.0.0.1:${port}`;
    const kafka = new Kafka({
      clientId: 'freshet-bench',
      brokers: [kafkaAddress],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3 },
    });
    producer.current = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.current.connect();
    const doors: Doors = {
      target,
      admin: target.admin(),
      kafkaAddress,
      kafka,
      producer: producer.current,
      dir,
    };
    const files = new Map<string, string>();
    /** Fills a topic with kcat, off the clock: printable values, so `kcat -C` prints one line per record. */
    const produceText = async (spec: ProduceSpec) => {
      await target.create(spec);
      const key = `${spec.valueBytes}/${spec.records}`;
      if (!files.has(key)) files.set(key, valueFile(dir, spec.valueBytes, spec.records));
      await kcatProduce(doors, spec.stream, files.get(key)!, spec.records, spec.valueBytes);
      const stored = await highWatermark(doors, spec.stream);
      if (stored !== spec.records)
        throw new Error(`${spec.stream} holds ${stored} records, expected ${spec.records}`);
    };
    const recordsFor = (client: ProduceClient, records: number) =>
      client === 'kafkajs' ? Math.round(records * plan.kafkajsFraction) : records;

    // Warm-up, off the clock: every client produces and reads a small topic once.
    progress('kafka: warming up');
    const warm = specOf('kafka-warmup', plan.warmupRecords, VALUE_100_B);
    await produceText(warm);
    for (const client of PRODUCE_CLIENTS)
      await produceOnce(doors, client, `kafka-warmup-${client}`, VALUE_100_B, plan.warmupRecords, files);
    for (const client of CONSUME_CLIENTS) await consumeOnce(doors, client, warm);

    // W1 and W2: produce.
    const workloads = [
      { name: 'w1', size: VALUE_100_B, records: plan.w1Records },
      { name: 'w2', size: VALUE_1_KIB, records: plan.w2Records },
    ];
    const produced = new Map<string, Sample[]>();
    for (let rep = 0; rep < plan.reps; rep++) {
      for (const w of workloads) {
        for (const client of rotate(PRODUCE_CLIENTS, rep)) {
          const records = recordsFor(client, w.records);
          const sample = await produceOnce(
            doors,
            client,
            `kafka-${w.name}-${client}-r${rep}`,
            w.size,
            records,
            files,
          );
          progress(
            `kafka: ${w.name} ${client} r${rep + 1}: ${Math.round(rps(sample))} records/s, ${round(mbs(sample))} MB/s`,
          );
          const key = `${w.name}_${client}`;
          produced.set(key, [...(produced.get(key) ?? []), sample]);
        }
      }
    }

    // W3: consume from offset 0 the W1- and W2-sized topics, produced once by kcat.
    const streams = [
      { name: 'w3_100', spec: specOf('kafka-w3-100', plan.w1Records, VALUE_100_B) },
      { name: 'w3_1k', spec: specOf('kafka-w3-1k', plan.w2Records, VALUE_1_KIB) },
    ];
    for (const s of streams) await produceText(s.spec);
    const consumed = new Map<string, Sample[]>();
    for (let rep = 0; rep < plan.reps; rep++) {
      for (const s of streams) {
        for (const client of rotate(CONSUME_CLIENTS, rep)) {
          const sample = await consumeOnce(doors, client, s.spec);
          progress(
            `kafka: ${s.name} ${client} r${rep + 1}: ${Math.round(rps(sample))} records/s, ${round(mbs(sample))} MB/s`,
          );
          const key = `${s.name}_${client}`;
          consumed.set(key, [...(consumed.get(key) ?? []), sample]);
        }
      }
    }

    // kcat's fixed costs, in every kcat figure above: start-up, metadata and one produced record; start-up,
    // metadata and the wait at the end of an empty log (the broker holds that fetch for librdkafka's
    // fetch.wait.max.ms, 500 ms, before `-e` sees the end).
    const fixedProduce: number[] = [];
    const fixedConsume: number[] = [];
    const oneLine = valueFile(dir, VALUE_100_B, 1);
    for (let rep = 0; rep < plan.reps; rep++) {
      const topic = `kafka-fixed-r${rep}`;
      await doors.target.create(specOf(topic, 0, VALUE_100_B));
      fixedConsume.push(
        await runKcat(['-b', kafkaAddress, '-C', '-t', topic, '-e', '-o', 'beginning', '-q']),
      );
      fixedProduce.push(
        await runKcat(['-b', kafkaAddress, '-P', '-t', topic, '-X', 'linger.ms=5', '-l', oneLine]),
      );
      await doors.admin.deleteTopic(topic).catch(() => {});
    }
    putSummary(out, 'kcat_fixed_produce_ms', fixedProduce, 0);
    putSummary(out, 'kcat_fixed_consume_ms', fixedConsume, 0);

    // Figures: medians, and each Kafka client's rate over the HTTP client's (paired by repetition).
    const figures = (key: string, samples: readonly Sample[]) => {
      putSummary(out, `${key}_rps`, samples.map(rps), 0);
      putSummary(out, `${key}_mb_s`, samples.map(mbs), 1);
    };
    const ratio = (key: string, samples: readonly Sample[], against: readonly Sample[]) => {
      out[`${key}_vs_http`] = round(median(samples.map((s, i) => rps(s) / rps(against[i]!))), 2);
    };
    for (const w of workloads) {
      for (const client of PRODUCE_CLIENTS)
        figures(`${w.name}_${client}`, produced.get(`${w.name}_${client}`)!);
      for (const client of ['kcat', 'kafkajs'] as const)
        ratio(`${w.name}_${client}`, produced.get(`${w.name}_${client}`)!, produced.get(`${w.name}_http`)!);
    }
    for (const s of streams) {
      for (const client of CONSUME_CLIENTS)
        figures(`${s.name}_${client}`, consumed.get(`${s.name}_${client}`)!);
      for (const client of ['kcat', 'kafkajs'] as const)
        ratio(`${s.name}_${client}`, consumed.get(`${s.name}_${client}`)!, consumed.get(`${s.name}_http`)!);
    }
    notes.push(
      'kcat figures run from spawn to exit: they include its start-up and metadata round trip and, consuming, the ' +
        "broker's hold of the last fetch at the end of the log (fetch.wait.max.ms 500); kcat_fixed_produce_ms and " +
        'kcat_fixed_consume_ms measure those fixed costs (one record produced; an empty topic read to its end)',
      'kafkajs consume figures start at its GROUP_JOIN (it has no assign()); kafkajs produce uses acks=1, the others acks=all (one node: the same durability)',
    );
  } finally {
    await producer.current?.disconnect().catch(() => {});
    killChildren();
    process.removeListener('exit', killChildren);
    await target.stop();
    removeDir(dir);
    removeDir(dataDir);
  }

  Object.assign(out, {
    reps: plan.reps,
    quick: opts.quick,
    records: {
      w1: plan.w1Records,
      w2: plan.w2Records,
      w1_kafkajs: Math.round(plan.w1Records * plan.kafkajsFraction),
      w2_kafkajs: Math.round(plan.w2Records * plan.kafkajsFraction),
      w3_100: plan.w1Records,
      w3_1k: plan.w2Records,
    },
    value_bytes: { w1: VALUE_100_B, w2: VALUE_1_KIB },
    clients: {
      kcat: `kcat ${versions.kcat}: -P -X linger.ms=5 -X batch.num.messages=10000 -l <file>; -C -e -o beginning -q`,
      kafkajs: `kafkajs ${versions.kafkajs} under ${process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`}: send() of ~${KAFKAJS_BATCH_BYTES / KIB} KiB batches, acks 1, ${KAFKAJS_IN_FLIGHT} in flight; a group consumer, eachBatch`,
      http: target.describe(),
    },
    notes,
  });
  return out;
}

if (import.meta.main) await runDirectly(run);
