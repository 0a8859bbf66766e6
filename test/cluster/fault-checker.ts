/**
 * @module
 * A Jepsen-style checker of replication under faults, with real processes: one etcd and three brokers
 * (replication factor 3, min.insync.replicas 2), a topic of 3 partitions, a few producers sending unique
 * values (`p<producer>-<seq>`) with acks=all, and a nemesis that, one fault at a time and seeded, kills a
 * broker with SIGKILL and restarts it on its data dir, freezes one with SIGSTOP, and once kills etcd. Then
 * it heals everything, waits until every partition has a leader, a full ISR and equal log ends, and has
 * test/cluster/fault-verify.ts check the outcome: every acknowledged value at its offset, no value more often
 * than it was sent, the log in real-time order, and the three replicas byte-identical below the high
 * watermark. That module also formats the report.
 *
 * A produce that fails (an error answer, a timeout, a dropped connection) is indeterminate: it may have
 * been appended, so it is retried with the same value (up to MAX_ATTEMPTS times) and counted as retried.
 * Every process it starts is stopped by its own handle at the end, also on failure; with a violation the
 * work dir (data dirs and every broker's log) is kept and named in the report.
 *
 * Used by test/cluster/fault-injection.test.ts (short, in CI) and test/cluster/fault-check.ts (longer runs, `npm run chaos`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClusterStatusBody, ReplicaStatusBody } from '../../src/http/routes/cluster.ts';
import type { BrokerHandle } from '../support/broker.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd.ts';
import { seededRandom } from '../support/seeded-random.ts';
import {
  type ErrorBody,
  type FaultCheckReport,
  type FaultKind,
  type Findings,
  getJson,
  type PartitionReport,
  type SentValue,
  verify,
} from './fault-verify.ts';
import { startClusterBroker, waitFor } from './support.ts';

export const TOPIC = 'faults';
export const PARTITIONS = 3;
const NODE_IDS = [1, 2, 3] as const;
const BROKER_ARGS = (
  '--replica-lag-time-max-ms 2000 --min-insync-replicas 2 --default-replication-factor 3 ' +
  '--replica-ack-timeout-ms 5000'
).split(' ');
/** Longer than --replica-ack-timeout-ms, so a slow acks=all is answered before the client gives up. */
const PRODUCE_TIMEOUT_MS = 6_000;
const METADATA_TIMEOUT_MS = 2_000;
/** Attempts per value (the first and its retries) before the producer gives up on it. */
const MAX_ATTEMPTS = 6;
const HEAL_TIMEOUT_MS = 60_000;
/** Violations listed in full in the report; the rest are counted. */
const MAX_LISTED = 40;

export interface FaultCheckOptions {
  /** How long producers and the nemesis run. */
  seconds: number;
  /** Seeds the nemesis (which fault, which broker, how long) and the producers' partition choices. */
  seed: number;
  /** Concurrent producers; default 4. */
  producers?: number;
  /**
   * Values each producer starts per second at most; default 50 (a few thousand values a run, without
   * starving the other tests that share a CI machine). Each still waits for its answer before the next.
   */
  ratePerProducer?: number;
  /** Where progress and faults are written, one line each; default console.log. */
  log?: (line: string) => void;
  /** Extra broker flags (e.g. ['--log-level', 'debug']). */
  brokerArgs?: string[];
  /** Keep the work dir (data dirs and logs) even when the run is correct; it is always kept on a violation. */
  keep?: boolean;
}

/** A sent value and the producer that sent it. */
interface ProducedValue extends SentValue {
  producer: number;
}

type ProduceOutcome = { ok: true; offset: number } | { ok: false; reason: string };

interface TopicBody {
  partitions: Array<{ partition: number; leader?: number }>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

function failureReason(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network';
}

/** One acks=all produce of one value to one partition at `url`. */
async function produceOnce(url: string, partition: number, value: string): Promise<ProduceOutcome> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${url}/v1/topics/${TOPIC}/records?acks=all`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ records: [{ value, partition }] }),
      signal: AbortSignal.timeout(PRODUCE_TIMEOUT_MS),
    });
    text = await res.text();
  } catch (err) {
    return { ok: false, reason: failureReason(err) };
  }
  try {
    const body = JSON.parse(text) as ErrorBody & { results?: Array<{ partition: number; offset: number }> };
    if (res.status === 200) {
      const result = body.results?.[0];
      if (result?.partition === partition && Number.isSafeInteger(result.offset)) {
        return { ok: true, offset: result.offset };
      }
      return { ok: false, reason: 'bad answer' };
    }
    return { ok: false, reason: body.error?.code ?? `HTTP ${res.status}` };
  } catch {
    return { ok: false, reason: `HTTP ${res.status}` };
  }
}

/**
 * What the producers know of the cluster: each broker's address (a bootstrap list the checker keeps up to
 * date as brokers restart on new ports) and each partition's leader, cached from `GET /v1/topics/:topic`
 * and refreshed from the next broker in turn (one refresh at a time, shared by all producers).
 */
class LeaderCache {
  readonly urls = new Map<number, string>();
  private readonly leaders = new Map<number, number>();
  private nextBroker = 0;
  private refreshing: Promise<void> | null = null;

  /** The leader's address, or undefined while none is known. */
  leaderUrl(partition: number): { nodeId: number; url: string } | undefined {
    const nodeId = this.leaders.get(partition);
    if (nodeId === undefined) return undefined;
    const url = this.urls.get(nodeId);
    return url === undefined ? undefined : { nodeId, url };
  }

  /** Asks the brokers in turn, skipping `avoid` (one that did not answer), until one describes the topic. */
  refresh(avoid?: number): Promise<void> {
    this.refreshing ??= this.refreshNow(avoid).finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshNow(avoid?: number): Promise<void> {
    for (let i = 0; i < NODE_IDS.length; i++) {
      const nodeId = NODE_IDS[this.nextBroker++ % NODE_IDS.length]!;
      const url = this.urls.get(nodeId);
      if (nodeId === avoid || url === undefined) continue;
      try {
        const body = await getJson<TopicBody>(`${url}/v1/topics/${TOPIC}`, METADATA_TIMEOUT_MS);
        for (const p of body.partitions) {
          if (typeof p.leader === 'number' && p.leader >= 0) this.leaders.set(p.partition, p.leader);
          else this.leaders.delete(p.partition);
        }
        return;
      } catch {
        // Down, frozen or not ready: ask the next one.
      }
    }
  }
}

/** The run's shared state and the processes it owns. */
class FaultRun {
  readonly options: Required<FaultCheckOptions>;
  readonly random: () => number;
  readonly t0 = performance.now();
  readonly workDir = mkdtempSync(path.join(tmpdir(), 'freshet-faults-'));
  readonly cluster: string;
  readonly cache = new LeaderCache();
  readonly brokers = new Map<number, BrokerHandle>();
  readonly paused = new Set<number>();
  /** Broker incarnations started so far, per node id (names their saved logs). */
  private readonly incarnations = new Map<number, number>();
  etcd: EtcdHandle | null = null;
  readonly sent = new Map<string, ProducedValue>();
  attempts = 0;
  indeterminate = 0;
  readonly failures: Record<string, number> = {};
  readonly faults: Record<FaultKind, number> = { kill: 0, pause: 0, 'etcd-kill': 0 };
  readonly violations: string[] = [];
  readonly found: Findings = {
    lost: 0,
    misplaced: 0,
    unexplainedDuplicates: 0,
    retriedDuplicates: 0,
    unknown: 0,
    unackedPresent: 0,
    orderViolations: 0,
    divergentPartitions: 0,
  };
  readonly partitions: PartitionReport[] = [];
  violationCount = 0;
  deadline = Number.POSITIVE_INFINITY;

  constructor(options: FaultCheckOptions) {
    this.options = {
      producers: 4,
      ratePerProducer: 50,
      log: (line: string) => console.log(line),
      brokerArgs: [],
      keep: false,
      ...options,
    };
    this.random = seededRandom(options.seed);
    this.cluster = `faults-${options.seed >>> 0}`;
  }

  log(line: string): void {
    const seconds = ((performance.now() - this.t0) / 1000).toFixed(1).padStart(6);
    this.options.log(`[+${seconds} s] ${line}`);
  }

  violation(text: string): void {
    this.violationCount++;
    if (this.violations.length < MAX_LISTED) this.violations.push(text);
    else if (this.violations.length === MAX_LISTED) this.violations.push('... (more violations not listed)');
  }

  dataDir(nodeId: number): string {
    const dir = path.join(this.workDir, `broker-${nodeId}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  async startBroker(nodeId: number): Promise<BrokerHandle> {
    const broker = await startClusterBroker(
      nodeId,
      this.etcd!.url,
      this.cluster,
      [...BROKER_ARGS, ...this.options.brokerArgs],
      this.dataDir(nodeId),
    );
    this.incarnations.set(nodeId, (this.incarnations.get(nodeId) ?? 0) + 1);
    this.brokers.set(nodeId, broker);
    this.cache.urls.set(nodeId, broker.url);
    return broker;
  }

  /** Writes a broker incarnation's log to the work dir (kept with a violation). */
  saveLog(nodeId: number, broker: BrokerHandle): void {
    const dir = path.join(this.workDir, 'logs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, `broker-${nodeId}.${this.incarnations.get(nodeId) ?? 0}.log`),
      broker.stderr(),
    );
  }

  /** Resumes what is frozen, stops every broker and etcd (each by its own handle), saves their logs. */
  async shutdown(): Promise<void> {
    for (const nodeId of this.paused) {
      const pid = this.brokers.get(nodeId)?.process.pid;
      if (pid !== undefined) process.kill(pid, 'SIGCONT');
    }
    this.paused.clear();
    await Promise.all(
      [...this.brokers].map(async ([nodeId, broker]) => {
        await broker.stop();
        this.saveLog(nodeId, broker);
      }),
    );
    this.brokers.clear();
    if (this.etcd !== null) {
      writeFileSync(path.join(this.workDir, 'etcd.log'), this.etcd.log());
      await this.etcd.stop();
    }
  }
}

/** Any live broker's `GET /v1/cluster`, the first that answers. */
async function clusterView(run: FaultRun): Promise<ClusterStatusBody> {
  let last: unknown;
  for (const broker of run.brokers.values()) {
    try {
      return await getJson<ClusterStatusBody>(`${broker.url}/v1/cluster`, METADATA_TIMEOUT_MS);
    } catch (err) {
      last = err;
    }
  }
  throw last instanceof Error ? last : new Error('no broker answered GET /v1/cluster');
}

/** Starts etcd and the brokers, creates the topic and waits for a leader and a full ISR everywhere. */
async function setUp(run: FaultRun): Promise<void> {
  run.etcd = await startEtcd();
  // Settled, not all: a broker still starting when another failed would escape the shutdown.
  const started = await Promise.allSettled(NODE_IDS.map((nodeId) => run.startBroker(nodeId)));
  for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;
  run.log(
    `etcd ${run.etcd.url}; brokers ${NODE_IDS.map((id) => `${id}=${run.brokers.get(id)!.url} (pid ${run.brokers.get(id)!.process.pid})`).join(', ')}`,
  );
  const first = run.brokers.get(1)!;
  await waitFor('the topic to be created', 30_000, async () => {
    const res = await fetch(`${first.url}/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name: TOPIC, partitions: PARTITIONS, replicationFactor: 3 }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    // An earlier attempt that timed out may have created it.
    if (res.status === 201 || text.includes('TOPIC_ALREADY_EXISTS')) return true;
    throw new Error(`create topic: ${res.status} ${text}`);
  });
  const { value: ready } = await waitFor('leaders and full ISRs', 30_000, async () => {
    const view = await clusterView(run);
    const parts = view.partitions.filter((p) => p.topic === TOPIC);
    return parts.length === PARTITIONS && parts.every((p) => p.leader > 0 && p.isr.length === 3)
      ? parts
      : undefined;
  });
  run.log(
    `topic '${TOPIC}': ${ready.map((p) => `p${p.partition} leader ${p.leader} isr [${p.isr}]`).join('; ')}`,
  );
  await run.cache.refresh();
}

/** One producer: unique values, one at a time, acks=all, to a seeded-random partition's leader. */
async function produceLoop(run: FaultRun, producer: number): Promise<void> {
  const random = seededRandom((run.options.seed * 31 + producer) >>> 0);
  const intervalMs = 1000 / run.options.ratePerProducer;
  let nextStart = performance.now();
  for (let seq = 0; performance.now() < run.deadline; seq++) {
    await sleep(nextStart - performance.now());
    nextStart = Math.max(nextStart + intervalMs, performance.now());
    const entry: ProducedValue = {
      value: `p${producer}-${seq}`,
      partition: Math.floor(random() * PARTITIONS),
      producer,
      attempts: 0,
      firstSentAt: 0,
      acked: null,
      history: [],
    };
    while (performance.now() < run.deadline && entry.attempts < MAX_ATTEMPTS) {
      const leader = run.cache.leaderUrl(entry.partition);
      if (leader === undefined) {
        await run.cache.refresh();
        await sleep(100 + random() * 200);
        continue;
      }
      if (entry.attempts === 0) {
        entry.firstSentAt = performance.now();
        run.sent.set(entry.value, entry);
      }
      entry.attempts++;
      run.attempts++;
      const sentAt = Date.now();
      const outcome = await produceOnce(leader.url, entry.partition, entry.value);
      entry.history.push(
        `broker ${leader.nodeId} at ${new Date(sentAt).toISOString().slice(11, 23)} → ` +
          `${outcome.ok ? `offset ${outcome.offset}` : outcome.reason} (${Date.now() - sentAt} ms)`,
      );
      if (outcome.ok) {
        entry.acked = { offset: outcome.offset, at: performance.now() };
        break;
      }
      run.indeterminate++;
      run.failures[outcome.reason] = (run.failures[outcome.reason] ?? 0) + 1;
      const unreachable = outcome.reason === 'timeout' || outcome.reason === 'network';
      await run.cache.refresh(unreachable ? leader.nodeId : undefined);
      // Backing off, as clients do, lets a value's retries span a failover (a lease TTL and an election).
      await sleep(Math.min(2_000, 100 * 2 ** (entry.attempts - 1)) * (0.5 + random()));
    }
  }
}

/** One fault at a time, every 2-5 s, until the deadline; each is healed before the next. */
async function nemesis(run: FaultRun): Promise<void> {
  const { random } = run;
  const durationMs = run.options.seconds * 1000;
  const start = performance.now();
  const etcdAt = start + (0.2 + 0.3 * random()) * durationMs;
  let etcdDone = false;
  // Kills and pauses come from a shuffled bag of one each, so even a short run sees both.
  let bag: Array<'kill' | 'pause'> = [];
  for (;;) {
    await sleep(Math.min(2_000 + 3_000 * random(), run.deadline - performance.now()));
    if (performance.now() >= run.deadline) return;
    if (!etcdDone && performance.now() >= etcdAt) {
      etcdDone = true;
      run.faults['etcd-kill']++;
      run.log('nemesis: kill -9 etcd');
      await run.etcd!.kill();
      await sleep(2_000);
      await run.etcd!.restart();
      run.log('nemesis: etcd restarted');
      continue;
    }
    const down = NODE_IDS.find((id) => !run.brokers.has(id));
    if (down !== undefined) {
      // Its restart failed (a violation already): try again rather than take a second broker down.
      await restartBroker(run, down);
      continue;
    }
    const nodeId = NODE_IDS[Math.floor(random() * NODE_IDS.length)]!;
    const broker = run.brokers.get(nodeId)!;
    if (bag.length === 0) bag = random() < 0.5 ? ['kill', 'pause'] : ['pause', 'kill'];
    if (bag.shift() === 'kill') {
      const downMs = 1_000 + 2_000 * random();
      run.faults.kill++;
      run.log(
        `nemesis: kill -9 broker ${nodeId} (pid ${broker.process.pid}), restart in ${downMs.toFixed(0)} ms`,
      );
      await broker.kill9();
      run.saveLog(nodeId, broker);
      run.brokers.delete(nodeId);
      await sleep(downMs);
      await restartBroker(run, nodeId);
    } else {
      const frozenMs = 1_000 + 3_000 * random();
      run.faults.pause++;
      run.log(`nemesis: SIGSTOP broker ${nodeId} (pid ${broker.process.pid}) for ${frozenMs.toFixed(0)} ms`);
      run.paused.add(nodeId);
      process.kill(broker.process.pid!, 'SIGSTOP');
      await sleep(frozenMs);
      process.kill(broker.process.pid!, 'SIGCONT');
      run.paused.delete(nodeId);
      run.log(`nemesis: SIGCONT broker ${nodeId}`);
    }
  }
}

/** Restarts a killed broker on its data dir (a start can fail while etcd settles: tried three times). */
async function restartBroker(run: FaultRun, nodeId: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const started = performance.now();
    try {
      const broker = await run.startBroker(nodeId);
      run.log(
        `nemesis: broker ${nodeId} restarted (pid ${broker.process.pid}, ${(performance.now() - started).toFixed(0)} ms)`,
      );
      return;
    } catch (err) {
      const text = err instanceof Error ? err.message.slice(0, 2_000) : String(err);
      run.log(`nemesis: restarting broker ${nodeId} failed (attempt ${attempt}): ${text}`);
      if (attempt === 3) {
        run.violation(`broker ${nodeId} could not be restarted on its data dir: ${text}`);
        return;
      }
      await sleep(1_000);
    }
  }
}

/** A line of progress every 5 s while the workload runs, with the failures of those 5 s by reason. */
async function progress(run: FaultRun): Promise<void> {
  let seen: Record<string, number> = {};
  while (performance.now() < run.deadline) {
    await sleep(Math.min(5_000, run.deadline - performance.now()));
    const acked = [...run.sent.values()].filter((v) => v.acked !== null).length;
    const recent = Object.entries(run.failures)
      .map(([reason, count]) => [reason, count - (seen[reason] ?? 0)] as const)
      .filter(([, count]) => count > 0)
      .map(([reason, count]) => `${reason} ${count}`)
      .join(', ');
    seen = { ...run.failures };
    run.log(`progress: ${run.sent.size} sent, ${acked} acked${recent ? `; failed lately: ${recent}` : ''}`);
  }
}

/**
 * Waits until every partition has a leader and an ISR of all three, and every replica reports the same
 * log end offset, which the leader's high watermark has reached. Returns how long that took, or null.
 */
async function heal(run: FaultRun): Promise<number | null> {
  const started = performance.now();
  let lastState = '';
  const check = async () => {
    const view = await clusterView(run);
    const parts = view.partitions.filter((p) => p.topic === TOPIC);
    const answers = await Promise.all(
      [...run.brokers.values()].map((b) =>
        getJson<ReplicaStatusBody>(`${b.url}/v1/replicas`, METADATA_TIMEOUT_MS),
      ),
    );
    const states: string[] = [];
    let ok = parts.length === PARTITIONS && answers.length === NODE_IDS.length;
    for (const p of parts) {
      const replicas = answers.flatMap((a) =>
        a.replicas
          .filter((r) => r.topic === TOPIC && r.partition === p.partition)
          .map((r) => ({ ...r, nodeId: a.nodeId })),
      );
      const leader = replicas.find((r) => r.nodeId === p.leader);
      const ends = new Set(replicas.map((r) => r.logEndOffset));
      states.push(
        `p${p.partition} leader ${p.leader} isr [${p.isr}] ` +
          replicas.map((r) => `${r.nodeId}:${r.role} leo ${r.logEndOffset} hw ${r.highWatermark}`).join(', '),
      );
      ok &&=
        p.leader > 0 &&
        p.isr.length === 3 &&
        replicas.length === 3 &&
        ends.size === 1 &&
        leader?.role === 'leader' &&
        leader.highWatermark === leader.logEndOffset;
    }
    lastState = states.join('; ');
    return ok ? true : undefined;
  };
  try {
    await waitFor('the cluster to heal', HEAL_TIMEOUT_MS, check);
  } catch (err) {
    run.violation(
      `the cluster did not heal within ${HEAL_TIMEOUT_MS / 1000} s (a leader, an ISR of 3 and equal log ends ` +
        `for every partition): ${lastState || (err as Error).message}`,
    );
    return null;
  }
  run.log(`healed in ${(performance.now() - started).toFixed(0)} ms: ${lastState}`);
  return performance.now() - started;
}

/** Runs the whole check: set up, produce under faults for `seconds`, heal, verify, tear down. */
export async function runFaultCheck(options: FaultCheckOptions): Promise<FaultCheckReport> {
  const run = new FaultRun(options);
  run.log(`fault check: seed ${options.seed}, ${options.seconds} s, work dir ${run.workDir}`);
  let healMs: number | null = null;
  try {
    await setUp(run);
    run.deadline = performance.now() + options.seconds * 1000;
    const producers = Array.from({ length: run.options.producers }, (_, i) => produceLoop(run, i + 1));
    await Promise.all([...producers, nemesis(run), progress(run)]);
    run.log('faults over: healing');
    healMs = await heal(run);
    await verify({
      topic: TOPIC,
      partitionCount: PARTITIONS,
      nodeIds: NODE_IDS,
      sent: run.sent,
      brokerUrls: run.cache.urls,
      leaderOf: async (partition) => {
        const view = await clusterView(run);
        return view.partitions.find((p) => p.topic === TOPIC && p.partition === partition)?.leader ?? -1;
      },
      dataDir: (nodeId) => run.dataDir(nodeId),
      violation: (text) => run.violation(text),
      found: run.found,
      partitions: run.partitions,
    });
  } catch (err) {
    run.violation(`the check could not complete: ${err instanceof Error ? (err.stack ?? err.message) : err}`);
  } finally {
    await run.shutdown();
  }
  const values = [...run.sent.values()];
  const keep = run.violationCount > 0 || run.options.keep;
  if (!keep) rmSync(run.workDir, { recursive: true, force: true });
  return {
    seed: options.seed,
    seconds: options.seconds,
    sent: values.length,
    attempts: run.attempts,
    acked: values.filter((v) => v.acked !== null).length,
    indeterminate: run.indeterminate,
    failures: run.failures,
    retried: values.filter((v) => v.attempts > 1).length,
    unacked: values.filter((v) => v.acked === null).length,
    ...run.found,
    faults: run.faults,
    healMs,
    partitions: run.partitions,
    violations: run.violations,
    workDir: keep ? run.workDir : null,
  };
}
