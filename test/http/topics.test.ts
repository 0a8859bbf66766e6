/**
 * @module
 * Topic administration routes and their errors, against a real in-process engine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, expectError, type Harness, jsonRequest, msgpackRequest } from './support.ts';

describe('topic routes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ config: { defaultPartitions: 3 } });
  });
  afterEach(() => h.close());

  it('creates a topic and answers 201 with its description', async () => {
    const { res, body } = await jsonRequest(h.app, 'POST', '/v1/topics', {
      name: 'orders',
      partitions: 2,
      config: { 'retention.ms': 1000 },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(body.name).toBe('orders');
    expect(body.partitions).toEqual([
      { partition: 0, logStartOffset: 0, highWatermark: 0, worker: 0 },
      { partition: 1, logStartOffset: 0, highWatermark: 0, worker: 0 },
    ]);
    expect(body.config['retention.ms']).toBe(1000);
    expect(body.config['segment.bytes']).toEqual(expect.any(Number));
  });

  it('takes replicationFactor 1 (or none) on a single broker, and describes no leader there', async () => {
    for (const [name, replicationFactor] of [
      ['one', 1],
      ['unset', null],
    ] as const) {
      const { res, body } = await jsonRequest(h.app, 'POST', '/v1/topics', {
        name,
        partitions: 1,
        replicationFactor,
      });
      expect(res.status).toBe(201);
      expect(body.partitions).toEqual([{ partition: 0, logStartOffset: 0, highWatermark: 0, worker: 0 }]);
    }
  });

  it('uses the default partition count when none is given', async () => {
    const { res, body } = await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'defaults' });
    expect(res.status).toBe(201);
    expect(body.partitions).toHaveLength(3);
  });

  it('lists, describes and deletes topics', async () => {
    await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'b', partitions: 2 });
    await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'a', partitions: 1 });
    const list = await jsonRequest(h.app, 'GET', '/v1/topics');
    expect(list.res.status).toBe(200);
    expect(list.body).toEqual({
      topics: [
        { name: 'a', partitions: 1 },
        { name: 'b', partitions: 2 },
      ],
    });

    const described = await jsonRequest(h.app, 'GET', '/v1/topics/b');
    expect(described.res.status).toBe(200);
    expect(described.body.partitions.map((p: { partition: number }) => p.partition)).toEqual([0, 1]);

    const deleted = await h.app.request('/v1/topics/b', { method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expectError(await jsonRequest(h.app, 'GET', '/v1/topics/b'), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
    expect((await jsonRequest(h.app, 'GET', '/v1/topics')).body).toEqual({
      topics: [{ name: 'a', partitions: 1 }],
    });
  });

  it('alters a topic config', async () => {
    await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'conf', partitions: 1 });
    const { res, body } = await jsonRequest(h.app, 'PATCH', '/v1/topics/conf/config', {
      config: { 'retention.ms': 5000, 'flush.policy': 'always' },
    });
    expect(res.status).toBe(200);
    expect(body.config['retention.ms']).toBe(5000);
    expect(body.config['flush.policy']).toBe('always');
  });

  it('removes an override with a null value, back to the broker default', async () => {
    await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'plain', partitions: 1 });
    const defaults = (await jsonRequest(h.app, 'GET', '/v1/topics/plain')).body.config;
    await jsonRequest(h.app, 'POST', '/v1/topics', {
      name: 'conf',
      partitions: 1,
      config: { 'retention.ms': 5000, 'flush.policy': 'always', 'segment.ms': 60000 },
    });
    const { res, body } = await jsonRequest(h.app, 'PATCH', '/v1/topics/conf/config', {
      config: { 'retention.ms': null, 'segment.bytes': 1048576 },
    });
    expect(res.status).toBe(200);
    expect(body.config).toEqual({
      ...defaults,
      'flush.policy': 'always',
      'segment.ms': 60000,
      'segment.bytes': 1048576,
    });
    expect(await h.engine.topicConfigOverrides('conf')).toEqual({
      'flush.policy': 'always',
      'segment.ms': 60000,
      'segment.bytes': 1048576,
    });

    // msgpack nil is null too; removing a setting that has no override changes nothing.
    const again = await msgpackRequest(h.app, 'PATCH', '/v1/topics/conf/config', {
      config: { 'flush.policy': null, 'segment.ms': null, 'segment.bytes': null, 'retention.ms': null },
    });
    expect(again.res.status).toBe(200);
    expect(again.body.config).toEqual(defaults);
    expect((await jsonRequest(h.app, 'GET', '/v1/topics/conf')).body.config).toEqual(defaults);
    expect(await h.engine.topicConfigOverrides('conf')).toEqual({});
  });

  it('adds partitions and refuses to shrink', async () => {
    await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'grow', partitions: 1 });
    const { res, body } = await jsonRequest(h.app, 'POST', '/v1/topics/grow/partitions', { count: 4 });
    expect(res.status).toBe(200);
    expect(body.partitions).toHaveLength(4);
    expectError(
      await jsonRequest(h.app, 'POST', '/v1/topics/grow/partitions', { count: 2 }),
      400,
      'INVALID_PARTITIONS',
    );
  });

  it('speaks msgpack when asked', async () => {
    const { res, body } = await msgpackRequest(h.app, 'POST', '/v1/topics', { name: 'mp', partitions: 1 });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    expect(body.name).toBe('mp');
    const list = await msgpackRequest(h.app, 'GET', '/v1/topics');
    expect(list.body).toEqual({ topics: [{ name: 'mp', partitions: 1 }] });
  });

  it('reads a curl-style body (form content type, starts with {) as JSON', async () => {
    const res = await h.app.request('/v1/topics', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '{"name":"curl","partitions":1}',
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  });

  describe('errors', () => {
    it('409 TOPIC_ALREADY_EXISTS', async () => {
      await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'dup' });
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'dup' }),
        409,
        'TOPIC_ALREADY_EXISTS',
      );
    });

    it('400 INVALID_TOPIC_EXCEPTION for bad names, in bodies and paths', async () => {
      for (const name of ['', '.', '..', 'has space', 'x'.repeat(250), 'ünï']) {
        expectError(await jsonRequest(h.app, 'POST', '/v1/topics', { name }), 400, 'INVALID_TOPIC_EXCEPTION');
      }
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics', { name: 7 }),
        400,
        'INVALID_TOPIC_EXCEPTION',
      );
      expectError(await jsonRequest(h.app, 'GET', '/v1/topics/bad%20name'), 400, 'INVALID_TOPIC_EXCEPTION');
      // ('..' cannot reach a path parameter: URLs resolve dot segments before routing.)
      expectError(await jsonRequest(h.app, 'DELETE', '/v1/topics/a*b'), 400, 'INVALID_TOPIC_EXCEPTION');
    });

    it('400 INVALID_PARTITIONS for a bad count', async () => {
      for (const partitions of [0, -1, 1.5, '2']) {
        expectError(
          await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'p', partitions }),
          400,
          'INVALID_PARTITIONS',
        );
      }
    });

    it('400 INVALID_REPLICATION_FACTOR for a bad factor, and for any factor but 1 on a single broker', async () => {
      for (const replicationFactor of [0, -1, 1.5, '1']) {
        expectError(
          await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'r', replicationFactor }),
          400,
          'INVALID_REPLICATION_FACTOR',
        );
      }
      const three = await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'r', replicationFactor: 3 });
      expectError(three, 400, 'INVALID_REPLICATION_FACTOR');
      expect(three.body.error.message).toMatch(/single broker/);
      expectError(await jsonRequest(h.app, 'GET', '/v1/topics/r'), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
    });

    it('400 INVALID_CONFIG for unknown settings, bad values and bad shapes', async () => {
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'c', config: { 'no.such': 1 } }),
        400,
        'INVALID_CONFIG',
      );
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'c', config: { 'retention.ms': 'soon' } }),
        400,
        'INVALID_CONFIG',
      );
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'c', config: { 'retention.ms': [1] } }),
        400,
        'INVALID_CONFIG',
      );
      // Own property '__proto__' (as JSON.parse makes it) is an unknown setting, not silently dropped.
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics', '{"name":"c","config":{"__proto__":"1"}}'),
        400,
        'INVALID_CONFIG',
      );
      await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'c' });
      expectError(
        await jsonRequest(h.app, 'PATCH', '/v1/topics/c/config', { config: 5 }),
        400,
        'INVALID_CONFIG',
      );
      expectError(await jsonRequest(h.app, 'PATCH', '/v1/topics/c/config', {}), 400, 'INVALID_CONFIG');
      // null removes an override, but only of a setting that exists; creating takes no null.
      await jsonRequest(h.app, 'PATCH', '/v1/topics/c/config', { config: { 'retention.ms': 1000 } });
      expectError(
        await jsonRequest(h.app, 'PATCH', '/v1/topics/c/config', {
          config: { 'retention.ms': null, 'no.such': null },
        }),
        400,
        'INVALID_CONFIG',
      );
      expect(await h.engine.topicConfigOverrides('c')).toEqual({ 'retention.ms': 1000 });
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics', { name: 'd', config: { 'retention.ms': null } }),
        400,
        'INVALID_CONFIG',
      );
    });

    it('404 for unknown topics on describe, delete, alter and add partitions', async () => {
      expectError(await jsonRequest(h.app, 'GET', '/v1/topics/nope'), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
      expectError(await jsonRequest(h.app, 'DELETE', '/v1/topics/nope'), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
      expectError(
        await jsonRequest(h.app, 'PATCH', '/v1/topics/nope/config', { config: { 'retention.ms': 1 } }),
        404,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics/nope/partitions', { count: 2 }),
        404,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
    });

    it('400 INVALID_REQUEST for bodies that are not objects', async () => {
      expectError(await jsonRequest(h.app, 'POST', '/v1/topics', '[1,2]'), 400, 'INVALID_REQUEST');
      expectError(
        await jsonRequest(h.app, 'POST', '/v1/topics/x/partitions', '"count"'),
        400,
        'INVALID_REQUEST',
      );
    });
  });
});
