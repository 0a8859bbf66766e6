/** The group routes in-process (`app.request()` over a LocalEngine): the wire contract and its refusals. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness, jsonRequest } from './support.ts';

let h: Harness;

beforeEach(async () => {
  h = await createHarness({
    config: { groupMinSessionTimeoutMs: 100, groupInitialRebalanceDelayMs: 0 },
  });
  await jsonRequest(h.app, 'POST', '/v1/topics', { name: 't', partitions: 4 });
});
afterEach(async () => {
  await h.close();
});

const post = (path: string, body: unknown) => jsonRequest(h.app, 'POST', path, body);

async function member(groupId = 'g', extra: Record<string, unknown> = {}) {
  const join = await post(`/v1/groups/${groupId}/join`, { topics: ['t'], clientId: 'c1', ...extra });
  expect(join.res.status).toBe(200);
  const { memberId, generationId } = join.body;
  const sync = await post(`/v1/groups/${groupId}/sync`, { memberId, generationId });
  expect(sync.res.status).toBe(200);
  return { memberId, generationId, join: join.body, assignment: sync.body.assignment };
}

describe('group routes', () => {
  it('join, sync, heartbeat, commit, fetch offsets, describe with lag, leave, delete', async () => {
    await post('/v1/topics/t/records', { records: [1, 2, 3].map((v) => ({ value: `v${v}`, partition: 2 })) });
    const m = await member();
    expect(m.join).toMatchObject({ generationId: 1, assignor: 'cooperative-sticky', leader: m.memberId });
    expect(m.join.members).toEqual([{ memberId: m.memberId, groupInstanceId: null, topics: ['t'] }]);
    expect(m.assignment).toEqual([{ topic: 't', partitions: [0, 1, 2, 3] }]);
    const ids = { memberId: m.memberId, generationId: m.generationId };
    expect((await post('/v1/groups/g/heartbeat', ids)).res.status).toBe(200);
    const commit = await post('/v1/groups/g/offsets', {
      ...ids,
      offsets: [{ topic: 't', partition: 2, offset: 1, metadata: 'hello' }],
    });
    expect(commit.res.status).toBe(200);
    const fetched = await jsonRequest(h.app, 'GET', '/v1/groups/g/offsets?topic=t');
    expect(fetched.body.offsets).toEqual([
      { topic: 't', partition: 2, offset: 1, metadata: 'hello', commitTimestamp: expect.any(Number) },
    ]);
    const described = await jsonRequest(h.app, 'GET', '/v1/groups/g');
    expect(described.body).toMatchObject({
      groupId: 'g',
      state: 'Stable',
      assignor: 'cooperative-sticky',
      generationId: 1,
      members: [{ memberId: m.memberId, clientId: 'c1', topics: ['t'], assignment: m.assignment }],
    });
    const row = described.body.partitions.find((p: { partition: number }) => p.partition === 2);
    expect(row).toMatchObject({
      committedOffset: 1,
      logEndOffset: 3,
      lag: 2,
      memberId: m.memberId,
      metadata: 'hello',
    });
    const other = described.body.partitions.find((p: { partition: number }) => p.partition === 0);
    expect(other).toMatchObject({ committedOffset: -1, lag: null, commitTimestamp: -1 });
    expect((await jsonRequest(h.app, 'GET', '/v1/groups')).body.groups).toEqual([
      { groupId: 'g', protocolType: 'consumer', state: 'Stable', members: 1 },
    ]);
    expect((await jsonRequest(h.app, 'DELETE', '/v1/groups/g')).body.error.code).toBe('NON_EMPTY_GROUP');
    expect((await post('/v1/groups/g/leave', { memberId: m.memberId })).res.status).toBe(200);
    expect((await jsonRequest(h.app, 'GET', '/v1/groups/g')).body.state).toBe('Empty');
    expect((await jsonRequest(h.app, 'DELETE', '/v1/groups/g')).res.status).toBe(204);
    const gone = await jsonRequest(h.app, 'GET', '/v1/groups/g');
    expect(gone.res.status).toBe(404);
    expect(gone.body.error.code).toBe('GROUP_ID_NOT_FOUND');
  });

  it('answers fencing with 409 and the Kafka error name', async () => {
    const m = await member();
    const stale = await post('/v1/groups/g/offsets', {
      memberId: m.memberId,
      generationId: m.generationId + 1,
      offsets: [{ topic: 't', partition: 0, offset: 1 }],
    });
    expect(stale.res.status).toBe(409);
    expect(stale.body.error.code).toBe('ILLEGAL_GENERATION');
    const unknown = await post('/v1/groups/g/heartbeat', { memberId: 'nobody', generationId: 1 });
    expect(unknown.res.status).toBe(409);
    expect(unknown.body.error.code).toBe('UNKNOWN_MEMBER_ID');
    const admin = await post('/v1/groups/g/offsets', { offsets: [{ topic: 't', partition: 0, offset: 1 }] });
    expect(admin.body.error.code).toBe('UNKNOWN_MEMBER_ID');
    expect(admin.body.error.message).toMatch(/active members/);
  });

  it.each([
    ['a body that is not an object', '/v1/groups/g/join', [1, 2], 'INVALID_REQUEST'],
    ['no topics', '/v1/groups/g/join', {}, 'INVALID_REQUEST'],
    ['a bad topic name', '/v1/groups/g/join', { topics: ['a b'] }, 'INVALID_TOPIC_EXCEPTION'],
    [
      'an unknown assignor',
      '/v1/groups/g/join',
      { topics: ['t'], assignors: ['magic'] },
      'INCONSISTENT_GROUP_PROTOCOL',
    ],
    [
      'a session below the minimum',
      '/v1/groups/g/join',
      { topics: ['t'], sessionTimeoutMs: 5 },
      'INVALID_SESSION_TIMEOUT',
    ],
    ['a string session', '/v1/groups/g/join', { topics: ['t'], sessionTimeoutMs: '10' }, 'INVALID_REQUEST'],
    [
      'owned partitions of the wrong shape',
      '/v1/groups/g/join',
      { topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [-1] }] },
      'INVALID_REQUEST',
    ],
    ['sync without a generation', '/v1/groups/g/sync', { memberId: 'm' }, 'INVALID_REQUEST'],
    ['leave naming nobody', '/v1/groups/g/leave', {}, 'INVALID_REQUEST'],
    [
      'a commit of an unknown partition',
      '/v1/groups/g/offsets',
      { offsets: [{ topic: 't', partition: 9, offset: 1 }] },
      'UNKNOWN_TOPIC_OR_PARTITION',
    ],
    [
      'a negative offset',
      '/v1/groups/g/offsets',
      { offsets: [{ topic: 't', partition: 0, offset: -5 }] },
      'INVALID_REQUEST',
    ],
    ['a commit without offsets', '/v1/groups/g/offsets', { offsets: [] }, 'INVALID_REQUEST'],
    [
      'oversized metadata',
      '/v1/groups/g/offsets',
      { offsets: [{ topic: 't', partition: 0, offset: 1, metadata: 'x'.repeat(5000) }] },
      'OFFSET_METADATA_TOO_LARGE',
    ],
  ])('refuses %s', async (_name, path, body, code) => {
    const answer = await post(path, body);
    expect(answer.res.status).toBeGreaterThanOrEqual(400);
    expect(answer.body.error.code).toBe(code);
    expect(answer.body.error.message.length).toBeGreaterThan(5);
    // Nothing was committed by a refused request.
    expect((await jsonRequest(h.app, 'GET', '/v1/groups/g/offsets')).body.offsets).toEqual([]);
  });

  it('refuses a group id that is too long', async () => {
    const answer = await post(`/v1/groups/${'g'.repeat(256)}/join`, { topics: ['t'] });
    expect(answer.res.status).toBe(400);
    expect(answer.body.error.code).toBe('INVALID_GROUP_ID');
  });

  it('refuses to create the internal offsets topic', async () => {
    const answer = await post('/v1/topics', { name: '__consumer_offsets' });
    expect(answer.body.error.code).toBe('INVALID_TOPIC_EXCEPTION');
  });

  it('keeps committed offsets across an engine restart on disk', async () => {
    await h.close();
    h = await createHarness({
      onDisk: true,
      config: { groupMinSessionTimeoutMs: 100, groupInitialRebalanceDelayMs: 0 },
    });
    await post('/v1/topics', { name: 't', partitions: 2 });
    await post('/v1/groups/g/offsets', { offsets: [{ topic: 't', partition: 1, offset: 7, metadata: 'm' }] });
    const dataDir = h.config.dataDir;
    await h.engine.close();
    const again = await createHarness({ onDisk: true, config: { dataDir, groupMinSessionTimeoutMs: 100 } });
    const fetched = await jsonRequest(again.app, 'GET', '/v1/groups/g/offsets');
    expect(fetched.body.offsets).toMatchObject([{ topic: 't', partition: 1, offset: 7, metadata: 'm' }]);
    await again.close();
    h = await createHarness({ config: { groupMinSessionTimeoutMs: 100 } });
  });
});
