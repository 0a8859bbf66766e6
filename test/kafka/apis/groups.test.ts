/**
 * The Kafka group APIs over an in-process engine: a Kafka-client group from FindCoordinator to
 * DeleteGroups, with the leader's assignment bytes passed through untouched and per-partition errors.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  decodeAssignment,
  encodeAssignment,
  encodeSubscription,
} from '../../../src/coordinator/group-records.ts';
import type { KafkaContext } from '../../../src/kafka/api.ts';
import { deleteGroupsApi } from '../../../src/kafka/apis/delete-groups.ts';
import { describeGroupsApi } from '../../../src/kafka/apis/describe-groups.ts';
import { findCoordinatorApi } from '../../../src/kafka/apis/find-coordinator.ts';
import { heartbeatApi } from '../../../src/kafka/apis/heartbeat.ts';
import { joinGroupApi } from '../../../src/kafka/apis/join-group.ts';
import { leaveGroupApi } from '../../../src/kafka/apis/leave-group.ts';
import { listGroupsApi } from '../../../src/kafka/apis/list-groups.ts';
import { offsetCommitApi } from '../../../src/kafka/apis/offset-commit.ts';
import { offsetFetchApi } from '../../../src/kafka/apis/offset-fetch.ts';
import { syncGroupApi } from '../../../src/kafka/apis/sync-group.ts';
import { ERRORS } from '../../../src/shared/errors.ts';
import { createHarness, type Harness } from './support.ts';

let h: Harness;
let ctx: KafkaContext;

beforeEach(async () => {
  h = await createHarness({ config: { groupMinSessionTimeoutMs: 100, groupInitialRebalanceDelayMs: 0 } });
  await h.engine.createTopic('t', 4);
  ctx = h.ctx;
});
afterEach(async () => {
  await h.close();
});

const metadata = (userData: number) =>
  new Uint8Array([...encodeSubscription({ topics: ['t'], ownedPartitions: [] }), userData]);

describe('Kafka group APIs', () => {
  it('FindCoordinator points at this broker, in both shapes', async () => {
    expect(await findCoordinatorApi.handle({ key: 'g', keyType: 0 }, 2, ctx)).toMatchObject({
      errorCode: 0,
      nodeId: 0,
      host: '127.0.0.1',
      port: 19092,
    });
    const v4 = await findCoordinatorApi.handle({ keyType: 0, coordinatorKeys: ['a', 'b'] }, 4, ctx);
    expect(v4?.coordinators?.map((c) => [c.key, c.port])).toEqual([
      ['a', 19092],
      ['b', 19092],
    ]);
  });

  it('runs a leader-assigned group: join, sync, heartbeat, commit, fetch, describe, list, leave, delete', async () => {
    const join = await joinGroupApi.handle(
      {
        groupId: 'g',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: metadata(42) }],
      },
      5,
      ctx,
    );
    expect(join).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    expect(join!.leader).toBe(join!.memberId);
    expect(join!.members).toHaveLength(1);
    expect(join!.members[0]!.metadata).toEqual(metadata(42));
    const mine = encodeAssignment([{ topic: 't', partitions: [0, 1, 2, 3] }]);
    const sync = await syncGroupApi.handle(
      {
        groupId: 'g',
        generationId: 1,
        memberId: join!.memberId,
        groupInstanceId: null,
        assignments: [{ memberId: join!.memberId, assignment: mine }],
      },
      3,
      ctx,
    );
    expect(sync).toMatchObject({ errorCode: 0 });
    expect(decodeAssignment(sync!.assignment)).toEqual([{ topic: 't', partitions: [0, 1, 2, 3] }]);
    const ids = { groupId: 'g', generationId: 1, memberId: join!.memberId, groupInstanceId: null };
    expect(await heartbeatApi.handle(ids, 3, ctx)).toEqual({ throttleTimeMs: 0, errorCode: 0 });
    expect(await heartbeatApi.handle({ ...ids, generationId: 7 }, 3, ctx)).toMatchObject({
      errorCode: ERRORS.ILLEGAL_GENERATION.code,
    });

    const commit = await offsetCommitApi.handle(
      {
        groupId: 'g',
        generationIdOrMemberEpoch: 1,
        memberId: join!.memberId,
        topics: [
          {
            name: 't',
            partitions: [
              { partitionIndex: 1, committedOffset: 5, committedMetadata: 'm' },
              { partitionIndex: 9, committedOffset: 5, committedMetadata: null },
            ],
          },
          { name: 'nope', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] },
        ],
      },
      7,
      ctx,
    );
    expect(commit!.topics.map((t) => t.partitions.map((p) => p.errorCode))).toEqual([
      [0, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
      [ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
    ]);
    const stale = await offsetCommitApi.handle(
      {
        groupId: 'g',
        generationIdOrMemberEpoch: 0,
        memberId: join!.memberId,
        topics: [
          { name: 't', partitions: [{ partitionIndex: 1, committedOffset: 9, committedMetadata: null }] },
        ],
      },
      2,
      ctx,
    );
    expect(stale!.topics[0]!.partitions[0]!.errorCode).toBe(ERRORS.ILLEGAL_GENERATION.code);

    const fetched = await offsetFetchApi.handle(
      { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0, 1] }] },
      1,
      ctx,
    );
    expect(fetched!.topics).toEqual([
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          { partitionIndex: 1, committedOffset: 5, committedLeaderEpoch: -1, metadata: 'm', errorCode: 0 },
        ],
      },
    ]);
    const all = await offsetFetchApi.handle({ groups: [{ groupId: 'g', topics: null }] }, 8, ctx);
    expect(all!.groups![0]!.topics[0]!.partitions.map((p) => p.committedOffset)).toEqual([5]);

    const described = await describeGroupsApi.handle({ groups: ['g', 'ghost'] }, 4, ctx);
    expect(described!.groups[0]).toMatchObject({
      groupState: 'Stable',
      protocolType: 'consumer',
      protocolData: 'range',
    });
    expect(described!.groups[0]!.members[0]!.memberAssignment).toEqual(mine);
    expect(described!.groups[1]).toMatchObject({ errorCode: 0, groupState: 'Dead' });
    expect((await listGroupsApi.handle({ statesFilter: ['stable'] }, 4, ctx))!.groups).toEqual([
      { groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
    ]);

    expect((await deleteGroupsApi.handle({ groupsNames: ['g'] }, 2, ctx))!.results).toEqual([
      { groupId: 'g', errorCode: ERRORS.NON_EMPTY_GROUP.code },
    ]);
    const left = await leaveGroupApi.handle(
      {
        groupId: 'g',
        members: [
          { memberId: join!.memberId, groupInstanceId: null },
          { memberId: 'x', groupInstanceId: null },
        ],
      },
      3,
      ctx,
    );
    expect(left!.members!.map((m) => m.errorCode)).toEqual([0, ERRORS.UNKNOWN_MEMBER_ID.code]);
    expect((await deleteGroupsApi.handle({ groupsNames: ['g', 'ghost'] }, 2, ctx))!.results).toEqual([
      { groupId: 'g', errorCode: 0 },
      { groupId: 'ghost', errorCode: ERRORS.GROUP_ID_NOT_FOUND.code },
    ]);
  });

  it('answers a bad join with an error code, not an exception', async () => {
    const join = await joinGroupApi.handle(
      {
        groupId: 'g',
        sessionTimeoutMs: 1,
        memberId: '',
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: metadata(1) }],
      },
      0,
      ctx,
    );
    expect(join).toMatchObject({ errorCode: ERRORS.INVALID_SESSION_TIMEOUT.code, generationId: -1 });
  });
});
