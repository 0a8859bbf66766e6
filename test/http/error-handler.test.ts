/**
 * @module
 * Errors to responses: unexpected errors as opaque 500s, BrokerErrors by code (Retry-After on 429/503),
 * msgpack error bodies, unknown routes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import type { Engine } from '../../src/ipc/engine.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import type { Logger } from '../../src/shared/logger.ts';
import { clientPackr, createHarness, expectError, type Harness, jsonRequest } from './support.ts';

/** The harness's real engine with one method replaced, to inject a failure. */
function failing(engine: Engine, method: 'listTopics', error: unknown): Engine {
  return new Proxy(engine, {
    get(target, key, receiver) {
      if (key === method) return () => Promise.reject(error);
      const value = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('error handler', () => {
  let h: Harness;
  let logged: Array<{ msg: string; fields?: Record<string, unknown> }>;
  let logger: Logger;
  beforeEach(async () => {
    h = await createHarness();
    logged = [];
    const record = (msg: string, fields?: Record<string, unknown>) => logged.push({ msg, fields });
    logger = { debug: record, info: record, warn: record, error: record };
  });
  afterEach(() => h.close());

  it('answers 500 UNKNOWN_SERVER_ERROR for an unexpected error, without its stack, and logs it', async () => {
    const err = new Error('disk on fire at /secret/path');
    const app = createApp(failing(h.engine, 'listTopics', err), { config: h.config, logger });
    const answer = await jsonRequest(app, 'GET', '/v1/topics');
    expectError(answer, 500, 'UNKNOWN_SERVER_ERROR');
    const raw = JSON.stringify(answer.body);
    expect(raw).not.toContain('secret');
    expect(raw).not.toContain('at ');
    expect(logged).toHaveLength(1);
    expect(logged[0]!.fields?.error).toBe('disk on fire at /secret/path');
  });

  it('maps a BrokerError by its code, with Retry-After on 429 and 503', async () => {
    const cases: Array<[BrokerError, number, boolean]> = [
      [new BrokerError('THROTTLING_QUOTA_EXCEEDED', 'slow down'), 429, true],
      [new BrokerError('LEADER_NOT_AVAILABLE', 'busy'), 503, true],
      [new BrokerError('REQUEST_TIMED_OUT', 'late'), 504, false],
      [new BrokerError('NOT_LEADER_OR_FOLLOWER', 'shutting down'), 503, false],
    ];
    for (const [err, status, retryAfter] of cases) {
      const app = createApp(failing(h.engine, 'listTopics', err), { config: h.config });
      const answer = await jsonRequest(app, 'GET', '/v1/topics');
      expect(answer.body).toEqual({ error: { code: err.code, message: err.message } });
      expect(answer.res.status).toBe(status);
      expect(answer.res.headers.get('retry-after')).toBe(retryAfter ? '1' : null);
    }
  });

  it('answers errors in msgpack to a msgpack client', async () => {
    const res = await h.app.request('/v1/topics/nope', { headers: { accept: 'application/msgpack' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    expect(clientPackr.unpack(new Uint8Array(await res.arrayBuffer()))).toEqual({
      error: { code: 'UNKNOWN_TOPIC_OR_PARTITION', message: expect.stringContaining('nope') },
    });
  });

  it('answers 404 for an unknown route, and for a known path with another method', async () => {
    const answer = await jsonRequest(h.app, 'GET', '/v2/nothing');
    expect(answer.res.status).toBe(404);
    expect(answer.body.error.code).toBe('INVALID_REQUEST');
    expect(answer.body.error.message).toContain('GET /v2/nothing');
    expect((await jsonRequest(h.app, 'PUT', '/v1/topics')).res.status).toBe(404);
  });

  it('refuses a RecordBatch body on an admin route', async () => {
    const res = await h.app.request('/v1/topics', {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.kafka.recordbatch' },
      body: new Uint8Array([1, 2, 3]),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('INVALID_REQUEST');
  });
});
