/**
 * The group coordinator's state machine on one thread, with fake timers and an in-memory log: joins,
 * generations, fencing, session and rebalance timeouts, static membership, the cooperative follow-up
 * rebalance, offsets and their persistence, expiry and topic changes.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  JoinGroupRequest,
  JoinGroupResponse,
  TopicPartitions,
} from '../../src/coordinator/group-api.ts';
import { type GroupConfig, GroupCoordinator } from '../../src/coordinator/group-coordinator.ts';
import { type GroupLog, MemoryGroupLog } from '../../src/coordinator/group-log.ts';
import { encodeAssignment, encodeSubscription } from '../../src/coordinator/group-records.ts';
import { BrokerError } from '../../src/shared/errors.ts';

const CONFIG: GroupConfig = {
  groupMinSessionTimeoutMs: 100,
  groupMaxSessionTimeoutMs: 60_000,
  groupInitialRebalanceDelayMs: 0,
  groupMaxSize: 100,
  offsetsRetentionMinutes: 1,
  offsetsRetentionCheckIntervalMs: 3_600_000,
  offsetMetadataMaxBytes: 16,
};

/** A log that survives the coordinator's close(), so a second coordinator can replay it (a restart). */
class DurableLog implements GroupLog {
  readonly inner = new MemoryGroupLog();
  get sizeInBytes(): number {
    return this.inner.sizeInBytes;
  }
  append(records: Parameters<GroupLog['append']>[0]) {
    return this.inner.append(records);
  }
  replay() {
    return this.inner.replay();
  }
  compact(live: Parameters<GroupLog['compact']>[0]) {
    return this.inner.compact(live);
  }
  async close(): Promise<void> {}
}

const topics = new Map<string, number>([
  ['t', 6],
  ['u', 2],
]);

function coordinator(log: GroupLog = new DurableLog(), config: Partial<GroupConfig> = {}) {
  return new GroupCoordinator({
    log,
    config: { ...CONFIG, ...config },
    partitionCount: (topic) => topics.get(topic),
  });
}

function join(
  memberId = '',
  options: {
    assignors?: string[];
    topics?: string[];
    owned?: TopicPartitions[];
    instance?: string;
    session?: number;
    rebalance?: number;
  } = {},
): JoinGroupRequest {
  const subscription = { topics: options.topics ?? ['t'], ownedPartitions: options.owned ?? [] };
  return {
    groupId: 'g',
    memberId,
    groupInstanceId: options.instance ?? null,
    protocolType: 'consumer',
    protocols: (options.assignors ?? ['cooperative-sticky', 'range']).map((name) => ({ name, subscription })),
    sessionTimeoutMs: options.session ?? 1_000,
    rebalanceTimeoutMs: options.rebalance ?? 5_000,
    clientId: 'test',
    clientHost: '127.0.0.1',
  };
}

async function sync(c: GroupCoordinator, answer: JoinGroupResponse): Promise<TopicPartitions[]> {
  return (
    await c.syncGroup({
      groupId: 'g',
      memberId: answer.memberId,
      generationId: answer.generationId,
      groupInstanceId: null,
    })
  ).assignment;
}

function count(assignment: TopicPartitions[]): number {
  return assignment.reduce((n, tp) => n + tp.partitions.length, 0);
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'NONE';
  } catch (err) {
    if (err instanceof BrokerError) return err.code;
    throw err;
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GroupCoordinator', () => {
  it('gives a lone member every partition, and the group becomes Stable once it syncs', async () => {
    const c = coordinator();
    await c.load();
    const a = await c.joinGroup(join());
    expect(a.generationId).toBe(1);
    expect(a.leader).toBe(a.memberId);
    expect(a.protocolName).toBe('cooperative-sticky');
    expect(a.members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(await sync(c, a)).toEqual([{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }]);
    expect((await c.describeGroup('g')).state).toBe('Stable');
    await c.close();
  });

  it('waits the initial rebalance delay so members starting together share one generation', async () => {
    const c = coordinator(new DurableLog(), { groupInitialRebalanceDelayMs: 100 });
    await c.load();
    const joins = [c.joinGroup(join()), c.joinGroup(join()), c.joinGroup(join())];
    await vi.advanceTimersByTimeAsync(150);
    await vi.advanceTimersByTimeAsync(150);
    const answers = await Promise.all(joins);
    expect(new Set(answers.map((a) => a.generationId))).toEqual(new Set([1]));
    const assignments = await Promise.all(answers.map((a) => sync(c, a)));
    expect(assignments.map(count)).toEqual([2, 2, 2]);
    const all = assignments.flatMap((a) => a.flatMap((tp) => tp.partitions)).sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5]);
    await c.close();
  });

  it('tells members to join again when one joins, and fences the old generation', async () => {
    const c = coordinator();
    await c.load();
    const a1 = await c.joinGroup(join('', { assignors: ['range'] }));
    await sync(c, a1);
    const bJoin = c.joinGroup(join('', { assignors: ['range'] }));
    await vi.advanceTimersByTimeAsync(0);
    const hb = { groupId: 'g', memberId: a1.memberId, generationId: 1, groupInstanceId: null };
    expect(await code(c.heartbeat(hb))).toBe('REBALANCE_IN_PROGRESS');
    // The current generation may still commit while the group prepares the rebalance (revocation commits).
    await c.commitOffsets({
      ...hb,
      offsets: [{ topic: 't', partition: 0, offset: 5, metadata: '', leaderEpoch: -1 }],
    });
    const a2 = await c.joinGroup(join(a1.memberId, { assignors: ['range'] }));
    const b = await bJoin;
    expect(a2.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    expect(count(await sync(c, a2)) + count(await sync(c, b))).toBe(6);
    expect(await code(c.heartbeat(hb))).toBe('ILLEGAL_GENERATION');
    const stale = c.commitOffsets({
      ...hb,
      offsets: [{ topic: 't', partition: 0, offset: 9, metadata: '', leaderEpoch: -1 }],
    });
    expect(await code(stale)).toBe('ILLEGAL_GENERATION');
    const offsets = await c.fetchOffsets({ groupId: 'g', topics: [{ topic: 't', partitions: [0] }] });
    expect(offsets[0]!.offset).toBe(5);
    expect(await code(c.heartbeat({ ...hb, memberId: 'nobody', generationId: 2 }))).toBe('UNKNOWN_MEMBER_ID');
    await c.close();
  });

  it('removes a member whose session runs out, and the others take its partitions', async () => {
    const c = coordinator();
    await c.load();
    const a = await c.joinGroup(join('', { assignors: ['range'] }));
    await sync(c, a);
    const bJoin = c.joinGroup(join('', { assignors: ['range'] }));
    const a2 = await c.joinGroup(join(a.memberId, { assignors: ['range'] }));
    const b = await bJoin;
    await sync(c, a2);
    await sync(c, b);
    // a heartbeats, b goes silent.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(400);
      await code(c.heartbeat({ groupId: 'g', memberId: a.memberId, generationId: 2, groupInstanceId: null }));
    }
    const group = await c.describeGroup('g');
    expect(group.members.map((m) => m.memberId)).toEqual([a.memberId]);
    expect(group.state).toBe('PreparingRebalance');
    const a3 = await c.joinGroup(join(a.memberId, { assignors: ['range'] }));
    expect(await sync(c, a3)).toEqual([{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }]);
    await c.close();
  });

  it('removes members that do not join again within the rebalance timeout', async () => {
    const c = coordinator();
    await c.load();
    const a = await c.joinGroup(join('', { rebalance: 2_000, session: 10_000 }));
    await sync(c, a);
    const bJoin = c.joinGroup(join('', { rebalance: 2_000 }));
    let settled = false;
    void bJoin.then(() => (settled = true));
    await vi.advanceTimersByTimeAsync(1_900);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    const b = await bJoin;
    expect(b.generationId).toBe(2);
    expect((await c.describeGroup('g')).members.map((m) => m.memberId)).toEqual([b.memberId]);
    await c.close();
  });

  it('cooperative-sticky: the old owner keeps what it keeps, moved partitions follow in a second round', async () => {
    const c = coordinator();
    await c.load();
    const a1 = await c.joinGroup(join());
    const owned = await sync(c, a1);
    expect(count(owned)).toBe(6);
    const bJoin = c.joinGroup(join());
    const a2 = await c.joinGroup(join(a1.memberId, { owned }));
    const b2 = await bJoin;
    const aKept = await sync(c, a2);
    expect(count(aKept)).toBe(3);
    expect(await sync(c, b2)).toEqual([]);
    // Every member synced: the coordinator starts the follow-up round itself.
    const hb = { groupId: 'g', memberId: b2.memberId, generationId: b2.generationId, groupInstanceId: null };
    expect(await code(c.heartbeat(hb))).toBe('REBALANCE_IN_PROGRESS');
    const bJoin3 = c.joinGroup(join(b2.memberId));
    const a3 = await c.joinGroup(join(a1.memberId, { owned: aKept }));
    const b3 = await bJoin3;
    expect(await sync(c, a3)).toEqual(aKept);
    const bGot = await sync(c, b3);
    expect(count(bGot)).toBe(3);
    expect((await c.describeGroup('g')).state).toBe('Stable');
    await c.close();
  });

  it('eager assignors need no second round', async () => {
    const c = coordinator();
    await c.load();
    const a1 = await c.joinGroup(join('', { assignors: ['range'] }));
    await sync(c, a1);
    const bJoin = c.joinGroup(join('', { assignors: ['range'] }));
    const a2 = await c.joinGroup(join(a1.memberId, { assignors: ['range'] }));
    const b2 = await bJoin;
    expect(count(await sync(c, a2))).toBe(3);
    expect(count(await sync(c, b2))).toBe(3);
    await c.heartbeat({ groupId: 'g', memberId: b2.memberId, generationId: 2, groupInstanceId: null });
    expect((await c.describeGroup('g')).state).toBe('Stable');
    await c.close();
  });

  it('static membership: a restarted member gets its partitions back with no rebalance; its old id is fenced', async () => {
    const c = coordinator();
    await c.load();
    const a = await c.joinGroup(join('', { instance: 'host-a', assignors: ['range'] }));
    await sync(c, a);
    const bJoin = c.joinGroup(join('', { instance: 'host-b', assignors: ['range'] }));
    const a2 = await c.joinGroup(join(a.memberId, { instance: 'host-a', assignors: ['range'] }));
    const b = await bJoin;
    await c.syncGroup({ groupId: 'g', memberId: a2.memberId, generationId: 2, groupInstanceId: 'host-a' });
    const bAssigned = (
      await c.syncGroup({ groupId: 'g', memberId: b.memberId, generationId: 2, groupInstanceId: 'host-b' })
    ).assignment;
    // host-b restarts: no memberId, same instance id.
    const b2 = await c.joinGroup(join('', { instance: 'host-b', assignors: ['range'] }));
    expect(b2.skipAssignment).toBe(true);
    expect(b2.generationId).toBe(2);
    expect(b2.memberId).not.toBe(b.memberId);
    const again = await c.syncGroup({
      groupId: 'g',
      memberId: b2.memberId,
      generationId: 2,
      groupInstanceId: 'host-b',
    });
    expect(again.assignment).toEqual(bAssigned);
    const description = await c.describeGroup('g');
    expect(description.state).toBe('Stable');
    expect(description.generationId).toBe(2);
    const zombie = c.heartbeat({
      groupId: 'g',
      memberId: b.memberId,
      generationId: 2,
      groupInstanceId: 'host-b',
    });
    expect(await code(zombie)).toBe('FENCED_INSTANCE_ID');
    await c.close();
  });

  it('rebuilds offsets and stable groups from the log after a restart', async () => {
    const log = new DurableLog();
    const c1 = coordinator(log);
    await c1.load();
    const a = await c1.joinGroup(join('', { session: 5_000 }));
    await sync(c1, a);
    const member = {
      groupId: 'g',
      memberId: a.memberId,
      generationId: a.generationId,
      groupInstanceId: null,
    };
    await c1.commitOffsets({
      ...member,
      offsets: [
        { topic: 't', partition: 1, offset: 42, metadata: 'm', leaderEpoch: -1 },
        { topic: 'u', partition: 0, offset: 7, metadata: '', leaderEpoch: -1 },
      ],
    });
    await c1.close();
    const c2 = coordinator(log);
    await c2.load();
    const offsets = await c2.fetchOffsets({ groupId: 'g', topics: null });
    expect(offsets.map((o) => [o.topic, o.partition, o.offset, o.metadata])).toEqual([
      ['t', 1, 42, 'm'],
      ['u', 0, 7, ''],
    ]);
    // The member carries on with its generation, no rebalance.
    await c2.heartbeat(member);
    const group = await c2.describeGroup('g');
    expect(group.state).toBe('Stable');
    expect(group.members[0]!.assignment).toEqual([{ topic: 't', partitions: [0, 1, 2, 3, 4, 5] }]);
    await c2.close();
  });

  it('checks commits: partitions must exist, metadata is bounded, admin commits only into empty groups', async () => {
    const c = coordinator();
    await c.load();
    const admin = { groupId: 'g', memberId: '', generationId: -1, groupInstanceId: null };
    const offset = (topic: string, partition: number, metadata = '') => ({
      topic,
      partition,
      offset: 1,
      metadata,
      leaderEpoch: -1,
    });
    expect(await code(c.commitOffsets({ ...admin, offsets: [offset('nope', 0)] }))).toBe(
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
    expect(await code(c.commitOffsets({ ...admin, offsets: [offset('t', 6)] }))).toBe(
      'UNKNOWN_TOPIC_OR_PARTITION',
    );
    expect(await code(c.commitOffsets({ ...admin, offsets: [offset('t', 0, 'x'.repeat(17))] }))).toBe(
      'OFFSET_METADATA_TOO_LARGE',
    );
    await c.commitOffsets({ ...admin, offsets: [offset('t', 0)] });
    expect((await c.describeGroup('g')).state).toBe('Empty');
    const a = await c.joinGroup(join());
    await sync(c, a);
    expect(await code(c.commitOffsets({ ...admin, offsets: [offset('t', 0)] }))).toBe('UNKNOWN_MEMBER_ID');
    expect(await code(c.deleteGroup('g'))).toBe('NON_EMPTY_GROUP');
    await c.leaveGroup({ groupId: 'g', members: [{ memberId: a.memberId, groupInstanceId: null }] });
    expect((await c.describeGroup('g')).state).toBe('Empty');
    await c.deleteGroup('g');
    expect(await code(c.describeGroup('g'))).toBe('GROUP_ID_NOT_FOUND');
    expect(await c.fetchOffsets({ groupId: 'g', topics: null })).toEqual([]);
    await c.close();
  });

  it('refuses bad joins with Kafka errors', async () => {
    const c = coordinator();
    await c.load();
    expect(await code(c.joinGroup(join('', { session: 10 })))).toBe('INVALID_SESSION_TIMEOUT');
    expect(await code(c.joinGroup(join('', { assignors: ['sticky-ish'] })))).toBe(
      'INCONSISTENT_GROUP_PROTOCOL',
    );
    expect(await code(c.joinGroup({ ...join(), groupId: '' }))).toBe('INVALID_GROUP_ID');
    const a = await c.joinGroup(join('', { assignors: ['range'] }));
    await sync(c, a);
    expect(await code(c.joinGroup(join('', { assignors: ['roundrobin'] })))).toBe(
      'INCONSISTENT_GROUP_PROTOCOL',
    );
    expect(await code(c.joinGroup(join('unknown-member')))).toBe('UNKNOWN_MEMBER_ID');
    await c.close();
  });

  it('expires the offsets of a group that stayed empty past offsets.retention.minutes, durably', async () => {
    const log = new DurableLog();
    const c = coordinator(log);
    await c.load();
    const admin = { groupId: 'g', memberId: '', generationId: -1, groupInstanceId: null };
    await c.commitOffsets({
      ...admin,
      offsets: [{ topic: 't', partition: 0, offset: 3, metadata: '', leaderEpoch: -1 }],
    });
    expect(await c.expireOffsets()).toBe(0);
    vi.setSystemTime(Date.now() + 61_000);
    expect(await c.expireOffsets()).toBe(1);
    expect(await code(c.describeGroup('g'))).toBe('GROUP_ID_NOT_FOUND');
    await c.close();
    const again = coordinator(log);
    await again.load();
    expect(await again.listGroups()).toEqual([]);
    await again.close();
  });

  it('rebalances groups subscribed to a topic that grew, and drops offsets of a deleted topic', async () => {
    const c = coordinator();
    await c.load();
    const a = await c.joinGroup(join('', { topics: ['u'] }));
    expect(await sync(c, a)).toEqual([{ topic: 'u', partitions: [0, 1] }]);
    await c.commitOffsets({
      groupId: 'g',
      memberId: a.memberId,
      generationId: a.generationId,
      groupInstanceId: null,
      offsets: [{ topic: 'u', partition: 1, offset: 1, metadata: '', leaderEpoch: -1 }],
    });
    topics.set('u', 3);
    await c.topicChanged('u');
    const a2 = await c.joinGroup(
      join(a.memberId, { topics: ['u'], owned: [{ topic: 'u', partitions: [0, 1] }] }),
    );
    expect(await sync(c, a2)).toEqual([{ topic: 'u', partitions: [0, 1, 2] }]);
    topics.delete('u');
    await c.topicChanged('u');
    expect(await c.fetchOffsets({ groupId: 'g', topics: null })).toEqual([]);
    topics.set('u', 2);
    await c.close();
  });

  it('compacts the log once it grows well past the live state, keeping every live offset', async () => {
    const log = new DurableLog();
    const c = new GroupCoordinator({
      log,
      config: CONFIG,
      partitionCount: (topic) => topics.get(topic),
      compactAfterBytes: 4_096,
    });
    await c.load();
    const admin = { groupId: 'g', memberId: '', generationId: -1, groupInstanceId: null };
    for (let i = 0; i < 500; i++) {
      await c.commitOffsets({
        ...admin,
        offsets: [{ topic: 't', partition: i % 6, offset: i, metadata: '', leaderEpoch: -1 }],
      });
    }
    expect(log.sizeInBytes).toBeLessThan(4_096 * 2);
    await c.close();
    const again = coordinator(log);
    await again.load();
    const offsets = await again.fetchOffsets({ groupId: 'g', topics: null });
    expect(offsets.map((o) => o.offset)).toEqual([498, 499, 494, 495, 496, 497]);
    await again.close();
  });

  it('answers waiting joins at shutdown, and refuses new ones, while commits still go through', async () => {
    const c = coordinator();
    await c.load();
    const a = await c.joinGroup(join('', { assignors: ['range'] }));
    await sync(c, a);
    const waiting = c.joinGroup(join('', { assignors: ['range'] }));
    await vi.advanceTimersByTimeAsync(0);
    await c.stopWaiting();
    expect(await code(waiting)).toBe('COORDINATOR_NOT_AVAILABLE');
    expect(await code(c.joinGroup(join()))).toBe('COORDINATOR_NOT_AVAILABLE');
    const member = {
      groupId: 'g',
      memberId: a.memberId,
      generationId: a.generationId,
      groupInstanceId: null,
    };
    await c.commitOffsets({
      ...member,
      offsets: [{ topic: 't', partition: 0, offset: 1, metadata: '', leaderEpoch: -1 }],
    });
    await c.close();
  });

  describe('leader-assigned groups (Kafka clients)', () => {
    const kafkaJoin = (memberId: string, topics: string[], userData = 0): JoinGroupRequest => {
      const subscription = { topics, ownedPartitions: [] };
      const metadata = new Uint8Array([...encodeSubscription(subscription), userData]);
      return {
        ...join(memberId),
        protocols: [{ name: 'RoundRobinAssigner', subscription, metadata }],
      };
    };

    it("passes metadata to the leader and the leader's assignment bytes to every member", async () => {
      const log = new DurableLog();
      const c = coordinator(log);
      await c.load();
      const first = c.joinGroup(kafkaJoin('', ['t']));
      const a = await first;
      expect(a.protocolName).toBe('RoundRobinAssigner');
      const bJoin = c.joinGroup(kafkaJoin('', ['t']));
      const a2 = await c.joinGroup(kafkaJoin(a.memberId, ['t']));
      const b = await bJoin;
      const leader = a2.leader === a2.memberId ? a2 : b;
      const follower = leader === a2 ? b : a2;
      expect(leader.members).toHaveLength(2);
      expect(leader.members.every((m) => m.metadata instanceof Uint8Array)).toBe(true);
      expect(follower.members).toEqual([]);
      const followerSync = c.syncGroup({
        groupId: 'g',
        memberId: follower.memberId,
        generationId: 2,
        groupInstanceId: null,
      });
      await vi.advanceTimersByTimeAsync(0);
      const toLeader = encodeAssignment([{ topic: 't', partitions: [0, 1, 2] }]);
      const toFollower = encodeAssignment([{ topic: 't', partitions: [3, 4, 5] }]);
      const leaderSync = await c.syncGroup({
        groupId: 'g',
        memberId: leader.memberId,
        generationId: 2,
        groupInstanceId: null,
        assignments: [
          { memberId: leader.memberId, assignment: toLeader },
          { memberId: follower.memberId, assignment: toFollower },
        ],
      });
      expect(leaderSync.assignmentBytes).toEqual(toLeader);
      const got = await followerSync;
      expect(got.assignmentBytes).toEqual(toFollower);
      expect(got.assignment).toEqual([{ topic: 't', partitions: [3, 4, 5] }]);
      const described = await c.describeGroup('g');
      expect(described.state).toBe('Stable');
      expect(described.members.find((m) => m.memberId === follower.memberId)!.assignment).toEqual([
        { topic: 't', partitions: [3, 4, 5] },
      ]);
      // An HTTP member cannot join a Kafka-client group.
      expect(await code(c.joinGroup(join()))).toBe('INCONSISTENT_GROUP_PROTOCOL');
      // A member whose metadata changed (cooperative clients restate what they own) starts a rebalance.
      void c.joinGroup(kafkaJoin(follower.memberId, ['t'], 7)).catch(() => {});
      await vi.advanceTimersByTimeAsync(0);
      const hb = { groupId: 'g', memberId: leader.memberId, generationId: 2, groupInstanceId: null };
      expect(await code(c.heartbeat(hb))).toBe('REBALANCE_IN_PROGRESS');
      await c.close();
    });

    it("keeps the leader's bytes across a restart", async () => {
      const log = new DurableLog();
      const c = coordinator(log);
      await c.load();
      const a = await c.joinGroup(kafkaJoin('', ['t'], 9));
      const bytes = new Uint8Array([...encodeAssignment([{ topic: 't', partitions: [0] }]), 1, 2, 3]);
      await c.syncGroup({
        groupId: 'g',
        memberId: a.memberId,
        generationId: 1,
        groupInstanceId: null,
        assignments: [{ memberId: a.memberId, assignment: bytes }],
      });
      await c.close();
      const again = coordinator(log);
      await again.load();
      const sync = await again.syncGroup({
        groupId: 'g',
        memberId: a.memberId,
        generationId: 1,
        groupInstanceId: null,
      });
      expect(sync.assignmentBytes).toEqual(bytes);
      await again.close();
    });
  });
});
