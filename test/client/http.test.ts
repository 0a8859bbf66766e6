/**
 * @module
 * The request helper without a broker: error bodies to FreshetError (msgpack, JSON, unreadable), Retry-After,
 * the retriable set mirrored from src/shared/errors.ts, timeouts, caller aborts, and backoff.
 */
import { describe, expect, it } from 'vitest';
import { pack } from '../../src/client/codec.ts';
import { FreshetError, isRetriable } from '../../src/client/errors.ts';
import { backoffMs, HttpClient, parseRetryAfter, withRetries } from '../../src/client/http.ts';
import { ERRORS, type ErrorName } from '../../src/shared/errors.ts';

function answering(response: () => Response): typeof fetch {
  return (async () => response()) as unknown as typeof fetch;
}

describe('HttpClient', () => {
  it('sends msgpack and asks for msgpack', async () => {
    let seen: { headers: Headers; body: Uint8Array } | undefined;
    const http = new HttpClient({
      url: 'http://broker.test/',
      fetch: (async (_url: string, init: RequestInit) => {
        seen = { headers: new Headers(init.headers), body: init.body as Uint8Array };
        return new Response(pack({ ok: true, n: 2 ** 40 }) as BodyInit, {
          headers: { 'content-type': 'application/msgpack' },
        });
      }) as typeof fetch,
    });
    const answer = await http.request<{ ok: boolean; n: number }>('POST', '/v1/x', {
      body: { a: 1, gone: undefined },
    });
    expect(answer).toEqual({ ok: true, n: 2 ** 40 });
    expect(seen!.headers.get('content-type')).toBe('application/msgpack');
    expect(seen!.headers.get('accept')).toBe('application/msgpack');
    // undefined fields are left out rather than written as msgpackr's undefined extension
    expect(seen!.body).toEqual(pack({ a: 1 }));
  });

  it('turns a msgpack error body into a FreshetError with code, status and retriable', async () => {
    const http = new HttpClient({
      fetch: answering(
        () =>
          new Response(
            pack({
              error: { code: 'TOPIC_ALREADY_EXISTS', message: "topic 'a' already exists" },
            }) as BodyInit,
            {
              status: 409,
              headers: { 'content-type': 'application/msgpack' },
            },
          ),
      ),
    });
    const err = await http.request('POST', '/v1/topics').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FreshetError);
    expect(err).toMatchObject({
      code: 'TOPIC_ALREADY_EXISTS',
      status: 409,
      retriable: false,
      message: "topic 'a' already exists",
    });
  });

  it('reads JSON error bodies and Retry-After', async () => {
    const http = new HttpClient({
      fetch: answering(() =>
        Response.json(
          { error: { code: 'THROTTLING_QUOTA_EXCEEDED', message: 'slow down' } },
          { status: 429, headers: { 'retry-after': '2' } },
        ),
      ),
    });
    const err = (await http.request('GET', '/v1/topics').catch((e: unknown) => e)) as FreshetError;
    expect(err).toMatchObject({
      code: 'THROTTLING_QUOTA_EXCEEDED',
      status: 429,
      retriable: true,
      retryAfterMs: 2000,
    });
  });

  it('names unreadable error answers by status', async () => {
    const http = new HttpClient({
      fetch: answering(
        () => new Response('<html>bad gateway</html>', { status: 503, statusText: 'Unavailable' }),
      ),
    });
    const err = (await http.request('GET', '/x').catch((e: unknown) => e)) as FreshetError;
    expect(err).toMatchObject({ code: 'LEADER_NOT_AVAILABLE', status: 503, retriable: true });
    const other = new HttpClient({ fetch: answering(() => new Response('nope', { status: 500 })) });
    expect(await other.request('GET', '/x').catch((e: unknown) => e)).toMatchObject({
      code: 'UNKNOWN_SERVER_ERROR',
      status: 500,
      retriable: false,
    });
  });

  it('reports a failed connection as a retriable NETWORK_EXCEPTION', async () => {
    const http = new HttpClient({ url: 'http://127.0.0.1:1', requestTimeoutMs: 5_000 });
    const err = (await http.request('GET', '/v1/topics').catch((e: unknown) => e)) as FreshetError;
    expect(err).toMatchObject({ code: 'NETWORK_EXCEPTION', status: 0, retriable: true });
  });

  it('times out as REQUEST_TIMED_OUT, and a caller abort rejects with the abort reason', async () => {
    const hanging = ((_url: string, init: RequestInit) =>
      new Promise((_resolve, reject) =>
        init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
      )) as typeof fetch;
    const http = new HttpClient({ fetch: hanging, requestTimeoutMs: 50 });
    const started = Date.now();
    expect(await http.request('GET', '/x').catch((e: unknown) => e)).toMatchObject({
      code: 'REQUEST_TIMED_OUT',
      retriable: true,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    const controller = new AbortController();
    const pending = http
      .request('GET', '/x', { signal: controller.signal, timeoutMs: 10_000 })
      .catch((e: unknown) => e);
    controller.abort(new Error('caller gave up'));
    expect(await pending).toMatchObject({ message: 'caller gave up' });
  });

  it('puts query parameters in the URL and skips undefined ones', async () => {
    let url = '';
    const http = new HttpClient({
      url: 'http://h:1',
      fetch: (async (u: string) => {
        url = u;
        return new Response(null, { status: 204 });
      }) as typeof fetch,
    });
    expect(await http.request('GET', '/p', { query: { a: 1, b: undefined, c: 'x y' } })).toBeUndefined();
    expect(url).toBe('http://h:1/p?a=1&c=x%20y');
  });
});

describe('errors and retries', () => {
  it('mirrors the retriable set of src/shared/errors.ts, and 429/503 always retry', () => {
    for (const [name, entry] of Object.entries(ERRORS)) {
      expect(isRetriable(name as ErrorName), name).toBe(entry.retriable);
      expect(new FreshetError(name, 'x').retriable, name).toBe(entry.retriable);
    }
    expect(isRetriable('INVALID_REQUEST', 503)).toBe(true);
    expect(isRetriable('SOMETHING_NEW')).toBe(false);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('garbage')).toBeUndefined();
    const inFive = new Date(Date.now() + 5000).toUTCString();
    expect(parseRetryAfter(inFive)).toBeGreaterThan(3000);
  });

  it('backs off exponentially with jitter, capped, and takes Retry-After when given', () => {
    const policy = { retries: 5, retryBackoffMs: 100, maxRetryBackoffMs: 1000 };
    expect(backoffMs(0, policy)).toBeGreaterThanOrEqual(80);
    expect(backoffMs(0, policy)).toBeLessThanOrEqual(120);
    expect(backoffMs(2, policy)).toBeGreaterThanOrEqual(320);
    expect(backoffMs(10, policy)).toBeLessThanOrEqual(1200);
    expect(backoffMs(0, policy, new FreshetError('X', 'x', { retryAfterMs: 7000 }))).toBe(7000);
  });

  it('withRetries retries retriable errors only, up to the limit', async () => {
    const policy = { retries: 2, retryBackoffMs: 1, maxRetryBackoffMs: 1 };
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new FreshetError('NETWORK_EXCEPTION', 'down'));
    };
    await expect(withRetries(policy, failing)).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' });
    expect(calls).toBe(3);
    calls = 0;
    await expect(
      withRetries(policy, () => {
        calls++;
        return Promise.reject(new FreshetError('INVALID_CONFIG', 'bad'));
      }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(calls).toBe(1);
    calls = 0;
    expect(await withRetries(policy, () => (++calls < 3 ? failing() : Promise.resolve('ok')))).toBe('ok');
  });
});
