/** @module What replication costs (`npm run bench -- replication [--quick]`): W2 produced with acks=all to a replication-factor-3 partition against a factor-1 one in the same three-broker cluster, interleaved, and W4's fixed-rate produce latency on both; every run's records checked on every replica. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Histogram } from 'hdr-histogram-js';
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
} from './harness.ts';
import { type BenchBroker, produceRun } from './produce.ts';
import {
  type FreshetBroker,
  LATENCY_PRODUCER,
  offerAtRate,
  producerSettingsFor,
  startFreshetBroker,
} from './targets/freshet.ts';
import { newLatencyHistogram, percentileMs, recordLatencyMs, withDeadline } from './workloads/workload.ts';

/*
 * What is measured, and how:
 *
 * - One cluster for the whole run: a single-member etcd (`etcd`, Debian's etcd-server) and three brokers
 *   (`bun src/main.ts --node-id 1..3 --etcd ... --cluster <fresh name> --workers 1`, default flush policy:
 *   acknowledged in the page cache), each on its own temp data dir and free 127.0.0.1 ports, all on this
 *   machine together with the client. Started once, stopped by PID at the end (brokers first, SIGTERM, SIGKILL
 *   after 10 s; then etcd), also on failure; the temp dirs go with them.
 * - Every measurement writes a fresh one-partition topic created off the clock with replicationFactor 3 or 1
 *   (min.insync.replicas 1, the default) and deleted afterwards. The client is pointed at the partition's
 *   leader (from the create answer), after the leader's `GET /v1/replicas` shows it leading with every
 *   follower in sync. With factor 1, acks=all is the leader's own append; with 3, the leader answers once both
 *   followers have fetched past the batch.
 * - W2 exactly as bench/produce.ts runs it (its produceRun: one Producer, 1 KiB random values, lingerMs 5,
 *   512 KiB batches, 4 MiB buffer, acks=all, `send()` per record, `ready()` when full, then `flush()`; the
 *   clock from the first send to the end of flush; every send must resolve with offset i). Factor 3 and 1 take
 *   turns, the order swapped every repetition; the ratio is the median of the per-repetition ratios
 *   (neighbours in time, so the machine's speed cancels out). MB/s counts value bytes (10^6 bytes per second).
 * - W4 (produce latency): a Producer with lingerMs 0 (a batch leaves as soon as the previous one is
 *   acknowledged; W4's settings in bench/targets/freshet.ts) sends 1 KiB records at a fixed rate, paced by a
 *   1 ms timer; the time from each send() to its acknowledgement (acks=all) goes into an HDR histogram (µs, 3
 *   significant digits). In the same run a Consumer on the leader long-polls (fetchMaxWaitMs 1 s) and records
 *   receive time - send time (stamped in the value): end to end, which on factor 3 includes the high watermark
 *   reaching the consumer. p50/p99/p99.9/max per repetition, medians over the repetitions, turns as for W2.
 * - Checks, off the clock, after every run (warm-ups included): the leader's high watermark equals the
 *   records acknowledged; the topic's ISR still holds every replica (so acks=all waited for all of them); on
 *   each broker `GET /v1/replicas` lists the partition on exactly the replicas assigned, each with log end
 *   offset and (within a bounded wait for the followers' next fetch) high watermark equal to the count, and the
 *   leader sees each follower in sync at that offset.
 * - Bounded: every wait has a deadline (a measurement 120 s, quick 60 s; cluster start 60 s; checks 15 s).
 */

const NODES = [1, 2, 3] as const;
const VALUE_BYTES = KIB;
/** A latency figure this much behind the offered rate means the sender, not the broker, was the limit. */
const SENDER_LAG_NOTE_MS = 50;
const GOAL_RATIO = 0.5;
const HTTP_TIMEOUT_MS = 10_000;
const CLUSTER_START_MS = 60_000;
const CHECK_DEADLINE_MS = 15_000;
const ETCD = 'etcd';

interface Plan {
  w2Records: number;
  w2Reps: number;
  warmupRecords: number;
  latencyRate: number;
  latencySeconds: number;
  latencyReps: number;
  warmupLatencySeconds: number;
  measureDeadlineMs: number;
}

function planFor(opts: BenchOptions): Plan {
  return opts.quick
    ? {
        w2Records: 100_000,
        w2Reps: 3,
        warmupRecords: 30_000,
        latencyRate: 1_000,
        latencySeconds: 5,
        latencyReps: 1,
        warmupLatencySeconds: 1,
        measureDeadlineMs: 60_000,
      }
    : {
        w2Records: 500_000,
        w2Reps: 3,
        warmupRecords: 50_000,
        latencyRate: 5_000,
        latencySeconds: 10,
        latencyReps: 3,
        warmupLatencySeconds: 2,
        measureDeadlineMs: 120_000,
      };
}

type Factor = 1 | 3;
/** What every measurement needs: the cluster and the plan (its deadline, W4's rate). */
interface Bench {
  cluster: Cluster;
  plan: Plan;
}
/** Repetition 1, 3, ...: factor 3 first; 2, 4, ...: factor 1 first. */
const turns = (rep: number): Factor[] => (rep % 2 === 1 ? [3, 1] : [1, 3]);

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const load = () => loadavg().map((l) => round(l, 2));

/** A free TCP port on 127.0.0.1 (closed again at once; the server binds it moments later). */
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

// ------------------------------------------------------------------ etcd

interface Etcd {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A single-member etcd on free ports and `dir`, healthy before this resolves; stopped by PID. */
async function startEtcd(dir: string): Promise<Etcd> {
  const probe = spawnSync(ETCD, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0)
    throw new Error(
      `etcd is needed for this benchmark: apt-get install -y etcd-server (${probe.error?.message ?? probe.stderr})`,
    );
  const url = `http://127.0.0.1:${await freePort()}`;
  const peer = `http://127.0.0.1:${await freePort()}`;
  const child: ChildProcess = spawn(
    ETCD,
    [
      ...['--name', 'bench', '--data-dir', join(dir, 'member')],
      ...['--listen-client-urls', url, '--advertise-client-urls', url],
      ...['--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer],
      ...['--initial-cluster', `bench=${peer}`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    log = (log + chunk).slice(-8000);
  });
  child.once('error', (err) => {
    log += `\n${String(err)}`;
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const killNow = () => {
    if (alive()) child.kill('SIGKILL');
  };
  process.once('exit', killNow);
  let stopped: Promise<void> | null = null;
  const stop = () =>
    (stopped ??= (async () => {
      if (alive()) {
        child.kill('SIGTERM');
        const timer = setTimeout(killNow, 5_000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', killNow);
    })());
  const deadline = performance.now() + 20_000;
  while (true) {
    if (!alive()) {
      await stop();
      throw new Error(`etcd exited while starting: ${log}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`etcd was not healthy within 20 s: ${log}`);
    }
    await sleep(100);
  }
  return { url, pid: child.pid!, stop };
}

// ------------------------------------------------------------------ the cluster

interface Cluster {
  name: string;
  etcd: Etcd;
  /** By node id. */
  brokers: Map<number, FreshetBroker>;
  /** CPU seconds of the three brokers together; null off Linux. */
  cpuSeconds(): number | null;
  /** Why a broker is gone, if one is. */
  exitReport(): string | null;
  stop(): Promise<void>;
}

/** JSON in, JSON out, with a timeout; throws with the broker's error body on a non-2xx answer. */
async function call<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${method} ${url}${path}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  return (text === '' ? null : JSON.parse(text)) as T;
}

interface ClusterView {
  controller: { nodeId: number } | null;
  brokers: Array<{ nodeId: number }>;
}

/**
 * etcd and three brokers, each on its own dir under `root` and free ports; resolves when every broker sees all
 * three and a controller. Whatever started is stopped again when a later step fails.
 */
async function startCluster(root: string): Promise<Cluster> {
  const name = `bench-replication-${Date.now().toString(36)}`;
  const etcd = await startEtcd(join(root, 'etcd'));
  const brokers = new Map<number, FreshetBroker>();
  const cpuSeconds = () => {
    let total = 0;
    for (const broker of brokers.values()) {
      const seconds = broker.cpuSeconds();
      if (seconds === null) return null;
      total += seconds;
    }
    return total;
  };
  const exitReport = () => {
    for (const [node, broker] of brokers) {
      const report = broker.exitReport();
      if (report !== null) return `node ${node}: ${report}`;
    }
    return null;
  };
  const stop = async () => {
    await Promise.all([...brokers.values()].map((b) => b.stop()));
    await etcd.stop();
  };
  try {
    const started = await Promise.allSettled(
      NODES.map(async (node) => {
        const dataDir = join(root, `node-${node}`);
        mkdirSync(dataDir, { recursive: true });
        const [httpPort, kafkaPort] = [await freePort(), await freePort()];
        const broker = await startFreshetBroker({
          dataDir,
          // Later flags win over startFreshetBroker's own `--http-port 0 --kafka-port 0`.
          extraArgs: [
            ...['--node-id', String(node), '--etcd', etcd.url, '--cluster', name],
            ...['--http-port', String(httpPort), '--kafka-port', String(kafkaPort), '--workers', '1'],
          ],
        });
        brokers.set(node, broker);
      }),
    );
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const deadline = performance.now() + CLUSTER_START_MS;
    for (const [node, broker] of brokers) {
      while (true) {
        const view = await call<ClusterView>(broker.url, 'GET', '/v1/cluster').catch(() => null);
        if (view !== null && view.controller !== null && view.brokers.length === NODES.length) break;
        if (performance.now() > deadline)
          throw new Error(`node ${node} did not see ${NODES.length} brokers and a controller in time`);
        await sleep(100);
      }
    }
  } catch (err) {
    const report = exitReport();
    await stop();
    if (report !== null && err instanceof Error) err.message = `${err.message}; ${report}`;
    throw err;
  }
  return { name, etcd, brokers, cpuSeconds, exitReport, stop };
}

// ------------------------------------------------------------------ topics and checks

interface PartitionPlacement {
  leader: number;
  replicas: number[];
  isr: number[];
  highWatermark: number;
}

interface TopicAnswer {
  partitions: PartitionPlacement[];
}

interface ReplicaEntry {
  topic: string;
  partition: number;
  role: 'leader' | 'follower';
  logEndOffset: number;
  highWatermark: number;
  followers?: Array<{ nodeId: number; logEndOffset: number; inSync: boolean }>;
}

const topicPath = (topic: string) => `/v1/topics/${encodeURIComponent(topic)}`;

function brokerOf(cluster: Cluster, node: number): FreshetBroker {
  const broker = cluster.brokers.get(node);
  if (!broker) throw new Error(`no broker with node id ${node} in this cluster`);
  return broker;
}

type Entries = Map<number, ReplicaEntry | undefined>;

/** Each broker's entry for partition 0 of `topic` in its `GET /v1/replicas` (undefined: it holds none). */
async function replicaEntries(cluster: Cluster, topic: string): Promise<Entries> {
  const ask = async ([node, broker]: [number, FreshetBroker]) => {
    const { replicas } = await call<{ replicas: ReplicaEntry[] }>(broker.url, 'GET', '/v1/replicas');
    return [node, replicas.find((r) => r.topic === topic && r.partition === 0)] as const;
  };
  return new Map(await Promise.all([...cluster.brokers].map(ask)));
}

/**
 * What is wrong with partition 0 of `topic` against `expected` records on `placement` (null: all is well):
 * exactly the assigned replicas hold it, the leader leads, every log end offset and high watermark is
 * `expected`, the leader sees every follower in sync there.
 */
function replicaProblem(entries: Entries, placement: PartitionPlacement, expected: number): string | null {
  for (const [node, entry] of entries) {
    const assigned = placement.replicas.includes(node);
    if (!assigned) {
      if (entry !== undefined) return `node ${node} holds a replica it was not assigned`;
      continue;
    }
    if (entry === undefined) return `node ${node} holds no replica`;
    const role = node === placement.leader ? 'leader' : 'follower';
    if (entry.role !== role) return `node ${node} is ${entry.role}, expected ${role}`;
    if (entry.logEndOffset !== expected || entry.highWatermark !== expected)
      return `node ${node} (${role}): log end offset ${entry.logEndOffset}, high watermark ${entry.highWatermark}, expected ${expected}`;
    if (role === 'leader') {
      const followers = entry.followers ?? [];
      if (followers.length !== placement.replicas.length - 1)
        return `the leader knows ${followers.length} followers, ${placement.replicas.length - 1} assigned`;
      const behind = followers.find((f) => !f.inSync || f.logEndOffset !== expected);
      if (behind)
        return `the leader sees follower ${behind.nodeId} at ${behind.logEndOffset} (in sync: ${behind.inSync}), expected ${expected}`;
    }
  }
  return null;
}

/** Waits (bounded) until every replica of `topic` agrees on `expected` records (replicaProblem); throws if not. */
async function awaitReplicas(
  cluster: Cluster,
  topic: string,
  placement: PartitionPlacement,
  expected: number,
) {
  const deadline = performance.now() + CHECK_DEADLINE_MS;
  let problem: string | null = 'never checked';
  while (performance.now() < deadline) {
    const entries = await replicaEntries(cluster, topic).catch((err: unknown) => String(err));
    problem = typeof entries === 'string' ? entries : replicaProblem(entries, placement, expected);
    if (problem === null) return;
    await sleep(50);
  }
  throw new Error(`${topic}: the replicas do not agree on ${expected} records: ${problem}`);
}

/** Creates `topic` (one partition, `factor` replicas) and waits until its leader leads with every follower in sync. */
async function createTopic(cluster: Cluster, topic: string, factor: Factor): Promise<PartitionPlacement> {
  const any = brokerOf(cluster, NODES[0]);
  const created = await call<TopicAnswer>(any.url, 'POST', '/v1/topics', {
    name: topic,
    partitions: 1,
    replicationFactor: factor,
  });
  const placement = created.partitions[0]!;
  if (placement.replicas.length !== factor)
    throw new Error(`${topic}: ${placement.replicas.length} replicas assigned, asked for ${factor}`);
  await awaitReplicas(cluster, topic, placement, 0);
  return placement;
}

/**
 * The checks after a run (see the top): the leader's high watermark and ISR, then every replica's offsets,
 * waiting (bounded) for the followers' high watermarks, which follow the leader's by one fetch.
 */
async function verify(cluster: Cluster, topic: string, placement: PartitionPlacement, expected: number) {
  const leader = brokerOf(cluster, placement.leader);
  const described = await call<TopicAnswer>(leader.url, 'GET', topicPath(topic));
  const p = described.partitions[0]!;
  if (p.highWatermark !== expected)
    throw new Error(
      `${topic}: the leader's high watermark is ${p.highWatermark}, ${expected} records were acknowledged`,
    );
  if (p.leader !== placement.leader)
    throw new Error(`${topic}: leadership moved from node ${placement.leader} to ${p.leader} during the run`);
  const sorted = (nodes: number[]) => [...nodes].sort((a, b) => a - b).join();
  if (sorted(p.isr) !== sorted(placement.replicas))
    throw new Error(
      `${topic}: ISR [${p.isr.join(', ')}] after the run, replicas [${placement.replicas.join(', ')}]`,
    );
  await awaitReplicas(cluster, topic, placement, expected);
}

/** The cluster as a BenchBroker for produce.ts's produceRun: the leader's URL, the CPU of all three brokers. */
function asBenchBroker(cluster: Cluster, leader: FreshetBroker): BenchBroker {
  return {
    url: leader.url,
    pid: leader.pid,
    workers: leader.workers,
    cpuSeconds: cluster.cpuSeconds,
    exitReport: cluster.exitReport,
    stop: async () => {},
  };
}

// ------------------------------------------------------------------ W2

interface W2Sample {
  factor: Factor;
  records: number;
  ms: number;
  rps: number;
  mbS: number;
  ackP99Ms: number;
  /** Cores busy on average: this process, and the three brokers together. */
  cpu: { client: number; broker: number | null };
  leader: number;
}

async function w2Run(
  { cluster, plan }: Bench,
  topic: string,
  factor: Factor,
  records: number,
): Promise<W2Sample> {
  const placement = await createTopic(cluster, topic, factor);
  try {
    const leader = brokerOf(cluster, placement.leader);
    const run = await withDeadline(
      produceRun(
        asBenchBroker(cluster, leader),
        topic,
        records,
        VALUE_BYTES,
        producerSettingsFor(VALUE_BYTES),
      ),
      plan.measureDeadlineMs,
      `${topic}: W2`,
    );
    await verify(cluster, topic, placement, records);
    return {
      factor,
      records,
      ms: round(run.ms, 1),
      rps: records / (run.ms / 1000),
      mbS: (records * VALUE_BYTES) / MB / (run.ms / 1000),
      ackP99Ms: run.ackP99Ms,
      cpu: run.cpu,
      leader: placement.leader,
    };
  } finally {
    await deleteTopic(cluster, topic);
  }
}

async function deleteTopic(cluster: Cluster, topic: string): Promise<void> {
  await call(brokerOf(cluster, NODES[0]).url, 'DELETE', topicPath(topic)).catch((err: unknown) =>
    progress(`replication: deleting ${topic} failed (its data goes with the temp dir): ${String(err)}`),
  );
}

// ------------------------------------------------------------------ W4: produce latency at a fixed rate

interface LatencySample {
  factor: Factor;
  sent: number;
  received: number;
  ack: { p50: number; p99: number; p999: number; max: number };
  e2e: { p50: number; p99: number; p999: number; max: number };
  senderLagMaxMs: number;
  leader: number;
}

function percentiles(h: Histogram): LatencySample['ack'] {
  return {
    p50: percentileMs(h, 50),
    p99: percentileMs(h, 99),
    p999: percentileMs(h, 99.9),
    max: h.maxValue / 1000,
  };
}

async function latencyRun(
  { cluster, plan }: Bench,
  topic: string,
  factor: Factor,
  seconds: number,
): Promise<LatencySample> {
  const placement = await createTopic(cluster, topic, factor);
  const ack = newLatencyHistogram();
  const e2e = newLatencyHistogram();
  try {
    const leader = brokerOf(cluster, placement.leader);
    const out = await withDeadline(
      offerAtRate({
        url: leader.url,
        topic,
        ratePerSecond: plan.latencyRate,
        seconds,
        valueBytes: VALUE_BYTES,
        onReceived: (ms) => recordLatencyMs(e2e, ms),
        onAcknowledged: (ms) => recordLatencyMs(ack, ms),
      }),
      plan.measureDeadlineMs,
      `${topic}: W4`,
    );
    if (out.acknowledged !== out.sent)
      throw new Error(`${topic}: ${out.acknowledged} of ${out.sent} sends acknowledged`);
    await verify(cluster, topic, placement, out.sent);
    return {
      factor,
      sent: out.sent,
      received: out.received,
      ack: percentiles(ack),
      e2e: percentiles(e2e),
      senderLagMaxMs: round(out.senderLagMaxMs, 1),
      leader: placement.leader,
    };
  } finally {
    ack.destroy();
    e2e.destroy();
    await deleteTopic(cluster, topic);
  }
}

// ------------------------------------------------------------------ the run

function describeW2(s: W2Sample): string {
  return (
    `RF=${s.factor} (leader node ${s.leader}): ${Math.round(s.rps)} records/s, ${s.mbS.toFixed(1)} MB/s, ` +
    `ack p99 ${s.ackP99Ms} ms (cpu client ${s.cpu.client}, brokers ${s.cpu.broker ?? '?'})`
  );
}

function describeLatency(s: LatencySample): string {
  const f = (p: LatencySample['ack']) =>
    `p50 ${p.p50.toFixed(2)} p99 ${p.p99.toFixed(2)} p99.9 ${p.p999.toFixed(2)} max ${p.max.toFixed(1)} ms`;
  return (
    `RF=${s.factor} (leader node ${s.leader}): ack ${f(s.ack)}; end to end ${f(s.e2e)}; ` +
    `${s.received}/${s.sent} received, sender lag max ${s.senderLagMaxMs} ms`
  );
}

/** W2's figures per factor: name, decimals kept, and how to read it off a sample. */
const W2_FIGURES: ReadonlyArray<[string, number, (s: W2Sample) => number]> = [
  ['rps', 0, (s) => s.rps],
  ['mb_s', 1, (s) => s.mbS],
  ['ack_p99_ms', 2, (s) => s.ackP99Ms],
];

/** The result: medians (with min and max) per factor, the paired ratio and its goal, the samples and settings. */
function resultOf(plan: Plan, w2: W2Sample[], pairs: Array<[W2Sample, W2Sample]>, latency: LatencySample[]) {
  const out: Record<string, unknown> = { bench: 'replication' };
  const of = (factor: Factor) => w2.filter((s) => s.factor === factor);
  for (const f of [3, 1] as const) {
    const samples = of(f);
    for (const [name, digits, value] of W2_FIGURES)
      putSummary(out, `w2_rf${f}_${name}`, samples.map(value), digits);
  }
  // Paired: each repetition's factor-3 run against the factor-1 run next to it in time.
  const ratios = pairs.map(([rf3, rf1]) => rf3.rps / rf1.rps);
  putSummary(out, 'w2_rf3_rf1_ratio', ratios, 3);
  const ratio = round(median(ratios), 3);
  const met = ratio >= GOAL_RATIO;
  const medianRps = (f: Factor) => median(of(f).map((s) => s.rps));
  out.w2_rf3_rf1_ratio_of_medians = round(medianRps(3) / medianRps(1), 3);
  out.goal = `W2 RF=3 acks=all ≥ ${GOAL_RATIO} × RF=1 (paired ratio ${ratio}): ${met ? 'met' : 'not met'}`;
  out.goal_met = met;
  // The shape of the suite's goal rows (bench/suite.ts), so a report can list it beside issue 4's goals.
  const metric = 'w2_rf3_rf1_ratio';
  const goal = { workload: 'replication', variant: 'w2 rf3/rf1', target: 'freshet', metric };
  out.goals = [{ ...goal, comparison: '>=', goal: GOAL_RATIO, value: ratio, met }];
  for (const f of [3, 1] as const) {
    const samples = latency.filter((s) => s.factor === f);
    for (const kind of ['ack', 'e2e'] as const)
      for (const p of ['p50', 'p99', 'p999', 'max'] as const) {
        const values = samples.map((s) => s[kind][p]);
        putSummary(out, `w4_rf${f}_${kind}_${p}_ms`, values, 3);
      }
  }
  const etcdVersion = /Version: (\S+)/.exec(spawnSync(ETCD, ['--version'], { encoding: 'utf8' }).stdout)?.[1];
  const cores = (f: Factor, side: 'client' | 'broker') => median(of(f).map((s) => s.cpu[side] ?? Number.NaN));
  return Object.assign(out, {
    settings: {
      cluster: `etcd ${etcdVersion ?? '?'} (one member) + ${NODES.length} brokers (bun src/main.ts --workers 1, flush.policy interval), all on this machine with the client`,
      topic:
        'one partition per measurement, replicationFactor 3 or 1, min.insync.replicas 1, client on the leader',
      w2_producer: { ...producerSettingsFor(VALUE_BYTES), acks: 'all' },
      w4_producer: { ...LATENCY_PRODUCER, acks: 'all' },
      w4_consumer: { fetchMaxWaitMs: 1000, on: 'the leader' },
      w4_rate_per_s: plan.latencyRate,
      w4_seconds: plan.latencySeconds,
      value_bytes: VALUE_BYTES,
      order: 'factor 3 then 1 on odd repetitions, 1 then 3 on even ones',
    },
    // Cores busy on average during W2: the three brokers together, and this process.
    cpu_cores: {
      w2_brokers_rf3: cores(3, 'broker'),
      w2_brokers_rf1: cores(1, 'broker'),
      w2_client_rf3: cores(3, 'client'),
      w2_client_rf1: cores(1, 'client'),
    },
    samples: { w2, latency },
    w2_records: plan.w2Records,
    w2_reps: plan.w2Reps,
    w4_reps: plan.latencyReps,
  });
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const plan = planFor(opts);
  const loadAtStart = load();
  const runStart = performance.now();
  const notes: string[] = [];
  const root = makeTempDir('replication');
  // A signal or an uncaught error ends this process without the finally below: the dirs go anyway (the
  // brokers and etcd are SIGKILLed by their own exit handlers).
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  process.once('exit', removeRoot);
  let cluster: Cluster | null = null;
  try {
    cluster = await startCluster(root);
    const b: Bench = { cluster, plan };
    progress(
      `replication: cluster ${cluster.name} up in ${((performance.now() - runStart) / 1000).toFixed(1)} s: ` +
        `etcd pid ${cluster.etcd.pid}, ${[...cluster.brokers].map(([n, x]) => `node ${n} pid ${x.pid} ${x.url}`).join(', ')}`,
    );

    // Warm-up, off the clock (checked like the rest): both factors, both paths.
    for (const factor of [3, 1] as const) {
      const w = await w2Run(b, `bench-repl-warmup-w2-rf${factor}`, factor, plan.warmupRecords);
      progress(`replication: warm-up W2 ${describeW2(w)}`);
      const l = await latencyRun(b, `bench-repl-warmup-w4-rf${factor}`, factor, plan.warmupLatencySeconds);
      progress(`replication: warm-up W4 ${describeLatency(l)}`);
    }

    const w2: W2Sample[] = [];
    const pairs: Array<[W2Sample, W2Sample]> = [];
    for (let rep = 1; rep <= plan.w2Reps; rep++) {
      const got = new Map<Factor, W2Sample>();
      for (const factor of turns(rep)) {
        const sample = await w2Run(b, `bench-repl-w2-rf${factor}-r${rep}`, factor, plan.w2Records);
        progress(`replication: W2 r${rep} ${describeW2(sample)}`);
        got.set(factor, sample);
        w2.push(sample);
      }
      pairs.push([got.get(3)!, got.get(1)!]);
    }

    const latency: LatencySample[] = [];
    for (let rep = 1; rep <= plan.latencyReps; rep++) {
      for (const factor of turns(rep)) {
        const s = await latencyRun(b, `bench-repl-w4-rf${factor}-r${rep}`, factor, plan.latencySeconds);
        progress(`replication: W4 ${plan.latencyRate}/s r${rep} ${describeLatency(s)}`);
        const label = `W4 RF=${factor} r${rep}`;
        if (s.received < s.sent)
          notes.push(`${label}: ${s.sent - s.received} of ${s.sent} records never reached the consumer`);
        if (s.senderLagMaxMs > SENDER_LAG_NOTE_MS)
          notes.push(`${label}: the sender fell ${Math.round(s.senderLagMaxMs)} ms behind the offered rate`);
        latency.push(s);
      }
    }

    return Object.assign(resultOf(plan, w2, pairs, latency), {
      notes,
      quick: opts.quick,
      seconds: round((performance.now() - runStart) / 1000, 1),
      load_average: { atStart: loadAtStart, atEnd: load() },
    });
  } catch (err) {
    // A broker that died makes every request fail with a network error: say why it died.
    const report = cluster?.exitReport() ?? null;
    if (report !== null && err instanceof Error) err.message = `${err.message}; ${report}`;
    throw err;
  } finally {
    await cluster?.stop();
    process.removeListener('exit', removeRoot);
    removeDir(root);
  }
}

if (import.meta.main) await runDirectly(run);
