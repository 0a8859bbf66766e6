/**
 * @module
 * The request helper under Admin, Producer and Consumer: msgpack in and out over `fetch`, a timeout per
 * request, error bodies (`{error:{code,message}}`) turned into FreshetErrors, and exponential backoff that
 * honours `Retry-After`. Uses only fetch, AbortController and timers, so it runs on any runtime.
 *
 * In a cluster a request for a partition (`route`) goes to the partition's leader, and other requests to
 * whichever known broker answers: router.ts. A broker that answers NOT_LEADER_OR_FOLLOWER makes the
 * request go once more, at once, to the leader looked up afresh, and a GET for no partition that finds
 * its broker down goes on to the next known one; other errors are the caller's to retry.
 */
import { MSGPACK, pack, unpack } from './codec.ts';
import { FreshetError } from './errors.ts';
import { LeaderRouter, normalizeUrl } from './router.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface HttpOptions {
  /**
   * The broker's HTTP address; default http://127.0.0.1:8080 (or the first of `bootstrap`). In a cluster,
   * any broker of it: the others are found through `GET /v1/cluster`.
   */
  url?: string;
  /**
   * Brokers of a cluster to start from, asked in turn (after `url`, when both are given) whenever the ones
   * before do not answer, so that the client starts even while one of them is down. One URL is enough to
   * reach a cluster whose brokers are all up.
   */
  bootstrap?: string[];
  /** Replaces `globalThis.fetch` (a proxy, a test double, a fetch with TLS settings). */
  fetch?: typeof globalThis.fetch;
  /** Longest wait for one answer, on top of a long-poll's own wait; default 30 s. */
  requestTimeoutMs?: number;
  /** Extra headers on every request (authorization, tracing). */
  headers?: Record<string, string>;
}

export interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  /** Sent as msgpack. */
  body?: unknown;
  /** Sent as is, with `contentType`. */
  rawBody?: Uint8Array;
  contentType?: string;
  /** Overrides the client's requestTimeoutMs (a long-poll passes its wait plus a margin). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Resolve to the raw body bytes of a successful answer instead of decoding it (see also `exchange`). */
  rawResponse?: boolean;
  /** The Accept header; default msgpack. */
  accept?: string;
  /** The partition the request is for: in a cluster it goes to the partition's leader. */
  route?: { topic: string; partition: number };
  /**
   * Whether a NOT_LEADER_OR_FOLLOWER answer sends the request on to the new leader at once (default true).
   * False leaves that to the caller's retries: a pipelining producer orders its resends itself.
   */
  followLeader?: boolean;
  /** Send to this broker (its base URL) rather than where the router would. */
  baseUrl?: string;
  /**
   * Called when a successful answer's headers arrive, before its body: for a pipelined produce
   * (`pipeline=true`), the moment the leader has appended the batches (header `freshet-appended`).
   */
  onHeaders?: (headers: Headers) => void;
}

/** A successful answer as it came: the body bytes and the response headers. */
export interface RawAnswer {
  body: Uint8Array;
  headers: Headers;
}

/** Longest wait for a metadata look-up (leaders, brokers) before asking the next broker. */
const METADATA_TIMEOUT_MS = 10_000;

/**
 * A broker's (or a cluster's) HTTP API. Share it between an Admin, Producers and Consumers: it holds no
 * connection state, and they then share what it learnt of the cluster (leaders, broker addresses).
 */
export class HttpClient {
  readonly requestTimeoutMs: number;
  /** Where requests go: partitions to their leaders, the rest to a broker that answers. */
  readonly router: LeaderRouter;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly headers: Record<string, string>;

  constructor(options: HttpOptions = {}) {
    const seeds = [...(options.url === undefined ? [] : [options.url]), ...(options.bootstrap ?? [])]
      .map(normalizeUrl)
      .filter((url) => url !== '');
    this.router = new LeaderRouter(seeds.length === 0 ? [DEFAULT_URL] : seeds, (baseUrl, path) =>
      this.request('GET', path, {
        baseUrl,
        timeoutMs: Math.min(this.requestTimeoutMs, METADATA_TIMEOUT_MS),
      }),
    );
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.headers = options.headers ?? {};
    const fetchImpl = options.fetch ?? globalThis.fetch;
    // Called unbound, browsers' fetch throws "Illegal invocation".
    this.fetchImpl = options.fetch === undefined ? fetchImpl.bind(globalThis) : fetchImpl;
  }

  /** Sends one request; resolves to the decoded body (undefined for 204), rejects with a FreshetError. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { body, headers } = await this.exchange(method, path, options);
    return (options.rawResponse ? body : decodeBody(headers, body)) as T;
  }

  /** The broker that requests for no particular partition go to now (the first URL given, until it fails). */
  get url(): string {
    return this.router.url;
  }

  /**
   * Sends one request; resolves to the body bytes and headers of a successful answer without decoding
   * (raw batches, or an answer the caller reads itself), rejects with a FreshetError.
   */
  async exchange(method: string, path: string, options: RequestOptions = {}): Promise<RawAnswer> {
    if (options.baseUrl !== undefined) return this.send(normalizeUrl(options.baseUrl), method, path, options);
    const route = options.route;
    const router = this.router;
    if (route === undefined) {
      if (method !== 'GET') return this.sendReported(router.url, method, path, options);
      // A read that no broker took: when the broker does not answer, the next known one is asked at once.
      const tried = new Set<string>();
      for (;;) {
        const baseUrl = router.url;
        tried.add(baseUrl);
        try {
          return await this.sendReported(baseUrl, method, path, options);
        } catch (err) {
          if (!(err instanceof FreshetError) || err.code !== 'NETWORK_EXCEPTION' || tried.has(router.url)) {
            throw err;
          }
        }
      }
    }
    const resolved = router.urlFor(route.topic, route.partition);
    const baseUrl = typeof resolved === 'string' ? resolved : await resolved;
    try {
      return await this.sendReported(baseUrl, method, path, options, route.topic);
    } catch (err) {
      if (!(err instanceof FreshetError) || err.code !== 'NOT_LEADER_OR_FOLLOWER') throw err;
      if (options.followLeader === false) throw err;
      // Leadership moved: the leader is looked up again (the topic is stale now) and asked at once, once.
      const leader = await router.urlFor(route.topic, route.partition);
      if (leader === baseUrl) throw err;
      return this.sendReported(leader, method, path, options, route.topic);
    }
  }

  /** `send`, telling the router how the broker answered. */
  private async sendReported(
    baseUrl: string,
    method: string,
    path: string,
    options: RequestOptions,
    topic?: string,
  ): Promise<RawAnswer> {
    try {
      const answer = await this.send(baseUrl, method, path, options);
      this.router.reached(baseUrl);
      return answer;
    } catch (err) {
      if (err instanceof FreshetError) this.router.failed(baseUrl, err, topic);
      throw err;
    }
  }

  private async send(
    baseUrl: string,
    method: string,
    path: string,
    options: RequestOptions,
  ): Promise<RawAnswer> {
    const headers: Record<string, string> = { ...this.headers, accept: options.accept ?? MSGPACK };
    let body: Uint8Array | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
    } else if (options.body !== undefined) {
      body = pack(options.body);
      headers['content-type'] = MSGPACK;
    }
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) controller.abort();
    const url = baseUrl + path + queryString(options.query);
    try {
      let response: Response;
      let bytes: Uint8Array;
      try {
        response = await this.fetchImpl(url, {
          method,
          headers,
          body: body as BodyInit | undefined,
          signal: controller.signal,
        });
        if (response.ok) options.onHeaders?.(response.headers);
        bytes = new Uint8Array(await response.arrayBuffer());
      } catch (err) {
        if (options.signal?.aborted) throw options.signal.reason ?? err;
        if (timedOut) {
          throw new FreshetError('REQUEST_TIMED_OUT', `${method} ${path}: no answer in ${timeoutMs} ms`, {
            cause: err,
          });
        }
        const message = err instanceof Error ? err.message : String(err);
        throw new FreshetError('NETWORK_EXCEPTION', `${method} ${url}: ${message}`, { cause: err });
      }
      if (!response.ok) throw errorFromResponse(response, bytes, method, path);
      if (response.headers.has(APPENDED_HEADER)) return laterAnswer(response, bytes, method, path);
      return { body: bytes, headers: response.headers };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Set on a pipelined produce's answer: its status went when the leader appended, its body after (respond.ts). */
export const APPENDED_HEADER = 'freshet-appended';

/**
 * A pipelined produce's body: a filler value (msgpack nil, or JSON whitespace), then the answer, or the
 * `{error}` of a write that failed after its append (a 200 whose failure came late), thrown as such.
 */
function laterAnswer(response: Response, bytes: Uint8Array, method: string, path: string): RawAnswer {
  const json = (response.headers.get('content-type') ?? '').includes('json');
  const body = json ? bytes : bytes.subarray(bytes[0] === 0xc0 ? 1 : 0);
  let decoded: { error?: { code?: unknown; message?: unknown } } | undefined;
  try {
    decoded = decodeBody(response.headers, body) as typeof decoded;
  } catch {
    throw new FreshetError(
      'UNKNOWN_SERVER_ERROR',
      `${method} ${path}: the answer after the append is cut off`,
    );
  }
  if (decoded?.error !== undefined) throw errorFromResponse(response, body, method, path);
  return { body, headers: response.headers };
}

function queryString(query: RequestOptions['query']): string {
  if (query === undefined) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

function decodeBody(headers: Headers, bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  const type = headers.get('content-type') ?? '';
  if (type.includes('json')) return JSON.parse(new TextDecoder().decode(bytes));
  if (type.startsWith('text/')) return new TextDecoder().decode(bytes);
  return unpack(bytes);
}

/** Codes for error answers without a readable body (a proxy's 502, an old broker's 404). */
const CODE_BY_STATUS: Record<number, string> = {
  413: 'MESSAGE_TOO_LARGE',
  429: 'THROTTLING_QUOTA_EXCEEDED',
  503: 'LEADER_NOT_AVAILABLE',
  504: 'REQUEST_TIMED_OUT',
};

function errorFromResponse(
  response: Response,
  bytes: Uint8Array,
  method: string,
  path: string,
): FreshetError {
  let code = CODE_BY_STATUS[response.status] ?? 'UNKNOWN_SERVER_ERROR';
  let message = `${method} ${path}: HTTP ${response.status} ${response.statusText}`.trim();
  try {
    const body = decodeBody(response.headers, bytes) as
      | { error?: { code?: unknown; message?: unknown } }
      | undefined;
    if (typeof body?.error?.code === 'string') code = body.error.code;
    if (typeof body?.error?.message === 'string') message = body.error.message;
  } catch {
    // Not msgpack nor JSON (an HTML error page): keep the status line.
  }
  return new FreshetError(code, message, {
    status: response.status,
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}

/** `Retry-After` is seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export interface RetryPolicy {
  /** Further attempts after the first (0: none). */
  retries: number;
  /** First backoff; doubles each attempt. */
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
}

/**
 * About 16 s of retries: long enough to ride out a leader's failover in a cluster (the dead leader's etcd
 * lease must expire first, 5 s by default, then the controller elects another).
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 8,
  retryBackoffMs: 100,
  maxRetryBackoffMs: 5_000,
});

/**
 * Wait before attempt `attempt + 1`: the broker's Retry-After when it gave one, else exponential backoff
 * with ±20% jitter so that clients that failed together do not retry together.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, err?: FreshetError): number {
  if (err?.retryAfterMs !== undefined) return Math.min(err.retryAfterMs, 60_000);
  const base = Math.min(policy.maxRetryBackoffMs, policy.retryBackoffMs * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export interface RetryHooks {
  /** Narrows which retriable errors are retried (default: all of them). */
  retryIf?: (err: FreshetError) => boolean;
  /** Called before each retry's backoff. */
  onRetry?: (err: FreshetError, attempt: number) => void;
}

/** Runs `attempt` until it succeeds, fails with a non-retriable error, or the retries are spent. */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (n: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (!(err instanceof FreshetError) || !err.retriable || n >= policy.retries) throw err;
      if (hooks.retryIf !== undefined && !hooks.retryIf(err)) throw err;
      hooks.onRetry?.(err, n);
      await sleep(backoffMs(n, policy, err));
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function topicPath(topic: string): string {
  return `/v1/topics/${encodeURIComponent(topic)}`;
}
