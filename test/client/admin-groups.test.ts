/**
 * @module
 * Admin's consumer-group calls against a real broker process, with a group member driven over the HTTP
 * endpoints by hand (join → sync → heartbeat → commit → leave), which also checks the wire contract of
 * docs/http-api.md "Consumer groups": list and describe with lag, member and admin commits, offset fetches,
 * resets to every kind of target, deletion, errors, and the group series of /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, FreshetError } from '../../src/client/index.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import { uniqueTopic } from './helpers.ts';

let broker: BrokerHandle;
let admin: Admin;

beforeAll(async () => {
  broker = await startBroker({
    workers: 2,
    args: ['--group-min-session-timeout-ms', '500', '--group-initial-rebalance-delay-ms', '0'],
  });
  admin = new Admin({ url: broker.url });
});
afterAll(async () => {
  await broker?.stop();
});

// biome-ignore lint/suspicious/noExplicitAny: answer bodies are asserted on, not typed
type Answer = { status: number; body: any };

/** A JSON request as any HTTP client (curl, a browser) would send it. */
async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(broker.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

function groupPath(groupId: string): string {
  return `/v1/groups/${encodeURIComponent(groupId)}`;
}

/** One group member over plain HTTP: joined, synced, heartbeating until it leaves. */
interface Member {
  memberId: string;
  generationId: number;
  join: Answer;
  sync: Answer;
  heartbeats: Answer[];
  commit(
    offsets: Array<{ topic: string; partition: number; offset: number; metadata?: string }>,
  ): Promise<Answer>;
  leave(): Promise<Answer>;
}

async function joinGroup(groupId: string, topics: string[]): Promise<Member> {
  const path = groupPath(groupId);
  const join = await call('POST', `${path}/join`, {
    memberId: '',
    topics,
    assignors: ['range'],
    sessionTimeoutMs: 3_000,
    rebalanceTimeoutMs: 5_000,
    clientId: 'admin-groups-test',
  });
  expect(join.status, JSON.stringify(join.body)).toBe(200);
  const { memberId, generationId } = join.body as { memberId: string; generationId: number };
  const sync = await call('POST', `${path}/sync`, { memberId, generationId });
  expect(sync.status, JSON.stringify(sync.body)).toBe(200);
  const heartbeats: Answer[] = [];
  const beat = async () =>
    heartbeats.push(await call('POST', `${path}/heartbeat`, { memberId, generationId }));
  await beat();
  const timer = setInterval(() => void beat().catch(() => {}), 500);
  return {
    memberId,
    generationId,
    join,
    sync,
    heartbeats,
    commit: (offsets) => call('POST', `${path}/offsets`, { memberId, generationId, offsets }),
    async leave() {
      clearInterval(timer);
      return call('POST', `${path}/leave`, { memberId });
    },
  };
}

/** Produces `count` records to one partition, timestamps `firstTimestamp`, +1000, +2000, ... */
async function produce(topic: string, partition: number, count: number, firstTimestamp = Date.now()) {
  const records = Array.from({ length: count }, (_, i) => ({
    value: `v${i}`,
    partition,
    timestamp: firstTimestamp + i * 1_000,
  }));
  const answer = await call('POST', `/v1/topics/${encodeURIComponent(topic)}/records`, { records });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
}

async function rejection(promise: Promise<unknown>): Promise<FreshetError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FreshetError);
  return err as FreshetError;
}

let groupCounter = 0;
function uniqueGroup(prefix: string): string {
  return `${prefix}-${process.pid}-${++groupCounter}`;
}

/** The value of one series in Prometheus text, or undefined when it is absent. */
function sample(metrics: string, series: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Admin consumer groups', () => {
  it('speaks the member protocol over plain HTTP and shows the group with lag', async () => {
    const topic = uniqueTopic('groups-lag');
    const groupId = uniqueGroup('lag');
    await admin.createTopic(topic, { partitions: 2 });
    await produce(topic, 0, 5);
    await produce(topic, 1, 3);

    const member = await joinGroup(groupId, [topic]);
    expect(member.join.body).toMatchObject({
      memberId: expect.any(String),
      generationId: expect.any(Number),
      assignor: 'range',
      leader: member.memberId,
    });
    expect(member.memberId).not.toBe('');
    expect(member.generationId).toBeGreaterThanOrEqual(1);
    // Only the leader gets the member list; this member is the leader.
    expect(member.join.body.members).toEqual([
      expect.objectContaining({ memberId: member.memberId, topics: [topic] }),
    ]);
    expect(member.sync.body).toEqual({ assignor: 'range', assignment: [{ topic, partitions: [0, 1] }] });
    expect(member.heartbeats[0]).toEqual({ status: 200, body: {} });

    try {
      expect(await admin.listGroups()).toContainEqual({
        groupId,
        protocolType: 'consumer',
        state: 'Stable',
        members: 1,
      });
      const before = await admin.describeGroup(groupId);
      expect(before).toMatchObject({
        groupId,
        state: 'Stable',
        protocolType: 'consumer',
        assignor: 'range',
        generationId: member.generationId,
        leader: member.memberId,
      });
      expect(before.rebalances).toBeGreaterThanOrEqual(1);
      expect(before.members).toEqual([
        {
          memberId: member.memberId,
          groupInstanceId: null,
          clientId: 'admin-groups-test',
          clientHost: expect.any(String),
          topics: [topic],
          assignment: [{ topic, partitions: [0, 1] }],
        },
      ]);
      // Owned, nothing committed yet: committedOffset -1, lag null.
      expect(sortPartitions(before.partitions)).toEqual([
        {
          topic,
          partition: 0,
          memberId: member.memberId,
          committedOffset: -1,
          logEndOffset: 5,
          lag: null,
          metadata: expect.any(String),
          commitTimestamp: -1,
        },
        expect.objectContaining({ partition: 1, committedOffset: -1, logEndOffset: 3, lag: null }),
      ]);

      const committedAt = Date.now();
      expect(await member.commit([{ topic, partition: 0, offset: 2, metadata: 'm0' }])).toEqual({
        status: 200,
        body: {},
      });
      const after = await admin.describeGroup(groupId);
      const p0 = after.partitions.find((p) => p.topic === topic && p.partition === 0)!;
      expect(p0).toMatchObject({ committedOffset: 2, logEndOffset: 5, lag: 3, metadata: 'm0' });
      expect(p0.commitTimestamp).toBeGreaterThanOrEqual(committedAt - 1_000);
      expect(after.partitions.find((p) => p.partition === 1)).toMatchObject({ lag: null });

      const offsets = await admin.fetchOffsets(groupId, topic);
      expect(offsets).toEqual([
        { topic, partition: 0, offset: 2, metadata: 'm0', commitTimestamp: p0.commitTimestamp },
      ]);
      expect(await admin.fetchOffsets(groupId)).toEqual(offsets);

      const metrics = await (await fetch(`${broker.url}/metrics`)).text();
      expect(sample(metrics, `freshet_group_members{group="${groupId}"}`)).toBe(1);
      expect(sample(metrics, `freshet_group_state{group="${groupId}",state="Stable"}`)).toBe(1);
      expect(sample(metrics, `freshet_group_state{group="${groupId}",state="Empty"}`)).toBe(0);
      expect(sample(metrics, `freshet_group_rebalances_total{group="${groupId}"}`)).toBe(after.rebalances);
      expect(sample(metrics, `freshet_group_lag{group="${groupId}",topic="${topic}",partition="0"}`)).toBe(3);
      // No commit on partition 1: no lag series for it.
      expect(sample(metrics, `freshet_group_lag{group="${groupId}",topic="${topic}",partition="1"}`)).toBe(
        undefined,
      );
      expect(sample(metrics, `freshet_group_lag_sum{group="${groupId}"}`)).toBe(3);

      // While the group has members, admin commits and deletion are refused.
      const adminCommit = await rejection(admin.commitOffsets(groupId, [{ topic, partition: 0, offset: 0 }]));
      expect(adminCommit.code).toBe('UNKNOWN_MEMBER_ID');
      expect((await rejection(admin.resetOffsets(groupId, topic, 'earliest'))).code).toBe(
        'UNKNOWN_MEMBER_ID',
      );
      expect((await rejection(admin.deleteGroup(groupId))).code).toBe('NON_EMPTY_GROUP');
      expect((await admin.fetchOffsets(groupId, topic))[0]!.offset).toBe(2);
    } finally {
      expect((await member.leave()).status).toBe(200);
    }

    const empty = await admin.describeGroup(groupId);
    expect(empty.state).toBe('Empty');
    expect(empty.members).toEqual([]);
    // The committed offset stays; nobody owns the partition now.
    expect(empty.partitions).toEqual([expect.objectContaining({ partition: 0, memberId: null, lag: 3 })]);
    const metrics = await (await fetch(`${broker.url}/metrics`)).text();
    expect(sample(metrics, `freshet_group_members{group="${groupId}"}`)).toBe(0);
    expect(sample(metrics, `freshet_group_state{group="${groupId}",state="Empty"}`)).toBe(1);
    expect(sample(metrics, `freshet_group_state{group="${groupId}",state="Stable"}`)).toBe(0);

    await admin.deleteGroup(groupId);
    expect((await rejection(admin.describeGroup(groupId))).code).toBe('GROUP_ID_NOT_FOUND');
    expect((await admin.listGroups()).some((g) => g.groupId === groupId)).toBe(false);
    expect(await (await fetch(`${broker.url}/metrics`)).text()).not.toContain(`group="${groupId}"`);
  });

  it('refuses a stale generation commit and writes nothing', async () => {
    const topic = uniqueTopic('groups-stale');
    const groupId = uniqueGroup('stale');
    await admin.createTopic(topic, { partitions: 1 });
    const member = await joinGroup(groupId, [topic]);
    try {
      const stale = await call('POST', `${groupPath(groupId)}/offsets`, {
        memberId: member.memberId,
        generationId: member.generationId + 5,
        offsets: [{ topic, partition: 0, offset: 0 }],
      });
      expect(stale.status).toBe(409);
      expect(stale.body.error.code).toBe('ILLEGAL_GENERATION');
      expect(await admin.fetchOffsets(groupId, topic)).toEqual([]);
    } finally {
      await member.leave();
    }
  });

  it('commits as admin and resets offsets to every kind of target on an empty group', async () => {
    const topic = uniqueTopic('groups-reset');
    const groupId = uniqueGroup('reset');
    await admin.createTopic(topic, { partitions: 3 });
    const base = Date.now() - 3_600_000;
    await produce(topic, 0, 10, base); // timestamps base .. base+9s
    await produce(topic, 1, 4, base + 100_000);

    // A group the broker does not know gets its first offsets from an admin commit.
    await admin.commitOffsets(groupId, [
      { topic, partition: 0, offset: 7, metadata: 'by-admin' },
      { topic, partition: 1, offset: 1 },
    ]);
    expect(await admin.fetchOffsets(groupId, topic)).toEqual([
      expect.objectContaining({ partition: 0, offset: 7, metadata: 'by-admin' }),
      expect.objectContaining({ partition: 1, offset: 1 }),
    ]);
    expect((await admin.describeGroup(groupId)).state).toBe('Empty');

    const committed = async () =>
      Object.fromEntries((await admin.fetchOffsets(groupId, topic)).map((o) => [o.partition, o.offset]));
    const expectWritten = (written: unknown, offsets: number[]) =>
      expect(written).toEqual(offsets.map((offset, partition) => ({ topic, partition, offset })));

    expectWritten(await admin.resetOffsets(groupId, topic, 'earliest'), [0, 0, 0]);
    expect(await committed()).toEqual({ 0: 0, 1: 0, 2: 0 });
    expectWritten(await admin.resetOffsets(groupId, topic, 'latest'), [10, 4, 0]);
    expect(await committed()).toEqual({ 0: 10, 1: 4, 2: 0 });
    // Clamped into [log start, log end].
    expectWritten(await admin.resetOffsets(groupId, topic, { offset: 6 }), [6, 4, 0]);
    expectWritten(await admin.resetOffsets(groupId, topic, { offset: -3 }), [0, 0, 0]);
    // The first record at or after the time; none that recent → the log end.
    expectWritten(await admin.resetOffsets(groupId, topic, { timestamp: base + 3_500 }), [4, 0, 0]);
    expect(await committed()).toEqual({ 0: 4, 1: 0, 2: 0 });
    expectWritten(await admin.resetOffsets(groupId, topic, { timestamp: base + 101_000 }), [10, 1, 0]);
    expectWritten(await admin.resetOffsets(groupId, topic, { timestamp: base + 10_000_000 }), [10, 4, 0]);

    // Only some partitions; the rest keep their offsets.
    expect(await admin.resetOffsets(groupId, topic, 'earliest', [1])).toEqual([
      { topic, partition: 1, offset: 0 },
    ]);
    expect(await committed()).toEqual({ 0: 10, 1: 0, 2: 0 });

    // Resolving alone commits nothing.
    expectWritten(await admin.resolveOffsets(topic, 'earliest'), [0, 0, 0]);
    expect(await committed()).toEqual({ 0: 10, 1: 0, 2: 0 });

    const noPartition = await rejection(admin.resetOffsets(groupId, topic, 'earliest', [0, 7]));
    expect(noPartition.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(noPartition.message).toContain('no partition 7');
    const noTopic = await rejection(admin.resetOffsets(groupId, uniqueTopic('none'), 'earliest'));
    expect(noTopic.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    const badTarget = await rejection(admin.resetOffsets(groupId, topic, { timestamp: -1 }));
    expect(badTarget.code).toBe('INVALID_REQUEST');
    expect(await committed()).toEqual({ 0: 10, 1: 0, 2: 0 });

    // Deleting takes the offsets along; a group nobody knows has none (as Kafka's OffsetFetch answers).
    await admin.deleteGroup(groupId);
    expect(await admin.fetchOffsets(groupId, topic)).toEqual([]);
  });

  it('refuses commits to partitions that do not exist, writing nothing', async () => {
    const topic = uniqueTopic('groups-missing');
    const groupId = uniqueGroup('missing');
    await admin.createTopic(topic, { partitions: 1 });
    const err = await rejection(
      admin.commitOffsets(groupId, [
        { topic, partition: 0, offset: 0 },
        { topic, partition: 3, offset: 0 },
      ]),
    );
    expect(err.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
    expect(await admin.fetchOffsets(groupId, topic)).toEqual([]);
  });

  it('URL-encodes group ids and reports unknown groups as GROUP_ID_NOT_FOUND', async () => {
    const topic = uniqueTopic('groups-encoded');
    const groupId = `odd group/${process.pid}?#%é`;
    await admin.createTopic(topic, { partitions: 1 });
    await admin.commitOffsets(groupId, [{ topic, partition: 0, offset: 0 }]);
    expect((await admin.describeGroup(groupId)).groupId).toBe(groupId);
    expect((await admin.listGroups()).some((g) => g.groupId === groupId)).toBe(true);
    await admin.deleteGroup(groupId);

    const missing = await rejection(admin.describeGroup(uniqueGroup('never')));
    expect(missing).toMatchObject({ code: 'GROUP_ID_NOT_FOUND', status: 404 });
    expect(missing.message.length).toBeGreaterThan(0);
    expect((await rejection(admin.deleteGroup(uniqueGroup('never')))).code).toBe('GROUP_ID_NOT_FOUND');
    expect((await rejection(admin.describeGroup('x'.repeat(256)))).code).toBe('INVALID_GROUP_ID');
    expect((await rejection(admin.describeGroup(''))).code).toBe('INVALID_GROUP_ID');
  });
});

function sortPartitions<T extends { topic: string; partition: number }>(partitions: T[]): T[] {
  return [...partitions].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic.localeCompare(b.topic),
  );
}
