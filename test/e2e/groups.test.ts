/**
 * @module
 * Consumer groups end to end: real broker processes, member processes (`group-member-process.ts` under
 * Bun, each appending what it processed to its own file), in-process Consumers, and raw HTTP for the
 * protocol corners (restart, fencing).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Consumer, type TopicPartition } from '../../src/client/index.ts';
import { type BrokerHandle, BUN, REPO_ROOT, startBroker } from '../support/broker.ts';
import {
  createTopic,
  describeGroup,
  type GroupDescription,
  type HttpAnswer,
  produceJson,
  requestJson,
  uniqueTopic,
  waitUntil,
} from './support.ts';

/** Short sessions and no initial rebalance delay, so groups settle in well under a second. */
const GROUP_ARGS = ['--group-min-session-timeout-ms', '500', '--group-initial-rebalance-delay-ms', '0'];
const MEMBER_SCRIPT = path.join(REPO_ROOT, 'test/e2e/group-member-process.ts');

const brokers: BrokerHandle[] = [];
const members: Array<{ kill9(): Promise<void> }> = [];
const consumers: Consumer[] = [];
const dirs: string[] = [];
const loops: Array<Promise<void>> = [];
/** Set in afterEach: background loops end at their next step. */
let ending = false;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'freshet-e2e-groups-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir = tempDir()): Promise<BrokerHandle> {
  const broker = await startBroker({ dataDir, workers: 2, args: GROUP_ARGS });
  brokers.push(broker);
  return broker;
}

afterEach(async () => {
  ending = true;
  await Promise.all(members.splice(0).map((member) => member.kill9()));
  // close() is bounded by the session timeout; a broker already gone must not hold the suite up.
  await Promise.all(consumers.splice(0).map((consumer) => Promise.race([consumer.close(), sleep(5_000)])));
  await Promise.all(brokers.splice(0).map((broker) => broker.stop()));
  await Promise.allSettled(loops.splice(0));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  ending = false;
});

/** Runs `step` again and again in the background until `stop()`, which throws its failure, if any. */
function background(step: () => Promise<void>): { stop(): Promise<void> } {
  let running = true;
  const done = (async () => {
    while (running && !ending) await step();
  })();
  loops.push(done.catch(() => {}));
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

// ------------------------------------------------------------------ member processes

interface MemberEvent {
  event: 'assigned' | 'revoked' | 'lost';
  partitions: number[];
  assignment: number[];
  memberId: string;
  generationId: number;
}

type MemberProcess = ReturnType<typeof spawnMember>;

function spawnMember(
  url: string,
  topic: string,
  group: string,
  outFile: string,
  flags: Record<string, string | number> = {},
) {
  const args = [MEMBER_SCRIPT, url, topic, group, outFile];
  for (const [flag, value] of Object.entries(flags)) args.push(`--${flag}`, String(value));
  const child = spawn(BUN, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: MemberEvent[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    const lines = stdout.split('\n');
    stdout = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) events.push(JSON.parse(line) as MemberEvent);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const member = {
    outFile,
    events,
    /** The member id of its latest rebalance callback ('' before the first). */
    memberId: () => events.at(-1)?.memberId ?? '',
    waitForEvent: (match: (event: MemberEvent) => boolean, timeoutMs: number) =>
      waitUntil(() => events.find(match), timeoutMs, `a member event (stderr: ${stderr.slice(-2000)})`),
    async kill9() {
      const gone = child.exitCode !== null || child.signalCode !== null || once(child, 'exit');
      child.kill('SIGKILL');
      await gone;
    },
  };
  members.push(member);
  return member;
}

/** A line of a member's output file, or a produced record. */
interface Line {
  partition: number;
  offset: number;
  value: string;
}
type Produced = Line;

/** The whole lines of a member's output file (a kill -9 may have torn the last one). */
function readLines(file: string): Line[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, 'utf8');
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  return whole
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [partition, offset, ...value] = line.split(' ');
      return { partition: Number(partition), offset: Number(offset), value: value.join(' ') };
    });
}

// ------------------------------------------------------------------ records and group views

/** Produces `count` keyed JSON records in batches (acks=all); answers where each landed. */
async function produceKeyed(
  url: string,
  topic: string,
  from: number,
  count: number,
  batch = 100,
): Promise<Produced[]> {
  const produced: Produced[] = [];
  for (let start = from; start < from + count; start += batch) {
    const values = Array.from({ length: Math.min(batch, from + count - start) }, (_, i) =>
      JSON.stringify({ n: start + i, topic }),
    );
    const results = await produceJson(
      url,
      topic,
      values.map((value, i) => ({ key: `key-${start + i}`, value })),
    );
    results.forEach((r, i) => {
      produced.push({ partition: r.partition, offset: r.offset, value: values[i]! });
    });
  }
  return produced;
}

const where = (r: { partition: number; offset: number }) => `${r.partition}:${r.offset}`;

/** The produced records no line shows (with the same value at the same place). */
function missing(produced: readonly Produced[], lines: readonly Line[]): Produced[] {
  const seen = new Map(lines.map((l) => [where(l), l.value]));
  return produced.filter((p) => seen.get(where(p)) !== p.value);
}

/** memberId → sorted partitions of `topic`. */
function assignments(group: GroupDescription, topic: string): Map<string, number[]> {
  return new Map(
    group.members.map((m) => [
      m.memberId,
      m.assignment.flatMap((a) => (a.topic === topic ? a.partitions : [])).sort((a, b) => a - b),
    ]),
  );
}

/**
 * Polls the group until it is Stable with `memberCount` members whose assignments cover all six partitions
 * of `topic` (and `extra` holds); every view seen on the way must have disjoint assignments.
 */
async function waitForFullAssignment(
  url: string,
  group: string,
  topic: string,
  memberCount: number,
  { timeoutMs = 20_000, extra = (_: GroupDescription): boolean => true } = {},
): Promise<GroupDescription> {
  const overlaps: string[] = [];
  const found = await waitUntil(
    async () => {
      const description = await describeGroup(url, group);
      const owned = [...assignments(description, topic).values()].flat();
      if (new Set(owned).size !== owned.length) overlaps.push(JSON.stringify(description.members));
      const { state, members } = description;
      const done =
        state === 'Stable' &&
        members.length === memberCount &&
        new Set(owned).size === 6 &&
        extra(description);
      return done ? description : undefined;
    },
    timeoutMs,
    `group ${group}: Stable, ${memberCount} members over 6 partitions`,
  );
  expect(overlaps, 'assignments overlapped').toEqual([]);
  return found;
}

/** Waits until each process has announced the assignment `group` gives its member. */
async function announced(procs: MemberProcess[], group: GroupDescription, topic: string): Promise<void> {
  const owned = assignments(group, topic);
  await waitUntil(
    () =>
      procs.every((p) => {
        const last = p.events.at(-1);
        return last !== undefined && `${owned.get(last.memberId)}` === `${last.assignment}`;
      }) || undefined,
    10_000,
    'every member process to announce its assignment',
  );
}

type Committed = Map<number, number>;

async function committedOffsets(url: string, group: string, topic: string): Promise<Committed> {
  const answer = await requestJson<{ offsets: Array<{ partition: number; offset: number }> }>(
    `${url}/v1/groups/${group}/offsets?topic=${topic}`,
  );
  if (answer.status !== 200) throw new Error(`offsets of ${group}: ${answer.status}`);
  return new Map(answer.body.offsets.map((o) => [o.partition, o.offset]));
}

async function post<T = unknown>(url: string, body: unknown): Promise<HttpAnswer<T>> {
  return requestJson<T>(url, { body });
}

interface ErrorBody {
  error: { code: string; message: string };
}

describe('consumer groups with member processes', () => {
  it('three member processes split six partitions disjointly and process every record', async () => {
    const broker = await start();
    const topic = uniqueTopic('three');
    const group = `group-${topic}`;
    await createTopic(broker.url, topic, 6);
    const dir = tempDir();
    const procs = [0, 1, 2].map((i) => spawnMember(broker.url, topic, group, path.join(dir, `m${i}.out`)));

    const stable = await waitForFullAssignment(broker.url, group, topic, 3);
    await announced(procs, stable, topic);
    const owned = assignments(stable, topic);
    expect([...owned.values()].flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const partitions of owned.values()) expect(partitions).toHaveLength(2);
    expect(stable.assignor).toBe('cooperative-sticky');

    const produced = await produceKeyed(broker.url, topic, 0, 3000);
    expect(new Set(produced.map((p) => p.partition)).size).toBe(6);
    const all = () => procs.flatMap((p) => readLines(p.outFile));
    await waitUntil(() => (missing(produced, all()).length === 0 ? true : undefined), 30_000, 'every record');

    const lines = all();
    expect(missing(produced, lines)).toEqual([]);
    // Nothing failed and nobody came or went: each record exactly once, by the member owning its partition.
    const after = await describeGroup(broker.url, group);
    expect(after.generationId).toBe(stable.generationId);
    expect(lines).toHaveLength(produced.length);
    for (const proc of procs) {
      const mine = new Set(owned.get(proc.memberId()));
      expect(mine.size).toBe(2);
      expect(readLines(proc.outFile).filter((l) => !mine.has(l.partition))).toEqual([]);
    }
  });

  it('a member killed with kill -9 is replaced within the session timeout, and no record is lost', async () => {
    const sessionTimeoutMs = 2000;
    const broker = await start();
    const topic = uniqueTopic('kill9');
    const group = `group-${topic}`;
    await createTopic(broker.url, topic, 6);
    const dir = tempDir();
    const procs = [0, 1, 2].map((i) =>
      spawnMember(broker.url, topic, group, path.join(dir, `m${i}.out`), {
        'session-timeout-ms': sessionTimeoutMs,
      }),
    );
    const stable = await waitForFullAssignment(broker.url, group, topic, 3);
    await announced(procs, stable, topic);
    const victim = procs[0]!;
    const victimPartitions = assignments(stable, topic).get(victim.memberId())!;
    expect(victimPartitions).toHaveLength(2);

    // Records flow before, during and after the kill: the producer stops a while after the rebalance.
    const produced: Produced[] = [];
    const producer = background(async () => {
      produced.push(...(await produceKeyed(broker.url, topic, produced.length, 30)));
      await sleep(10);
    });
    // At-least-once as the files see it: a committed offset never runs ahead of what the files hold. The
    // offsets are read first, so the files read after may only hold more.
    const all = () => procs.flatMap((p) => readLines(p.outFile));
    const aheadOfFiles: string[] = [];
    const checkCommitted = async () => {
      const committed = await committedOffsets(broker.url, group, topic);
      const written = new Map<number, number>();
      for (const l of all()) written.set(l.partition, Math.max(written.get(l.partition) ?? 0, l.offset + 1));
      for (const [partition, offset] of committed) {
        if (offset > (written.get(partition) ?? 0)) {
          aheadOfFiles.push(`${partition}: committed ${offset}, files up to ${written.get(partition) ?? 0}`);
        }
      }
      return committed;
    };
    // Kill it mid-stream, once it has processed records and committed offsets on both its partitions.
    const before = await waitUntil(
      async () => {
        const committed = await checkCommitted();
        if (produced.length < 600 || readLines(victim.outFile).length < 100) return undefined;
        return victimPartitions.every((p) => (committed.get(p) ?? 0) > 0) ? committed : undefined;
      },
      20_000,
      'the victim processing and committing',
    );
    await victim.kill9();
    const killedAt = Date.now();
    const producedAtKill = produced.length;

    const replaced = await waitForFullAssignment(broker.url, group, topic, 2, {
      timeoutMs: sessionTimeoutMs + 10_000,
      extra: (g) => g.members.every((m) => m.memberId !== victim.memberId()),
    });
    const rebalanceMs = Date.now() - killedAt;
    expect(rebalanceMs).toBeLessThanOrEqual(sessionTimeoutMs + 3000);
    expect(replaced.generationId).toBeGreaterThan(stable.generationId);

    await sleep(1000);
    await producer.stop();
    expect(produced.length).toBeGreaterThan(producedAtKill);
    await waitUntil(
      async () => {
        await checkCommitted();
        return missing(produced, all()).length === 0 ? true : undefined;
      },
      30_000,
      'every record',
    );
    const lines = all();
    expect(missing(produced, lines)).toEqual([]);
    expect(aheadOfFiles).toEqual([]);

    // Only the victim's uncommitted tail may come twice: at or after its committed offset at the kill.
    const counts = new Map<string, number>();
    for (const line of lines) counts.set(where(line), (counts.get(where(line)) ?? 0) + 1);
    const early: string[] = [];
    for (const [at, count] of counts) {
      const [partition, offset] = at.split(':').map(Number) as [number, number];
      if (count > 1 && offset < (before.get(partition) ?? 0)) early.push(`${at} x${count}`);
    }
    expect(early).toEqual([]);
  }, 90_000);

  it('a static member restarted within its session timeout keeps its partitions, with no rebalance', async () => {
    const sessionTimeoutMs = 5000;
    const broker = await start();
    const topic = uniqueTopic('static');
    const group = `group-${topic}`;
    await createTopic(broker.url, topic, 6);
    const dir = tempDir();
    const flags = (id: string) => ({ 'instance-id': id, 'session-timeout-ms': sessionTimeoutMs });
    const a = spawnMember(broker.url, topic, group, path.join(dir, 'a1.out'), flags('static-a'));
    const b = spawnMember(broker.url, topic, group, path.join(dir, 'b.out'), flags('static-b'));
    const stable = await waitForFullAssignment(broker.url, group, topic, 2);
    await announced([a, b], stable, topic);
    const byInstance = (g: GroupDescription, id: string) => g.members.find((m) => m.groupInstanceId === id)!;
    const aPartitions = assignments(stable, topic).get(byInstance(stable, 'static-a').memberId)!;
    expect(aPartitions.length).toBeGreaterThan(0);
    const bEventsBefore = b.events.length;

    await a.kill9();
    const killedAt = Date.now();
    const again = spawnMember(broker.url, topic, group, path.join(dir, 'a2.out'), flags('static-a'));
    const assigned = await again.waitForEvent((e) => e.event === 'assigned', 10_000);
    expect(Date.now() - killedAt).toBeLessThan(sessionTimeoutMs);
    expect(assigned.assignment).toEqual(aPartitions);
    expect(assigned.generationId).toBe(stable.generationId);

    const check = async () => {
      const now = await describeGroup(broker.url, group);
      expect(now.state).toBe('Stable');
      expect(now.generationId).toBe(stable.generationId);
      expect(now.rebalances).toBe(stable.rebalances);
      expect(byInstance(now, 'static-a').memberId).toBe(again.memberId());
      expect(assignments(now, topic).get(again.memberId())).toEqual(aPartitions);
      expect(byInstance(now, 'static-b')).toEqual(byInstance(stable, 'static-b'));
    };
    await check();

    // The restarted member consumes its partitions; and once the old session would have run out, still
    // nothing has moved.
    const produced = await produceKeyed(broker.url, topic, 0, 600);
    const all = () => [a, again, b].flatMap((p) => readLines(p.outFile));
    await waitUntil(() => (missing(produced, all()).length === 0 ? true : undefined), 20_000, 'every record');
    const mine = new Set(aPartitions);
    const ours = produced.filter((p) => mine.has(p.partition));
    expect(missing(ours, readLines(again.outFile))).toEqual([]);
    await sleep(Math.max(0, killedAt + sessionTimeoutMs + 1000 - Date.now()));
    await check();
    expect(b.events.slice(bEventsBefore)).toEqual([]);
  }, 60_000);
});

describe('consumer groups across broker restarts (raw HTTP)', () => {
  interface Expected {
    offset: number;
    metadata: string;
  }
  type OffsetRow = Expected & { topic: string; partition: number; commitTimestamp: number };

  async function offsetsOf(url: string, group: string): Promise<OffsetRow[]> {
    const answer = await requestJson<{ offsets: OffsetRow[] }>(`${url}/v1/groups/${group}/offsets`);
    expect(answer.status).toBe(200);
    return answer.body.offsets;
  }

  /** The offsets as `topic/partition` → {offset, metadata}, to compare with what was acknowledged. */
  function asExpected(rows: OffsetRow[]): Record<string, Expected> {
    return Object.fromEntries(
      rows.map((r) => [`${r.topic}/${r.partition}`, { offset: r.offset, metadata: r.metadata }]),
    );
  }

  /** Joins and syncs one member; answers its id, generation and assignment. */
  async function joinAndSync(url: string, group: string, topics: string[], sessionTimeoutMs: number) {
    const joined = await post<{ memberId: string; generationId: number }>(`${url}/v1/groups/${group}/join`, {
      topics,
      sessionTimeoutMs,
      rebalanceTimeoutMs: sessionTimeoutMs,
    });
    expect(joined.status).toBe(200);
    const { memberId, generationId } = joined.body;
    const synced = await post<{ assignment: Array<{ topic: string; partitions: number[] }> }>(
      `${url}/v1/groups/${group}/sync`,
      { memberId, generationId },
    );
    expect(synced.status).toBe(200);
    return { memberId, generationId, assignment: synced.body.assignment };
  }

  it('keeps committed offsets, metadata and a Stable member across a SIGTERM restart', async () => {
    const first = await start();
    const orders = uniqueTopic('orders');
    const events = uniqueTopic('events');
    await createTopic(first.url, orders, 3);
    await createTopic(first.url, events, 4);
    const groups = ['admin-a', 'admin-b', 'admin-c'].map((g) => `${g}-${orders}`);
    const expected = new Map<string, Record<string, Expected>>(groups.map((g) => [g, {}]));
    // Admin commits (no member) in rounds that overwrite one another, with varied metadata.
    for (let round = 0; round < 4; round++) {
      for (const [gi, group] of groups.entries()) {
        const offsets = [
          {
            topic: orders,
            partition: (round + gi) % 3,
            offset: 10 * round + gi,
            metadata: `r${round} ✓ ${gi}`,
          },
          {
            topic: events,
            partition: (round * 3 + gi) % 4,
            offset: 100 + round,
            metadata: round % 2 ? '' : 'ü',
          },
        ];
        const answer = await post(`${first.url}/v1/groups/${group}/offsets`, { offsets });
        expect(answer.status).toBe(200);
        for (const o of offsets) {
          expected.get(group)![`${o.topic}/${o.partition}`] = { offset: o.offset, metadata: o.metadata };
        }
      }
    }
    // A group with a Stable member that commits under its generation.
    const memberGroup = `member-${orders}`;
    const member = await joinAndSync(first.url, memberGroup, [orders, events], 10_000);
    expect(member.assignment.flatMap((a) => a.partitions)).toHaveLength(7);
    const memberExpected: Record<string, Expected> = {};
    for (let round = 0; round < 3; round++) {
      const offsets = [0, 1, 2].map((p) => ({
        topic: orders,
        partition: p,
        offset: round * 7 + p,
        metadata: `m${round}`,
      }));
      const answer = await post(`${first.url}/v1/groups/${memberGroup}/offsets`, {
        memberId: member.memberId,
        generationId: member.generationId,
        offsets,
      });
      expect(answer.status).toBe(200);
      for (const o of offsets)
        memberExpected[`${o.topic}/${o.partition}`] = { offset: o.offset, metadata: o.metadata };
    }
    const heartbeat = (url: string) =>
      post(`${url}/v1/groups/${memberGroup}/heartbeat`, {
        memberId: member.memberId,
        generationId: member.generationId,
      });
    expect((await heartbeat(first.url)).status).toBe(200);
    const before = new Map<string, OffsetRow[]>();
    for (const group of [...groups, memberGroup]) before.set(group, await offsetsOf(first.url, group));
    const describedBefore = await describeGroup(first.url, memberGroup);

    await first.stop();
    expect(first.process.exitCode).toBe(0);
    const second = await start(first.dataDir);
    // Within the member's session timeout of the restart, its old generation is still good.
    expect((await heartbeat(second.url)).status).toBe(200);

    for (const group of groups) {
      const rows = await offsetsOf(second.url, group);
      expect(asExpected(rows)).toEqual(expected.get(group));
      expect(rows).toEqual(before.get(group));
    }
    const memberRows = await offsetsOf(second.url, memberGroup);
    expect(asExpected(memberRows)).toEqual(memberExpected);
    expect(memberRows).toEqual(before.get(memberGroup));
    const described = await describeGroup(second.url, memberGroup);
    expect(described.state).toBe('Stable');
    expect(described.generationId).toBe(member.generationId);
    expect(described.members.map((m) => [m.memberId, m.assignment])).toEqual(
      describedBefore.members.map((m) => [m.memberId, m.assignment]),
    );
  });

  it('keeps the last of 200 acknowledged commits after kill -9, and the member carries on', async () => {
    const first = await start();
    const topic = uniqueTopic('tight');
    await createTopic(first.url, topic, 4);
    const memberGroup = `member-${topic}`;
    const adminGroup = `admin-${topic}`;
    const member = await joinAndSync(first.url, memberGroup, [topic], 10_000);
    const expected: Record<string, Record<string, Expected>> = { [memberGroup]: {}, [adminGroup]: {} };
    for (let i = 0; i < 200; i++) {
      const byMember = i % 2 === 0;
      const group = byMember ? memberGroup : adminGroup;
      const offsets = [{ topic, partition: i % 4, offset: 1000 + i, metadata: `commit ${i}` }];
      const answer = await post(`${first.url}/v1/groups/${group}/offsets`, {
        ...(byMember ? { memberId: member.memberId, generationId: member.generationId } : {}),
        offsets,
      });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expected[group]![`${topic}/${i % 4}`] = { offset: 1000 + i, metadata: `commit ${i}` };
    }
    await first.kill9();

    const second = await start(first.dataDir);
    const heartbeat = await post(`${second.url}/v1/groups/${memberGroup}/heartbeat`, {
      memberId: member.memberId,
      generationId: member.generationId,
    });
    expect(heartbeat.status, JSON.stringify(heartbeat.body)).toBe(200);
    for (const group of [memberGroup, adminGroup]) {
      expect(asExpected(await offsetsOf(second.url, group))).toEqual(expected[group]);
    }
    expect(expected[adminGroup]![`${topic}/3`]).toEqual({ offset: 1199, metadata: 'commit 199' });
    const described = await describeGroup(second.url, memberGroup);
    expect(described.state).toBe('Stable');
    expect(described.members.map((m) => m.memberId)).toEqual([member.memberId]);
    // The replayed generation takes commits as before.
    const commit = await post(`${second.url}/v1/groups/${memberGroup}/offsets`, {
      memberId: member.memberId,
      generationId: member.generationId,
      offsets: [{ topic, partition: 0, offset: 5000 }],
    });
    expect(commit.status, JSON.stringify(commit.body)).toBe(200);
  });
});

describe('fencing (raw HTTP)', () => {
  it('refuses commits from a member fenced out of the group, or from an older generation', async () => {
    const broker = await start();
    const topic = uniqueTopic('fence');
    await createTopic(broker.url, topic, 2);
    const group = `group-${topic}`;
    const base = `${broker.url}/v1/groups/${group}`;
    const join = (body: Record<string, unknown>) =>
      post<{ memberId: string; generationId: number }>(`${base}/join`, { topics: [topic], ...body });
    /** Commits `{partition: offset}` under the member's id and the given generation. */
    const commit = (memberId: string, generationId: number, offsets: Record<number, number>) =>
      post<ErrorBody>(`${base}/offsets`, {
        memberId,
        generationId,
        offsets: Object.entries(offsets).map(([p, offset]) => ({
          topic,
          partition: Number(p),
          offset,
          metadata: 'm',
        })),
      });
    const committed = async () => (await requestJson(`${base}/offsets?topic=${topic}`)).body;

    // The zombie: joins, syncs, commits, then goes silent (no heartbeats) and its 1 s session lapses.
    const zombie = (await join({ sessionTimeoutMs: 1000, rebalanceTimeoutMs: 1000 })).body;
    expect((await post(`${base}/sync`, zombie)).status).toBe(200);
    expect((await commit(zombie.memberId, zombie.generationId, { 0: 5, 1: 7 })).status).toBe(200);
    const afterZombie = await committed();

    const joinedAt = Date.now();
    const next = await join({ sessionTimeoutMs: 5000, rebalanceTimeoutMs: 5000 });
    expect(next.status).toBe(200);
    const live = next.body;
    expect(Date.now() - joinedAt).toBeLessThan(4500);
    expect(live.generationId).toBeGreaterThan(zombie.generationId);
    const synced = await post<{ assignment: Array<{ topic: string; partitions: number[] }> }>(
      `${base}/sync`,
      live,
    );
    expect(synced.body.assignment).toEqual([{ topic, partitions: [0, 1] }]);
    const described = await describeGroup(broker.url, group);
    expect(described.members.map((m) => m.memberId)).toEqual([live.memberId]);

    const stale = await commit(zombie.memberId, zombie.generationId, { 0: 99 });
    expect(stale.status).toBe(409);
    expect(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']).toContain(stale.body.error.code);
    const staleHeartbeat = await post<ErrorBody>(`${base}/heartbeat`, zombie);
    expect(staleHeartbeat.status).toBe(409);
    expect(staleHeartbeat.body.error.code).toBe('UNKNOWN_MEMBER_ID');
    expect(await committed()).toEqual(afterZombie);

    // A member still in the group but a generation behind: a third member joins, the live one rejoins,
    // and its commit under the old generation is refused.
    const third = join({ sessionTimeoutMs: 5000, rebalanceTimeoutMs: 5000 });
    const rebalancing = await waitUntil(
      async () => {
        const answer = await post<ErrorBody>(`${base}/heartbeat`, live);
        return answer.status === 409 ? answer : undefined;
      },
      5000,
      'the rebalance',
    );
    expect(rebalancing.body.error.code).toBe('REBALANCE_IN_PROGRESS');
    const rejoined = (
      await join({ memberId: live.memberId, sessionTimeoutMs: 5000, rebalanceTimeoutMs: 5000 })
    ).body;
    const thirdMember = (await third).body;
    expect(rejoined.generationId).toBe(live.generationId + 1);
    expect(thirdMember.generationId).toBe(rejoined.generationId);
    expect((await post(`${base}/sync`, rejoined)).status).toBe(200);
    expect((await post(`${base}/sync`, thirdMember)).status).toBe(200);

    const behind = await commit(live.memberId, live.generationId, { 0: 42 });
    expect(behind.status).toBe(409);
    expect(behind.body.error.code).toBe('ILLEGAL_GENERATION');
    expect(await committed()).toEqual(afterZombie);
    // The same member under its current generation commits: the refusals were about the generation.
    expect((await commit(rejoined.memberId, rejoined.generationId, { 0: 42 })).status).toBe(200);
    const offsets = (await committed()) as { offsets: Array<{ partition: number; offset: number }> };
    expect(offsets.offsets.map((o) => [o.partition, o.offset])).toEqual([
      [0, 42],
      [1, 7],
    ]);
  });
});

describe('cooperative-sticky rebalancing (in-process consumers)', () => {
  it('a third member takes partitions only from what the first two revoke, and they never stop consuming', async () => {
    const broker = await start();
    const topic = uniqueTopic('coop');
    const group = `group-${topic}`;
    await createTopic(broker.url, topic, 6);

    type Seen = { at: number; partition: number; offset: number };
    interface Tracked {
      consumer: Consumer;
      seen: Seen[];
      revoked: Array<{ at: number; partitions: number[] }>;
      assigned: Array<{ at: number; partitions: number[] }>;
      polling: { stop(): Promise<void> };
    }
    let slowRevoke = false;
    const track = (name: string): Tracked => {
      const consumer = new Consumer({ url: broker.url, autoOffsetReset: 'earliest', fetchMaxWaitMs: 200 });
      consumers.push(consumer);
      const seen: Seen[] = [];
      const revoked: Tracked['revoked'] = [];
      const assigned: Tracked['assigned'] = [];
      const parts = (list: TopicPartition[]) => list.map((tp) => tp.partition).sort((a, b) => a - b);
      consumer.subscribe([topic], {
        groupId: group,
        sessionTimeoutMs: 3000,
        heartbeatIntervalMs: 300,
        autoCommitIntervalMs: 200,
        onAssigned: (list) => void assigned.push({ at: Date.now(), partitions: parts(list) }),
        onRevoked: async (list) => {
          revoked.push({ at: Date.now(), partitions: parts(list) });
          // The second member is slow to give its partitions up: the rebalance lasts at least this long.
          if (slowRevoke && name === 'second') await sleep(800);
        },
        onLost: (list) => void revoked.push({ at: Date.now(), partitions: parts(list) }),
      });
      const polling = background(async () => {
        const records = await consumer.poll({ maxWaitMs: 200 });
        // Taken synchronously after poll, as an application would before the next poll.
        const at = Date.now();
        for (const r of records) seen.push({ at, partition: r.partition, offset: r.offset });
      });
      return { consumer, seen, revoked, assigned, polling };
    };

    const produced: Produced[] = [];
    let round = 0;
    const producer = background(async () => {
      const value = `r${round++}`;
      const records = [0, 1, 2, 3, 4, 5].map((partition) => ({ partition, value }));
      for (const r of await produceJson(broker.url, topic, records)) produced.push({ ...r, value });
      await sleep(30);
    });

    const first = track('first');
    const second = track('second');
    const balanced = (g: GroupDescription) =>
      [...assignments(g, topic).values()].every((p) => p.length === 6 / g.members.length);
    const two = await waitForFullAssignment(broker.url, group, topic, 2, { extra: balanced });
    const memberOf = (t: Tracked) => t.consumer.groupMetadata()!.memberId;
    const kept0 = {
      first: assignments(two, topic).get(memberOf(first))!,
      second: assignments(two, topic).get(memberOf(second))!,
    };
    first.revoked.length = 0;
    second.revoked.length = 0;
    slowRevoke = true;

    const third = track('third');
    const three = await waitForFullAssignment(broker.url, group, topic, 3, { extra: balanced });
    const final = assignments(three, topic);
    const handedOver = await waitUntil(
      () => third.assigned.find((a) => a.partitions.length > 0),
      5000,
      'handover',
    );

    for (const name of ['first', 'second'] as const) {
      const tracked = { first, second }[name];
      const revoked = tracked.revoked.flatMap((r) => r.partitions);
      const kept = final.get(memberOf(tracked))!;
      expect(
        kept.filter((p) => !kept0[name].includes(p)),
        `${name} only keeps`,
      ).toEqual([]);
      // Revoked: exactly what it gave up, each once, all of it to the new member.
      expect([...revoked].sort(), `${name} revoked`).toEqual(kept0[name].filter((p) => !kept.includes(p)));
      expect(revoked.every((p) => final.get(memberOf(third))!.includes(p))).toBe(true);
      // It kept consuming its kept partitions while the group rebalanced (from the second member's
      // revocation, which holds the rebalance up 800 ms, to the handover).
      const from = second.revoked[0]!.at;
      const during = tracked.seen.filter(
        (s) => s.at >= from && s.at <= handedOver.at && kept.includes(s.partition),
      );
      expect(during.length, `${name} records during the rebalance`).toBeGreaterThan(0);
    }
    expect([...final.get(memberOf(third))!].sort()).toEqual(
      [...first.revoked, ...second.revoked].flatMap((r) => r.partitions).sort(),
    );

    await producer.stop();
    const all = () => [first, second, third].flatMap((t) => t.seen.map(where));
    await waitUntil(
      () => {
        const seen = new Set(all());
        return produced.every((p) => seen.has(where(p))) ? true : undefined;
      },
      20_000,
      'every record',
    );
    // Revocation commits the position, so the new owner starts exactly there: no record twice.
    expect(all().length).toBe(new Set(all()).size);
    await Promise.all([first, second, third].map((t) => t.polling.stop()));
    await Promise.all(consumers.splice(0).map((c) => c.close()));
  }, 60_000);
});
