/** @module The consumer-group workload (`npm run bench -- groups [--quick]`): how long 10 members take to share 100 partitions (cooperative-sticky and range), how long the group takes to recover when one leaves, and what a 4-member group consumes against one assign()ed consumer, on a real broker. */
import { loadavg } from 'node:os';
import {
  Admin,
  Consumer,
  FreshetError,
  type GroupDescription,
  Producer,
  type TopicPartition,
} from '../src/client/index.ts';
import {
  type BenchOptions,
  makeTempDir,
  mbPerSec,
  median,
  progress,
  putSummary,
  removeDir,
  round,
  runDirectly,
  settle,
} from './harness.ts';
import { type FreshetBroker, producerSettingsFor, startFreshetBroker } from './targets/freshet.ts';

/*
 * What is measured, and how (everything with the TypeScript client in this process, on Bun, against one broker
 * process `bun src/main.ts` on a temp data dir, default workers and flush policy, stopped by PID at the end):
 *
 * - The broker runs with `--group-initial-rebalance-delay-ms 0`, so a group's first rebalance does not wait
 *   for more members; the join figures are also taken, separately and with fewer repetitions, on a second
 *   broker with Kafka's default delay of 3000 ms (`*_delay3000_*`).
 * - Join to stable: 10 Consumers (built off the clock) subscribe() one after the other, in one tick, to one
 *   100-partition topic that holds no records, each in a fresh group, with one assignor (cooperative-sticky
 *   or range, alone in `assignors`), sessionTimeoutMs 10,000 and heartbeatIntervalMs 500 (the client's
 *   default, 3,000, as a separate cooperative-sticky variant `*_hb3000_*`). The clock starts at the first
 *   subscribe() and is read two ways:
 *     `stable`: `GET /v1/groups/{g}` polled back to back (one request at a time, 5 ms apart) until the group
 *       is Stable with all 10 members and their assignments cover every partition exactly once, balanced
 *       (sizes differ by at most one); the time is when that answer arrived;
 *     `assigned`: the members' onAssigned/onRevoked callbacks, tracked per member, until the partitions the
 *       members hold cover every partition exactly once, balanced: when the application owns everything.
 *   The coordinator's `rebalances` and `generationId` at that point are kept, and after a further
 *   min(2 × heartbeat, 3 s) the group is described again to catch rebalances that should not happen.
 * - Rebalance on leave: in the same group, the last member to subscribe calls close() (which commits, revokes
 *   and leaves); the clock runs from that call until the 9 others are Stable and own all 100 partitions,
 *   balanced (read the same two ways). Then the others close, off the clock.
 * - Group consume: an 8-partition topic filled once with 100-byte values round-robin (acks=all, off the clock),
 *   read whole by three arms in turn (order rotated each repetition): `group`, 4 Consumers in a fresh group
 *   (cooperative-sticky, autoCommit, autoOffsetReset earliest), the clock running from the first onAssigned
 *   that brings partitions; `plain`, one Consumer assign()ed all 8 partitions from offset 0; `split`, 4
 *   Consumers assign()ed 2 partitions each (what the group ends with, without the group); for the last two
 *   the clock runs from assign(). Each Consumer polls in its own loop until every record of every partition
 *   was handed out at least once. Records handed out again (a partition that moved before its position was
 *   committed) count as duplicates, not throughput; a gap in a partition's offsets fails the run. MB/s counts
 *   value bytes. The ratios are medians of per-repetition ratios (neighbours in time, so the machine's speed
 *   cancels out). A plain pass over the topic runs first, off the clock, to warm up.
 * - Every wait is bounded: a measurement gives up after its deadline, and no new repetition starts once the
 *   run's time budget is spent (noted in `notes`).
 */

const JOIN_MEMBERS = 10;
const JOIN_PARTITIONS = 100;
const CONSUME_MEMBERS = 4;
const CONSUME_PARTITIONS = 8;
const VALUE_BYTES = 100;
const VALUE_POOL = 64;
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_MS = 500;
/** The client's default heartbeat interval, for the variant that shows what an application gets unchanged. */
const DEFAULT_HEARTBEAT_MS = 3_000;
const KAFKA_INITIAL_DELAY_MS = 3_000;
const DESCRIBE_PAUSE_MS = 5;
const CONSUMER_FETCH_BYTES = 1024 * 1024;
const MAX_POLL_RECORDS = 10_000;
const CONSUME_FETCH_WAIT_MS = 500;
const POLL_WAIT_MS = 200;
/** Longest one measurement may take before it is given up. */
const JOIN_DEADLINE_MS = 30_000;
const CONSUME_DEADLINE_MS = 60_000;
/** Longest a group may take to close, off the clock (close() is bounded by the session timeout anyway). */
const CLOSE_BOUND_MS = SESSION_TIMEOUT_MS + 2_000;

type Assignor = 'cooperative-sticky' | 'range';
const SHORT: Record<Assignor, string> = { 'cooperative-sticky': 'cooperative', range: 'range' };
/** The consume arms: the group, one consumer assign()ed every partition, CONSUME_MEMBERS assign()ed a share each. */
const ARMS = ['group', 'plain', 'split'] as const;
type Arm = (typeof ARMS)[number];
/** One repetition of the consume arms, and the order they ran in. */
type ConsumeSet = Record<Arm, ConsumeSample> & { order: string };

interface Plan {
  joinReps: number;
  hb3000Reps: number;
  delayedReps: number;
  consumeRecords: number;
  consumeReps: number;
  /** No repetition starts after this many ms of the run. */
  budgetMs: number;
}

function planFor(opts: BenchOptions): Plan {
  return opts.quick
    ? {
        joinReps: 1,
        hb3000Reps: 0,
        delayedReps: 1,
        consumeRecords: 200_000,
        consumeReps: 1,
        budgetMs: 40_000,
      }
    : {
        joinReps: 5,
        hb3000Reps: 3,
        delayedReps: 2,
        consumeRecords: 1_000_000,
        consumeReps: 5,
        budgetMs: 240_000,
      };
}

// ------------------------------------------------------------------ pure helpers (tested)

/**
 * Whether `owners` (each member's partitions) hold every partition of 0..partitions-1 exactly once, with sizes
 * that differ by at most one: the state both assignors end in.
 */
export function coversBalanced(owners: ReadonlyArray<Iterable<number>>, partitions: number): boolean {
  if (owners.length === 0) return false;
  const seen = new Uint8Array(partitions);
  let covered = 0;
  let smallest = Number.POSITIVE_INFINITY;
  let largest = 0;
  for (const owned of owners) {
    let size = 0;
    for (const p of owned) {
      if (!Number.isInteger(p) || p < 0 || p >= partitions || seen[p] === 1) return false;
      seen[p] = 1;
      covered++;
      size++;
    }
    smallest = Math.min(smallest, size);
    largest = Math.max(largest, size);
  }
  return covered === partitions && largest - smallest <= 1;
}

/** Each member's partitions of `topic` in a group description. */
export function assignmentsOf(description: GroupDescription, topic: string): number[][] {
  return description.members.map((m) =>
    m.assignment.filter((tp) => tp.topic === topic).flatMap((tp) => tp.partitions),
  );
}

/** Whether a described group is Stable with `members` members sharing `partitions` of `topic`, balanced. */
export function isSettled(d: GroupDescription, topic: string, members: number, partitions: number): boolean {
  return (
    d.state === 'Stable' &&
    d.members.length === members &&
    coversBalanced(assignmentsOf(d, topic), partitions)
  );
}

// ------------------------------------------------------------------ small tools

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const load = () => loadavg().map((l) => round(l, 2));
let groupSerial = 0;
const freshGroupId = (what: string) =>
  `bench-groups-${what}-${Date.now().toString(36)}-${(groupSerial++).toString(36)}`;

/** Closes consumers, all at once, waiting at most CLOSE_BOUND_MS; the closes that did not finish are named. */
async function closeAll(consumers: readonly Consumer[], notes: string[], label: string): Promise<void> {
  let late = 0;
  await Promise.all(
    consumers.map((c) =>
      Promise.race([
        c.close().catch((err) => notes.push(`${label}: close() failed: ${String(err)}`)),
        sleep(CLOSE_BOUND_MS).then(() => late++),
      ]),
    ),
  );
  if (late > 0) notes.push(`${label}: ${late} close() calls took more than ${CLOSE_BOUND_MS} ms`);
}

/** A one-line picture of a group for error messages: state, generation, members and their partition counts. */
function summarizeGroup(description: GroupDescription | null, topic: string): string {
  if (description === null) return 'never described';
  const sizes = assignmentsOf(description, topic).map((a) => a.length);
  return `state ${description.state}, generation ${description.generationId}, rebalances ${description.rebalances}, ${description.members.length} members holding [${sizes.join(', ')}]`;
}

/**
 * Describes the group back to back until `settled` says yes; answers when that answer arrived, the description
 * and the median describe round trip (how finely `at` is resolved). An unknown group is not yet an error.
 */
async function watchGroup(
  admin: Admin,
  groupId: string,
  topic: string,
  settled: (d: GroupDescription) => boolean,
  deadline: number,
): Promise<{ at: number; description: GroupDescription; describeMs: number }> {
  let last: GroupDescription | null = null;
  let lastError: unknown = null;
  const took: number[] = [];
  while (performance.now() < deadline) {
    try {
      const asked = performance.now();
      const description = await admin.describeGroup(groupId);
      const at = performance.now();
      took.push(at - asked);
      last = description;
      if (settled(description)) return { at, description, describeMs: round(median(took), 1) };
    } catch (err) {
      if (!(err instanceof FreshetError && err.code === 'GROUP_ID_NOT_FOUND')) lastError = err;
    }
    await sleep(DESCRIBE_PAUSE_MS);
  }
  throw new Error(
    `group ${groupId} did not settle in time: ${summarizeGroup(last, topic)}${lastError ? `; last error ${String(lastError)}` : ''}`,
  );
}

/** What the members' callbacks say they own, and when the watched members first owned everything, balanced. */
class OwnedView {
  readonly owned: Set<number>[];
  private watched: number[];
  private settledAt: number | null = null;
  private waiter: (() => void) | null = null;

  constructor(
    members: number,
    private readonly partitions: number,
  ) {
    this.owned = Array.from({ length: members }, () => new Set<number>());
    this.watched = this.owned.map((_, i) => i);
  }

  /** Watches only `members` from now on, and forgets when they last settled. */
  watch(members: number[]): void {
    this.watched = members;
    this.settledAt = null;
    this.check();
  }

  /** A callback's news: `member` gained (onAssigned) or gave up (onRevoked) `partitions`. */
  change(member: number, partitions: TopicPartition[], owns: boolean): void {
    for (const tp of partitions) this.owned[member]![owns ? 'add' : 'delete'](tp.partition);
    this.check();
  }

  private check(): void {
    const watched = this.watched.map((i) => this.owned[i]!);
    if (this.settledAt !== null || !coversBalanced(watched, this.partitions)) return;
    this.settledAt = performance.now();
    this.waiter?.();
  }

  /** When the watched members settled (performance.now()); throws after `deadline`. */
  async settled(deadline: number): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (this.settledAt === null)
      await new Promise<void>((done) => {
        this.waiter = done;
        timer = setTimeout(done, Math.max(0, deadline - performance.now()));
      });
    clearTimeout(timer);
    this.waiter = null;
    if (this.settledAt !== null) return this.settledAt;
    const sizes = this.watched.map((i) => this.owned[i]!.size);
    throw new Error(
      `the members' callbacks never showed every partition owned: they hold [${sizes.join(', ')}]`,
    );
  }
}

// ------------------------------------------------------------------ join to stable, rebalance on leave

interface JoinSample {
  assignor: Assignor;
  heartbeatMs: number;
  initialDelayMs: number;
  /** First subscribe() → GET shows Stable, all members, every partition once, balanced. */
  stableMs: number;
  /** First subscribe() → the callbacks show every partition owned once, balanced. */
  assignedMs: number;
  rebalances: number;
  generationId: number;
  /** Rebalances during the settle pause after stable (should be 0). */
  laterRebalances: number;
  /** Median GET /v1/groups/{g} round trip while waiting: how finely `stableMs` is resolved. */
  describeMs: number;
  leave: LeaveSample | null;
}

interface LeaveSample {
  /** close() called → GET shows Stable with the 9 others owning every partition, balanced. */
  stableMs: number;
  assignedMs: number;
  /** How long the leaving member's close() took. */
  closeMs: number;
  /** Rebalances from the close() until stable again. */
  rebalances: number;
}

interface JoinSetup {
  url: string;
  admin: Admin;
  topic: string;
  assignor: Assignor;
  heartbeatMs: number;
  initialDelayMs: number;
  measureLeave: boolean;
  notes: string[];
}

async function joinRep(s: JoinSetup): Promise<JoinSample> {
  const groupId = freshGroupId(SHORT[s.assignor]);
  const view = new OwnedView(JOIN_MEMBERS, JOIN_PARTITIONS);
  const consumers = Array.from(
    { length: JOIN_MEMBERS },
    () => new Consumer({ url: s.url, autoOffsetReset: 'earliest' }),
  );
  const settledWith = (members: number) => (d: GroupDescription) =>
    isSettled(d, s.topic, members, JOIN_PARTITIONS);
  try {
    settle();
    const start = performance.now();
    let deadline = start + JOIN_DEADLINE_MS;
    consumers.forEach((consumer, i) => {
      consumer.subscribe([s.topic], {
        groupId,
        assignors: [s.assignor],
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: s.heartbeatMs,
        onAssigned: (partitions) => view.change(i, partitions, true),
        onRevoked: (partitions) => view.change(i, partitions, false),
      });
    });
    const stable = await watchGroup(s.admin, groupId, s.topic, settledWith(JOIN_MEMBERS), deadline);
    const assignedAt = await view.settled(deadline);
    const pause = Math.min(2 * s.heartbeatMs, 3_000);
    await sleep(pause);
    const after = await s.admin.describeGroup(groupId);
    const sample: JoinSample = {
      assignor: s.assignor,
      heartbeatMs: s.heartbeatMs,
      initialDelayMs: s.initialDelayMs,
      stableMs: round(stable.at - start, 1),
      assignedMs: round(assignedAt - start, 1),
      rebalances: stable.description.rebalances,
      generationId: stable.description.generationId,
      laterRebalances: after.rebalances - stable.description.rebalances,
      describeMs: stable.describeMs,
      leave: null,
    };
    if (sample.laterRebalances > 0)
      s.notes.push(
        `${groupId}: ${sample.laterRebalances} more rebalance(s) within ${pause} ms after it was stable (${summarizeGroup(after, s.topic)})`,
      );
    if (!s.measureLeave) return sample;

    const leaving = JOIN_MEMBERS - 1;
    view.watch(consumers.map((_, i) => i).filter((i) => i !== leaving));
    const leaveStart = performance.now();
    deadline = leaveStart + JOIN_DEADLINE_MS;
    let closeMs = Number.NaN;
    const closing = consumers[leaving]!.close().then(() => {
      closeMs = performance.now() - leaveStart;
    });
    const restable = await watchGroup(s.admin, groupId, s.topic, settledWith(JOIN_MEMBERS - 1), deadline);
    const reassignedAt = await view.settled(deadline);
    await Promise.race([closing, sleep(CLOSE_BOUND_MS)]);
    sample.leave = {
      stableMs: round(restable.at - leaveStart, 1),
      assignedMs: round(reassignedAt - leaveStart, 1),
      closeMs: round(closeMs, 1),
      rebalances: restable.description.rebalances - after.rebalances,
    };
    return sample;
  } finally {
    await closeAll(consumers, s.notes, groupId);
  }
}

function describeJoin(j: JoinSample): string {
  const leave = j.leave
    ? `; leave: stable ${j.leave.stableMs} ms, assigned ${j.leave.assignedMs} ms, ${j.leave.rebalances} rebalance(s), close() ${j.leave.closeMs} ms`
    : '';
  return `stable ${j.stableMs} ms, assigned ${j.assignedMs} ms, ${j.rebalances} rebalance(s), generation ${j.generationId}${leave}`;
}

// ------------------------------------------------------------------ group consume against one plain consumer

interface ConsumeSample {
  records: number;
  bytes: number;
  ms: number;
  /** Records handed out again after a partition moved (not counted in `records`). */
  duplicates: number;
  /** Clock start → the first record handed out: the start-up part of `ms`. */
  firstRecordMs: number;
  /** Group only: subscribe() → first assignment; first → last member's first assignment; rebalances. */
  joinMs: number | null;
  allAssignedMs: number | null;
  rebalances: number | null;
  /** Group only: records each member handed out. */
  perMember: number[] | null;
  clientCores: number;
  brokerCores: number | null;
}

/** Counts records against the partitions' ends: fresh ones, duplicates, and fails on a gap. */
class Tally {
  private readonly next: number[];
  records = 0;
  bytes = 0;
  duplicates = 0;
  firstAt: number | null = null;
  doneAt: number | null = null;

  constructor(
    private readonly topic: string,
    private readonly ends: readonly number[],
    private readonly total: number,
  ) {
    this.next = ends.map(() => 0);
  }

  take(batch: readonly { partition: number; offset: number; value: Uint8Array | null }[]): number {
    let fresh = 0;
    for (const r of batch) {
      const due = this.next[r.partition]!;
      if (r.offset < due) {
        this.duplicates++;
        continue;
      }
      if (r.offset > due)
        throw new Error(`${this.topic}/${r.partition}: offset ${r.offset} handed out where ${due} was due`);
      this.next[r.partition] = due + 1;
      this.bytes += r.value?.length ?? 0;
      fresh++;
    }
    this.records += fresh;
    if (fresh > 0) this.firstAt ??= performance.now();
    if (this.doneAt === null && this.records === this.total) this.doneAt = performance.now();
    return fresh;
  }

  get done(): boolean {
    return this.doneAt !== null;
  }

  missing(): string {
    return this.ends
      .map((end, p) => (this.next[p]! < end ? `${p}: ${this.next[p]}/${end}` : null))
      .filter((x) => x !== null)
      .join(', ');
  }
}

function cpuMeter(broker: FreshetBroker): () => { clientCores: number; brokerCores: number | null } {
  const own = process.cpuUsage();
  const brokerStart = broker.cpuSeconds();
  const start = performance.now();
  return () => {
    const seconds = (performance.now() - start) / 1000;
    const used = process.cpuUsage(own);
    const brokerNow = broker.cpuSeconds();
    return {
      clientCores: round((used.user + used.system) / 1e6 / seconds, 2),
      brokerCores:
        brokerNow === null || brokerStart === null ? null : round((brokerNow - brokerStart) / seconds, 2),
    };
  };
}

/**
 * Reads the whole topic with `count` Consumers, each polling in its own loop: in a fresh group (`arm` 'group':
 * the clock starts at the first assignment) or assign()ed the partitions round-robin from offset 0 (the clock
 * starts at assign()).
 */
async function consume(
  broker: FreshetBroker,
  topic: string,
  ends: readonly number[],
  arm: Arm,
  notes: string[],
): Promise<ConsumeSample> {
  const total = ends.reduce((a, b) => a + b, 0);
  const count = arm === 'plain' ? 1 : CONSUME_MEMBERS;
  const groupId = arm === 'group' ? freshGroupId('consume') : null;
  const tally = new Tally(topic, ends, total);
  const consumers = Array.from(
    { length: count },
    () =>
      new Consumer({
        url: broker.url,
        maxPartitionFetchBytes: CONSUMER_FETCH_BYTES,
        maxPollRecords: MAX_POLL_RECORDS,
        fetchMaxWaitMs: CONSUME_FETCH_WAIT_MS,
        autoOffsetReset: groupId === null ? 'none' : 'earliest',
      }),
  );
  const perMember = consumers.map(() => 0);
  const assigned = new Set<number>();
  let firstAssigned: number | null = null;
  let lastAssigned = 0;
  try {
    settle();
    const meter = cpuMeter(broker);
    const start = performance.now();
    const deadline = start + CONSUME_DEADLINE_MS;
    consumers.forEach((consumer, i) => {
      if (groupId === null) {
        const mine = ends.map((_, partition) => partition).filter((partition) => partition % count === i);
        consumer.assign(mine.map((partition) => ({ topic, partition, offset: 0 })));
        return;
      }
      consumer.subscribe([topic], {
        groupId,
        assignors: ['cooperative-sticky'],
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        heartbeatIntervalMs: HEARTBEAT_MS,
        autoCommit: true,
        onAssigned: (partitions) => {
          if (partitions.length === 0 || assigned.has(i)) return;
          assigned.add(i);
          lastAssigned = performance.now();
          firstAssigned ??= lastAssigned;
        },
      });
    });
    await Promise.all(
      consumers.map(async (consumer, i) => {
        while (!tally.done && performance.now() < deadline) {
          perMember[i]! += tally.take(await consumer.poll({ maxWaitMs: POLL_WAIT_MS }));
        }
      }),
    );
    if (!tally.done)
      throw new Error(`${groupId ?? arm}: not everything consumed in time: ${tally.missing()} still due`);
    const cpu = meter();
    const from = firstAssigned ?? start;
    const description = groupId === null ? null : await new Admin({ url: broker.url }).describeGroup(groupId);
    return {
      records: tally.records,
      bytes: tally.bytes,
      ms: round(tally.doneAt! - from, 1),
      duplicates: tally.duplicates,
      firstRecordMs: round(tally.firstAt! - from, 1),
      joinMs: groupId === null ? null : round(from - start, 1),
      allAssignedMs: assigned.size === count ? round(lastAssigned - from, 1) : null,
      rebalances: description?.rebalances ?? null,
      perMember: count > 1 ? perMember : null,
      ...cpu,
    };
  } finally {
    await closeAll(consumers, notes, groupId ?? arm);
  }
}

/** Fills `topic` with `records` values of VALUE_BYTES, round-robin over its partitions; answers each partition's end. */
async function fill(url: string, admin: Admin, topic: string, records: number): Promise<number[]> {
  const values = Array.from({ length: VALUE_POOL }, () =>
    crypto.getRandomValues(new Uint8Array(VALUE_BYTES)),
  );
  const producer = new Producer({ url, ...producerSettingsFor(VALUE_BYTES), acks: 'all' });
  let failure: unknown = null;
  const onFail = (err: unknown) => {
    failure ??= err;
  };
  try {
    for (let i = 0; i < records && failure === null; i++) {
      producer
        .send(topic, { value: values[i % VALUE_POOL]!, partition: i % CONSUME_PARTITIONS })
        .catch(onFail);
      if (producer.full) await producer.ready();
    }
    await producer.flush();
  } finally {
    await producer.close().catch(() => {});
  }
  if (failure !== null) throw new Error(`${topic}: filling failed: ${String(failure)}`);
  const ends = (await admin.describeTopic(topic)).partitions.map((p) => p.highWatermark);
  const held = ends.reduce((a, b) => a + b, 0);
  if (held !== records) throw new Error(`${topic} holds ${held} records, ${records} were sent`);
  return ends;
}

// ------------------------------------------------------------------ the run

/** Starts a broker with the initial rebalance delay on a temp dir, runs `fn`, and always stops it (by PID) and removes the dir. */
async function withBroker<T>(initialDelayMs: number, fn: (broker: FreshetBroker) => Promise<T>): Promise<T> {
  const dataDir = makeTempDir('groups');
  let broker: FreshetBroker | null = null;
  try {
    broker = await startFreshetBroker({
      dataDir,
      extraArgs: ['--group-initial-rebalance-delay-ms', String(initialDelayMs)],
    });
    progress(
      `groups: broker pid ${broker.pid}, ${broker.workers} workers, initial delay ${initialDelayMs} ms`,
    );
    return await fn(broker);
  } catch (err) {
    // A broker that died makes every request fail with a network error: say why it died.
    const report = broker?.exitReport() ?? null;
    if (report !== null && err instanceof Error) err.message = `${err.message}; ${report}`;
    throw err;
  } finally {
    await broker?.stop();
    removeDir(dataDir);
  }
}

const rps = (s: ConsumeSample) => (s.records / s.ms) * 1000;
const mbS = (s: ConsumeSample) => mbPerSec(s.bytes, s.ms);
const firstRecordMs = (s: ConsumeSample) => s.firstRecordMs;

/** Medians (with min and max) of one join variant into `out`, as `join_*_<suffix>` and `leave_*_<suffix>`. */
function putJoins(out: Record<string, unknown>, suffix: string, list: JoinSample[]): void {
  const leaves = list.flatMap((j) => (j.leave ? [j.leave] : []));
  const figures: Record<string, number[]> = {
    join_stable: list.map((j) => j.stableMs),
    join_assigned: list.map((j) => j.assignedMs),
    leave_stable: leaves.map((l) => l.stableMs),
    leave_assigned: leaves.map((l) => l.assignedMs),
    leave_close: leaves.map((l) => l.closeMs),
  };
  for (const [name, values] of Object.entries(figures))
    if (values.length > 0) putSummary(out, `${name}_${suffix}_ms`, values, 0);
  if (list.length > 0) out[`join_rebalances_${suffix}`] = median(list.map((j) => j.rebalances));
  if (leaves.length > 0) out[`leave_rebalances_${suffix}`] = median(leaves.map((l) => l.rebalances));
}

function putConsumes(out: Record<string, unknown>, sets: ConsumeSet[]): void {
  if (sets.length === 0) return;
  const ratio = (arm: Arm) => sets.map((set) => rps(set.group) / rps(set[arm]));
  for (const arm of ARMS) {
    const samples = sets.map((set) => set[arm]);
    putSummary(out, `${arm}_consume_rps`, samples.map(rps), 0);
    putSummary(out, `${arm}_consume_mb_s`, samples.map(mbS), 1);
    putSummary(out, `${arm}_first_record_ms`, samples.map(firstRecordMs), 0);
  }
  putSummary(out, 'group_plain_ratio', ratio('plain'), 3);
  putSummary(out, 'group_split_ratio', ratio('split'), 3);
  const joinMs = sets.map((set) => set.group.joinMs ?? Number.NaN);
  putSummary(out, 'group_consume_join_ms', joinMs, 0);
  out.group_consume_duplicates = median(sets.map((set) => set.group.duplicates));
  out.group_consume_rebalances = median(sets.map((set) => set.group.rebalances ?? Number.NaN));
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const plan = planFor(opts);
  const loadAtStart = load();
  const runStart = performance.now();
  const notes: string[] = [];
  const problems: string[] = [];
  const joins: JoinSample[] = [];
  const consumes: ConsumeSet[] = [];
  const settings: Record<string, unknown> = {};
  /** Runs one repetition unless the time budget is spent; a failure is noted and the run goes on. */
  const attempt = async <T>(label: string, fn: () => Promise<T>): Promise<T | null> => {
    if (performance.now() - runStart > plan.budgetMs) {
      notes.push(`${label}: not run, the run's time budget of ${plan.budgetMs / 1000} s was spent`);
      return null;
    }
    try {
      return await fn();
    } catch (err) {
      const message = `${label}: ${err instanceof Error ? err.message : String(err)}`;
      progress(`groups: FAILED ${message}`);
      problems.push(message);
      return null;
    }
  };
  const joinSeries = async (
    broker: FreshetBroker,
    topic: string,
    reps: number,
    assignors: readonly Assignor[],
    heartbeatMs: number,
    initialDelayMs: number,
  ) => {
    const admin = new Admin({ url: broker.url });
    const measureLeave = initialDelayMs === 0;
    const setup = { url: broker.url, admin, topic, heartbeatMs, initialDelayMs, measureLeave, notes };
    for (let rep = 0; rep < reps; rep++) {
      // Alternating order, so a slow spell of the machine does not land on one assignor.
      for (const assignor of rep % 2 === 0 ? assignors : [...assignors].reverse()) {
        const label = `join ${SHORT[assignor]} heartbeat ${heartbeatMs} delay ${initialDelayMs} r${rep + 1}`;
        const sample = await attempt(label, () => joinRep({ ...setup, assignor }));
        if (sample) {
          joins.push(sample);
          progress(`groups: ${label}: ${describeJoin(sample)}`);
        }
      }
    }
  };

  await withBroker(0, async (broker) => {
    settings.workers = broker.workers;
    const admin = new Admin({ url: broker.url });
    const joinTopic = 'bench-groups-join';
    await admin.createTopic(joinTopic, { partitions: JOIN_PARTITIONS });
    await joinSeries(broker, joinTopic, plan.joinReps, ['cooperative-sticky', 'range'], HEARTBEAT_MS, 0);

    const topic = 'bench-groups-consume';
    await admin.createTopic(topic, { partitions: CONSUME_PARTITIONS });
    const fillStart = performance.now();
    const ends = await fill(broker.url, admin, topic, plan.consumeRecords);
    settings.fill_s = round((performance.now() - fillStart) / 1000, 2);
    settings.warmup_plain_ms = (await consume(broker, topic, ends, 'plain', notes)).ms;
    for (let rep = 0; rep < plan.consumeReps; rep++) {
      // Rotated each repetition, so no arm always runs first.
      const order = ARMS.map((_, k) => ARMS[(rep + k) % ARMS.length]!);
      const set = await attempt(`consume r${rep + 1}`, async () => {
        const got: Partial<ConsumeSet> = { order: order.join(', ') };
        for (const arm of order) got[arm] = await consume(broker, topic, ends, arm, notes);
        return got as ConsumeSet;
      });
      if (set === null) continue;
      consumes.push(set);
      const g = set.group;
      progress(
        `groups: consume r${rep + 1} (${set.order}): group ${Math.round(rps(g))} rec/s (first assignment ` +
          `after ${g.joinMs} ms, all members after ${g.allAssignedMs} ms more, first record ${g.firstRecordMs} ms, ` +
          `${g.rebalances} rebalance(s), ${g.duplicates} duplicates, per member [${g.perMember?.join(', ')}]), ` +
          `plain ${Math.round(rps(set.plain))} rec/s, ${CONSUME_MEMBERS} assign()ed ${Math.round(rps(set.split))} rec/s`,
      );
    }

    await joinSeries(broker, joinTopic, plan.hb3000Reps, ['cooperative-sticky'], DEFAULT_HEARTBEAT_MS, 0);
  });

  if (plan.delayedReps > 0 && performance.now() - runStart <= plan.budgetMs) {
    await withBroker(KAFKA_INITIAL_DELAY_MS, async (broker) => {
      const topic = 'bench-groups-join';
      await new Admin({ url: broker.url }).createTopic(topic, { partitions: JOIN_PARTITIONS });
      const assignors = ['cooperative-sticky', 'range'] as const;
      await joinSeries(broker, topic, plan.delayedReps, assignors, HEARTBEAT_MS, KAFKA_INITIAL_DELAY_MS);
    });
  }

  const out: Record<string, unknown> = { bench: 'groups' };
  const variant = (assignor: Assignor, heartbeatMs: number, initialDelayMs: number) =>
    joins.filter(
      (j) => j.assignor === assignor && j.heartbeatMs === heartbeatMs && j.initialDelayMs === initialDelayMs,
    );
  putJoins(out, 'cooperative', variant('cooperative-sticky', HEARTBEAT_MS, 0));
  putJoins(out, 'range', variant('range', HEARTBEAT_MS, 0));
  putConsumes(out, consumes);
  putJoins(
    out,
    `cooperative_hb${DEFAULT_HEARTBEAT_MS}`,
    variant('cooperative-sticky', DEFAULT_HEARTBEAT_MS, 0),
  );
  for (const assignor of ['cooperative-sticky', 'range'] as const)
    putJoins(
      out,
      `${SHORT[assignor]}_delay${KAFKA_INITIAL_DELAY_MS}`,
      variant(assignor, HEARTBEAT_MS, KAFKA_INITIAL_DELAY_MS),
    );
  if (joins.length === 0 && consumes.length === 0)
    out.error = `nothing was measured: ${problems.join('; ') || 'no repetition ran'}`;
  notes.push(...problems.map((p) => `FAILED ${p}`));

  Object.assign(out, {
    initial_rebalance_delay_ms: 0,
    heartbeat_interval_ms: HEARTBEAT_MS,
    settings: {
      ...settings,
      broker: `bun src/main.ts, default workers and flush policy, --group-initial-rebalance-delay-ms 0 (${KAFKA_INITIAL_DELAY_MS} for *_delay${KAFKA_INITIAL_DELAY_MS}_*)`,
      join: `${JOIN_MEMBERS} members, one topic of ${JOIN_PARTITIONS} partitions (empty), sessionTimeoutMs ${SESSION_TIMEOUT_MS}, heartbeatIntervalMs ${HEARTBEAT_MS} (${DEFAULT_HEARTBEAT_MS} for *_hb${DEFAULT_HEARTBEAT_MS}_*)`,
      stable_by: `GET /v1/groups/{g} back to back, ${DESCRIBE_PAUSE_MS} ms apart: Stable, all members, every partition once, balanced`,
      assigned_by: 'onAssigned/onRevoked callbacks: every partition owned once, balanced',
      leaving_member: 'the last to subscribe, by close() (commit, revoke, leave)',
      consume: `${plan.consumeRecords} records of ${VALUE_BYTES} B over ${CONSUME_PARTITIONS} partitions; group: ${CONSUME_MEMBERS} members (cooperative-sticky, autoCommit, from earliest); plain: 1 consumer assign()ed all; split: ${CONSUME_MEMBERS} consumers assign()ed ${CONSUME_PARTITIONS / CONSUME_MEMBERS} each`,
      consumer: {
        maxPartitionFetchBytes: CONSUMER_FETCH_BYTES,
        maxPollRecords: MAX_POLL_RECORDS,
        fetchMaxWaitMs: CONSUME_FETCH_WAIT_MS,
      },
    },
    samples: { join: joins, consume: consumes },
    notes,
    join_reps: plan.joinReps,
    consume_reps: plan.consumeReps,
    quick: opts.quick,
    load_average: { atStart: loadAtStart, atEnd: load() },
  });
  return out;
}

if (import.meta.main) await runDirectly(run);
