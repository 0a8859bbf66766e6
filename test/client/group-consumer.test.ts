/**
 * @module
 * Consumer groups through the client (`Consumer.subscribe`) against real broker processes: disjoint
 * assignments that cover the topic, commit and resume, cooperative-sticky moving only what it must, eager
 * revoke-all, static members restarting without a rebalance, fencing (stale generation, FENCED_INSTANCE_ID),
 * pause/resume, and close() with the broker gone. Each member's callbacks and records go into one timeline,
 * and every test checks that no record arrived for a partition the member did not own at that moment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerOptions,
  type ConsumerRecord,
  FreshetError,
  HttpClient,
  Producer,
  type SubscribeOptions,
  type TopicPartition,
} from '../../src/client/index.ts';
import { type BrokerHandle, BUN, REPO_ROOT, startBroker } from '../support/broker.ts';
import { text, uniqueTopic, waitFor } from './helpers.ts';

const GROUP_ARGS = ['--group-min-session-timeout-ms', '500', '--group-initial-rebalance-delay-ms', '0'];
const SCRIPT = 'test/client/group-member-script.ts';
const DENO = path.join(REPO_ROOT, 'node_modules/.bin/deno');

let broker: BrokerHandle;
let admin: Admin;
let producer: Producer;
let members: Member[] = [];

beforeAll(async () => {
  broker = await startBroker({ workers: 2, args: GROUP_ARGS });
  admin = new Admin({ url: broker.url });
  producer = new Producer({ url: broker.url, lingerMs: 1 });
});
afterEach(async () => {
  await Promise.all(members.map((m) => m.close()));
  members = [];
});
afterAll(async () => {
  await producer?.close();
  await broker?.stop();
});

type Event =
  | { kind: 'assigned' | 'revoked' | 'lost'; partitions: number[] }
  | { kind: 'record'; partition: number; value: string };

interface Member {
  consumer: Consumer;
  timeline: Event[];
  records: ConsumerRecord[];
  errors: unknown[];
  /** Partitions as numbers, ascending. */
  partitions(): number[];
  events(kind: 'assigned' | 'revoked' | 'lost'): number[][];
  close(): Promise<void>;
}

interface MemberOptions extends Partial<SubscribeOptions> {
  consumer?: ConsumerOptions;
  /** Do not poll in the background. */
  noPump?: boolean;
}

const numbers = (partitions: TopicPartition[]) => partitions.map((tp) => tp.partition).sort((a, b) => a - b);

/** A group member whose callbacks and polled records are recorded, polled in the background. */
function member(topic: string, groupId: string, options: MemberOptions = {}): Member {
  const { consumer: consumerOptions, noPump, ...subscribe } = options;
  const consumer = new Consumer({
    url: broker.url,
    fetchMaxWaitMs: 200,
    autoOffsetReset: 'earliest',
    ...consumerOptions,
  });
  const timeline: Event[] = [];
  const records: ConsumerRecord[] = [];
  const errors: unknown[] = [];
  consumer.subscribe([topic], {
    groupId,
    sessionTimeoutMs: 1_500,
    heartbeatIntervalMs: 300,
    rebalanceTimeoutMs: 10_000,
    onAssigned: (tps) => void timeline.push({ kind: 'assigned', partitions: numbers(tps) }),
    onRevoked: (tps) => void timeline.push({ kind: 'revoked', partitions: numbers(tps) }),
    onLost: (tps) => void timeline.push({ kind: 'lost', partitions: numbers(tps) }),
    ...subscribe,
  });
  let running = !noPump;
  const pump = (async () => {
    while (running) {
      try {
        for (const record of await consumer.poll({ maxWaitMs: 100 })) {
          records.push(record);
          timeline.push({ kind: 'record', partition: record.partition, value: text(record.value)! });
        }
      } catch (err) {
        errors.push(err);
      }
    }
  })();
  const m: Member = {
    consumer,
    timeline,
    records,
    errors,
    partitions: () => numbers(consumer.assignment()),
    events: (kind) => timeline.flatMap((e) => (e.kind === kind ? [e.partitions] : [])),
    async close() {
      // poll() on a closed consumer answers [] at once: stop the pump first, or it would spin.
      running = false;
      await pump;
      await consumer.close();
    },
  };
  members.push(m);
  return m;
}

/** Replays a timeline: every record must belong to a partition owned at that point. */
function expectOnlyOwnedDelivered(m: Member): void {
  const owned = new Set<number>();
  for (const event of m.timeline) {
    if (event.kind === 'record') {
      expect(owned.has(event.partition), `record of p${event.partition} while not owned`).toBe(true);
    } else if (event.kind === 'assigned') {
      for (const p of event.partitions) owned.add(p);
    } else {
      for (const p of event.partitions) owned.delete(p);
    }
  }
}

/** Waits until the members' assignments are disjoint and together cover `count` partitions, each `each`. */
async function waitBalanced(
  group: Member[],
  count: number,
  each?: number,
  timeoutMs = 15_000,
): Promise<void> {
  await waitFor(
    () => {
      const all = group.flatMap((m) => m.partitions());
      if (all.length !== count || new Set(all).size !== count) return false;
      return each === undefined || group.every((m) => m.partitions().length === each);
    },
    timeoutMs,
    `${group.length} members sharing ${count} partitions`,
  );
}

async function topicWith(prefix: string, partitions: number): Promise<string> {
  const topic = uniqueTopic(prefix);
  await admin.createTopic(topic, { partitions });
  return topic;
}

/** Produces `perPartition` records to each partition, values `${tag}-${partition}-${i}`. */
async function produce(
  topic: string,
  partitions: number,
  perPartition: number,
  tag: string,
): Promise<string[]> {
  const values: string[] = [];
  const records = [];
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < perPartition; i++) {
      const value = `${tag}-${p}-${i}`;
      values.push(value);
      records.push({ value, partition: p });
    }
  }
  await producer.send(topic, records);
  return values;
}

const valuesOf = (m: Member) => m.records.map((r) => text(r.value)!);

/** A group member in its own process (group-member-script.ts); `stdout()` is what it printed so far. */
function memberProcess(
  command: string,
  args: string[],
): { child: ChildProcess; stdout(): string; exited: Promise<void> } {
  const child = spawn(command, [...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, stdout: () => stdout + stderr, exited };
}

async function describeGroup(
  groupId: string,
): Promise<{ generationId: number; rebalances: number; members: unknown[] }> {
  return new HttpClient({ url: broker.url }).request('GET', `/v1/groups/${encodeURIComponent(groupId)}`);
}

describe('Consumer.subscribe', () => {
  it('shares a 6-partition topic among 3 members, disjointly, and together they get every record', async () => {
    const topic = await topicWith('share', 6);
    const before = await produce(topic, 6, 10, 'before');
    const group = uniqueTopic('g-share');
    const trio = [member(topic, group), member(topic, group), member(topic, group)];
    await waitBalanced(trio, 6, 2);
    const after = await produce(topic, 6, 10, 'after');
    const expected = new Set([...before, ...after]);
    await waitFor(
      () => {
        const seen = new Set(trio.flatMap(valuesOf));
        return [...expected].every((v) => seen.has(v));
      },
      10_000,
      'every record delivered',
    );
    for (const m of trio) {
      expectOnlyOwnedDelivered(m);
      expect(m.errors).toEqual([]);
      expect(m.consumer.groupMetadata()).toMatchObject({ groupId: group, assignor: 'cooperative-sticky' });
    }
    // Each member read only its own partitions after the group settled.
    const owners = new Map<number, number>();
    trio.forEach((m, i) => {
      for (const p of m.partitions()) owners.set(p, i);
    });
    for (const [i, m] of trio.entries()) {
      for (const r of m.records)
        if (text(r.value)!.startsWith('after')) expect(owners.get(r.partition)).toBe(i);
    }
  });

  it('commits, closes, and a new member resumes from the committed offsets with nothing delivered twice', async () => {
    const topic = await topicWith('resume', 3);
    const first = await produce(topic, 3, 10, 'first');
    const group = uniqueTopic('g-resume');
    const a = member(topic, group, { autoCommit: false });
    await waitFor(() => a.records.length >= 30, 10_000, 'the first 30 records');
    await a.consumer.commit();
    for (let p = 0; p < 3; p++) expect(await a.consumer.committed(topic, p)).toBe(10);
    expect(new Set(valuesOf(a))).toEqual(new Set(first));
    await a.close();

    const second = await produce(topic, 3, 5, 'second');
    // Auto-commit this time: in the background, and on close().
    const b = member(topic, group, { autoCommitIntervalMs: 200 });
    await waitFor(() => b.records.length >= 15, 10_000, 'the next 15 records');
    const committed = async () => Promise.all([0, 1, 2].map((p) => b.consumer.committed(topic, p)));
    const deadline = Date.now() + 5_000;
    while ((await committed()).some((o) => o !== 15) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await committed()).toEqual([15, 15, 15]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(valuesOf(b).sort()).toEqual([...second].sort());
    await b.close();
    const c = member(topic, group);
    await waitBalanced([c], 3);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(c.records).toEqual([]);
    for (let p = 0; p < 3; p++) expect(await c.consumer.committed(topic, p)).toBe(15);
  });

  it('onRevoked may commit the positions itself (autoCommit off), also when close() revokes', async () => {
    const topic = await topicWith('on-revoked', 1);
    await produce(topic, 1, 5, 'v');
    const group = uniqueTopic('g-on-revoked');
    let consumer: Consumer | undefined;
    const m = member(topic, group, {
      autoCommit: false,
      onRevoked: async () => {
        await consumer!.commit();
      },
    });
    consumer = m.consumer;
    await waitFor(() => m.records.length >= 5, 10_000, 'the records');
    expect(await consumer.committed(topic, 0)).toBeNull();
    await m.close();
    await expect(consumer.commit()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    const { offsets } = await new HttpClient({ url: broker.url }).request<{
      offsets: Array<{ offset: number }>;
    }>('GET', `/v1/groups/${group}/offsets`, { query: { topic } });
    expect(offsets.map((o) => o.offset)).toEqual([5]);
  });

  it('cooperative-sticky: a new member takes partitions without the others giving up what they keep', async () => {
    const topic = await topicWith('coop', 6);
    await produce(topic, 6, 5, 'x');
    const group = uniqueTopic('g-coop');
    const a = member(topic, group);
    const b = member(topic, group);
    await waitBalanced([a, b], 6, 3);
    const before = [a.partitions(), b.partitions()];
    const marks = [a.timeline.length, b.timeline.length];
    const c = member(topic, group);
    await waitBalanced([a, b, c], 6, 2);
    for (const [i, m] of [a, b].entries()) {
      const after = m.partitions();
      const later = m.timeline.slice(marks[i]);
      const revoked = later.flatMap((e) => (e.kind === 'revoked' ? e.partitions : []));
      const assigned = later.flatMap((e) => (e.kind === 'assigned' ? e.partitions : []));
      const kept = before[i]!.filter((p) => after.includes(p));
      expect(kept.length).toBe(2);
      // Only the partition that moved was revoked; nothing new came in; nothing was lost.
      expect(revoked.sort()).toEqual(before[i]!.filter((p) => !after.includes(p)));
      expect(assigned).toEqual([]);
      expect(later.some((e) => e.kind === 'lost')).toBe(false);
    }
    expect(c.events('revoked')).toEqual([]);
    expect(c.events('assigned').flat().sort()).toEqual(c.partitions());
    for (const m of [a, b, c]) {
      expectOnlyOwnedDelivered(m);
      expect(m.errors).toEqual([]);
    }
  });

  it('eager range: every member revokes everything, then gets its new assignment', async () => {
    const topic = await topicWith('eager', 4);
    await produce(topic, 4, 5, 'x');
    const group = uniqueTopic('g-eager');
    const a = member(topic, group, { assignors: ['range'] });
    await waitBalanced([a], 4);
    const b = member(topic, group, { assignors: ['range'] });
    await waitBalanced([a, b], 4, 2);
    // range orders members by member id (random): either may get the first half.
    const [aHalf, bHalf] =
      a.partitions()[0] === 0
        ? [
            [0, 1],
            [2, 3],
          ]
        : [
            [2, 3],
            [0, 1],
          ];
    const callbacks = a.timeline.filter((e) => e.kind !== 'record');
    expect(callbacks).toEqual([
      { kind: 'assigned', partitions: [0, 1, 2, 3] },
      { kind: 'revoked', partitions: [0, 1, 2, 3] },
      { kind: 'assigned', partitions: aHalf },
    ]);
    expect(b.timeline.filter((e) => e.kind !== 'record')).toEqual([{ kind: 'assigned', partitions: bHalf }]);
    expect(a.consumer.groupMetadata()?.assignor).toBe('range');
    expect(b.consumer.groupMetadata()?.generationId).toBe(a.consumer.groupMetadata()?.generationId);
    // What `a` read before the rebalance was committed on revocation: `b` starts after it.
    await waitFor(() => a.records.length + b.records.length >= 20, 10_000, 'all 20 records');
    const all = [...valuesOf(a), ...valuesOf(b)];
    expect(new Set(all).size).toBe(20);
    expect(all.length).toBe(20);
    for (const m of [a, b]) expectOnlyOwnedDelivered(m);
  });

  it('drops the buffered records of a revoked partition: nothing of it is delivered after onRevoked', async () => {
    const topic = await topicWith('drop', 2);
    const values = await produce(topic, 2, 5, 'd');
    const group = uniqueTopic('g-drop');
    const a = member(topic, group, { assignors: ['range'], noPump: true });
    await waitFor(() => a.partitions().length === 2, 10_000, 'the first assignment');
    // Let both fetchers fill their buffers while nobody polls.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const b = member(topic, group, { assignors: ['range'] });
    await waitBalanced([a, b], 2, 1);
    const [kept] = a.partitions();
    const records: ConsumerRecord[] = [];
    const deadline = Date.now() + 1_000;
    while (Date.now() < deadline) records.push(...(await a.consumer.poll({ maxWaitMs: 100 })));
    expect(records.map((r) => r.partition)).toEqual([kept, kept, kept, kept, kept]);
    await waitFor(() => b.records.length >= 5, 5_000, "b's records");
    // Nothing was handed out before the revocation, so nothing was committed past it: b reads from 0.
    expect([...records, ...b.records].map((r) => text(r.value)).sort()).toEqual([...values].sort());
  });

  it('a static member that closes and comes back within the session timeout keeps its partitions, no rebalance', async () => {
    const topic = await topicWith('static', 4);
    await produce(topic, 4, 3, 'x');
    const group = uniqueTopic('g-static');
    const options = { sessionTimeoutMs: 5_000, heartbeatIntervalMs: 300 };
    const s1 = member(topic, group, { ...options, groupInstanceId: 'one' });
    const s2 = member(topic, group, { ...options, groupInstanceId: 'two' });
    await waitBalanced([s1, s2], 4, 2);
    await waitFor(() => s1.records.length + s2.records.length >= 12, 10_000, 'all 12 records');
    const generation = s1.consumer.groupMetadata()!.generationId;
    const partitions = s1.partitions();
    const described = await describeGroup(group);
    const s2Mark = s2.timeline.length;

    await s1.close();
    const back = member(topic, group, { ...options, groupInstanceId: 'one' });
    await waitFor(() => back.partitions().length === 2, 10_000, 'the restarted member');
    expect(back.partitions()).toEqual(partitions);
    expect(back.consumer.groupMetadata()!.generationId).toBe(generation);
    // Several heartbeats later nobody has rebalanced: s2 saw nothing, the group is on the same generation.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(s2.timeline.slice(s2Mark).filter((e) => e.kind !== 'record')).toEqual([]);
    const now = await describeGroup(group);
    expect(now.generationId).toBe(generation);
    expect(now.rebalances).toBe(described.rebalances);
    expect(now.members).toHaveLength(2);
    // s1 committed on close: the new incarnation reads nothing again.
    expect(back.records).toEqual([]);
  });

  it('a member fenced out (no heartbeats past its session) gets the broker refusing its stale commit, then rejoins', async () => {
    const topic = await topicWith('fenced', 2);
    await produce(topic, 2, 3, 'x');
    const group = uniqueTopic('g-fenced');
    let frozen = false;
    const freezable = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (frozen && /\/groups\/[^/]+\/(join|sync|heartbeat)$/.test(String(input)))
        throw new TypeError('frozen');
      return fetch(input, init);
    }) as typeof fetch;
    const a = member(topic, group, { consumer: { fetch: freezable, retries: 100 } });
    await waitBalanced([a], 2);
    await waitFor(() => a.records.length >= 6, 10_000, 'the first records');
    frozen = true;
    await waitFor(() => a.events('lost').length > 0, 5_000, 'a to find its partitions lost');
    expect(a.events('lost')).toEqual([[0, 1]]);
    expect(a.events('revoked')).toEqual([]);
    const b = member(topic, group);
    await waitBalanced([b], 2);
    const stale = a.consumer.commit([{ topic, partition: 0, offset: 1 }]);
    await expect(stale).rejects.toBeInstanceOf(FreshetError);
    const code = await stale.catch((err: FreshetError) => err.code);
    expect(['ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']).toContain(code);
    // Nothing was written: b's group still reads from where it was.
    expect(await b.consumer.committed(topic, 0)).not.toBe(1);

    frozen = false;
    await waitBalanced([a, b], 2, 1);
    for (const m of [a, b]) expectOnlyOwnedDelivered(m);
  });

  it('FENCED_INSTANCE_ID: another process taking the instance id stops this member, surfaced by poll()', async () => {
    const topic = await topicWith('fenced-instance', 2);
    const group = uniqueTopic('g-instance');
    const first = member(topic, group, { groupInstanceId: 'same', noPump: true });
    await waitFor(() => first.partitions().length === 2, 10_000, 'the first member');
    const second = member(topic, group, { groupInstanceId: 'same' });
    await waitFor(() => second.partitions().length === 2, 10_000, 'the second member');
    let error: unknown;
    const deadline = Date.now() + 5_000;
    while (error === undefined && Date.now() < deadline) {
      try {
        await first.consumer.poll({ maxWaitMs: 100 });
      } catch (err) {
        error = err;
      }
    }
    expect(error).toBeInstanceOf(FreshetError);
    expect((error as FreshetError).code).toBe('FENCED_INSTANCE_ID');
    await waitFor(() => first.partitions().length === 0, 5_000, 'the fenced member to let go');
    expect(first.events('lost')).toEqual([[0, 1]]);
    await expect(first.consumer.commit()).rejects.toMatchObject({ code: 'FENCED_INSTANCE_ID' });
  });

  it('pauses and resumes a partition the group assigned', async () => {
    const topic = await topicWith('pause', 2);
    const group = uniqueTopic('g-pause');
    const m = member(topic, group, { noPump: true });
    const c = m.consumer;
    await waitFor(() => m.partitions().length === 2, 10_000, 'the assignment');
    c.pause(topic, 0);
    expect(c.paused()).toEqual([{ topic, partition: 0 }]);
    await produce(topic, 2, 5, 'p');
    const seen: ConsumerRecord[] = [];
    const deadline = Date.now() + 1_500;
    while (Date.now() < deadline) seen.push(...(await c.poll({ maxWaitMs: 100 })));
    expect(seen.map((r) => r.partition)).toEqual([1, 1, 1, 1, 1]);
    c.resume(topic, 0);
    while (seen.length < 10) seen.push(...(await c.poll({ maxWaitMs: 1_000 })));
    expect(seen.filter((r) => r.partition === 0).map((r) => text(r.value))).toEqual([
      'p-0-0',
      'p-0-1',
      'p-0-2',
      'p-0-3',
      'p-0-4',
    ]);
    await c.commit();
    expect(await c.committed(topic, 0)).toBe(5);
    expect(await c.committed(topic, 1)).toBe(5);
  });

  it('keeps assign() and subscribe() apart, and checks its options', async () => {
    const topic = await topicWith('exclusive', 1);
    const assigned = new Consumer({ url: broker.url });
    assigned.assign([{ topic, partition: 0 }]);
    expect(() => assigned.subscribe([topic], { groupId: 'g' })).toThrow(/exclusive/);
    await expect(assigned.commit()).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await assigned.close();

    const bad = new Consumer({ url: broker.url });
    expect(() =>
      bad.subscribe([topic], { groupId: 'g', sessionTimeoutMs: 1_000, heartbeatIntervalMs: 1_000 }),
    ).toThrow(/heartbeatIntervalMs/);
    expect(() => bad.subscribe([topic], { groupId: '' })).toThrow(FreshetError);
    expect(() => bad.subscribe([], { groupId: 'g' })).toThrow(FreshetError);
    expect(bad.groupMetadata()).toBeNull();
    await bad.close();

    const m = member(topic, uniqueTopic('g-exclusive'));
    expect(() => m.consumer.assign([{ topic, partition: 0 }])).toThrow(/exclusive/);
    await waitFor(() => m.partitions().length === 1, 10_000, 'the assignment');
    await m.consumer.unsubscribe();
    expect(m.consumer.groupMetadata()).toBeNull();
    expect(m.consumer.assignment()).toEqual([]);
    m.consumer.assign([{ topic, partition: 0 }]);
    expect(m.consumer.assignment()).toEqual([{ topic, partition: 0 }]);
  });

  it('runs as a group member under Bun and Deno', async () => {
    expect(existsSync(DENO), 'deno is a devDependency: npm install').toBe(true);
    const topic = await topicWith('runtimes', 2);
    await produce(topic, 2, 10, 'r');
    const runtimes: Array<[string, string, string[]]> = [
      ['bun', BUN, [SCRIPT]],
      ['deno', DENO, ['run', '--allow-net', SCRIPT]],
    ];
    for (const [runtime, command, args] of runtimes) {
      const group = uniqueTopic(`g-${runtime}`);
      const proc = memberProcess(command, [...args, broker.url, topic, group, '20']);
      const timer = setTimeout(() => proc.child.kill('SIGKILL'), 25_000);
      await proc.exited;
      clearTimeout(timer);
      const out = proc.stdout();
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line, out).toBeDefined();
      expect(JSON.parse(line!.slice('RESULT '.length))).toEqual({
        runtime,
        consumed: 20,
        distinct: 20,
        assignor: 'cooperative-sticky',
      });
      expect(out).toContain('EVENT {"kind":"assigned","partitions":[0,1]}');
      const { offsets } = await new HttpClient({ url: broker.url }).request<{
        offsets: Array<{ partition: number; offset: number }>;
      }>('GET', `/v1/groups/${group}/offsets`, { query: { topic } });
      expect(offsets.map((o) => [o.partition, o.offset])).toEqual([
        [0, 10],
        [1, 10],
      ]);
    }
  });

  it('a member process killed -9 loses its partitions to the others after its session timeout', async () => {
    const topic = await topicWith('kill', 2);
    const values = await produce(topic, 2, 10, 'k');
    const group = uniqueTopic('g-kill');
    const proc = memberProcess(BUN, [SCRIPT, broker.url, topic, group, '-1']);
    try {
      await waitFor(
        () => proc.stdout().includes('EVENT {"kind":"assigned","partitions":[0,1]}'),
        10_000,
        'the process',
      );
      const b = member(topic, group);
      await waitFor(
        () => b.partitions().length === 1 && proc.stdout().includes('EVENT {"kind":"revoked"'),
        10_000,
        'the process to hand one partition over',
      );
      proc.child.kill('SIGKILL');
      await proc.exited;
      const killedAt = Date.now();
      await waitFor(
        () => b.partitions().length === 2,
        10_000,
        "b to take over the killed member's partition",
      );
      // The broker had to notice first: no heartbeat for the session timeout (1.5 s).
      expect(Date.now() - killedAt).toBeGreaterThan(700);
      // The process committed nothing (no autoCommit): b reads its partition from the start.
      await waitFor(() => new Set(valuesOf(b)).size === 20, 10_000, 'every record');
      expect(new Set(valuesOf(b))).toEqual(new Set(values));
      expect(b.events('lost')).toEqual([]);
      expectOnlyOwnedDelivered(b);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('close() does not hang when the broker is gone', async () => {
    const lonely = await startBroker({ workers: 1, args: GROUP_ARGS });
    try {
      const topic = uniqueTopic('gone');
      await new Admin({ url: lonely.url }).createTopic(topic, { partitions: 1 });
      const c = new Consumer({ url: lonely.url, fetchMaxWaitMs: 200, requestTimeoutMs: 60_000 });
      const assigned: number[] = [];
      c.subscribe([topic], {
        groupId: 'g',
        sessionTimeoutMs: 1_500,
        heartbeatIntervalMs: 300,
        onAssigned: (tps) => void assigned.push(...numbers(tps)),
      });
      await waitFor(() => assigned.length === 1, 10_000, 'the assignment');
      await lonely.kill9();
      const started = Date.now();
      await c.close();
      expect(Date.now() - started).toBeLessThan(4_000);
    } finally {
      await lonely.stop();
    }
  });
});
