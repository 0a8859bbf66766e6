/**
 * @module
 * The request helper under Admin, Producer and Consumer: msgpack in and out over `fetch`, a timeout per
 * request, error bodies (`{error:{code,message}}`) turned into FreshetErrors, and exponential backoff that
 * honours `Retry-After`. Uses only fetch, AbortController and timers, so it runs on any runtime.
 */
import { MSGPACK, pack, unpack } from './codec.ts';
import { FreshetError } from './errors.ts';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface HttpOptions {
  /** The broker's HTTP address; default http://127.0.0.1:8080. */
  url?: string;
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
}

/** A successful answer as it came: the body bytes and the response headers. */
export interface RawAnswer {
  body: Uint8Array;
  headers: Headers;
}

/** One broker's HTTP API. Share it between an Admin, Producers and Consumers: it holds no connection state. */
export class HttpClient {
  readonly url: string;
  readonly requestTimeoutMs: number;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly headers: Record<string, string>;

  constructor(options: HttpOptions = {}) {
    this.url = (options.url ?? DEFAULT_URL).replace(/\/+$/, '');
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

  /**
   * Sends one request; resolves to the body bytes and headers of a successful answer without decoding
   * (raw batches, or an answer the caller reads itself), rejects with a FreshetError.
   */
  async exchange(method: string, path: string, options: RequestOptions = {}): Promise<RawAnswer> {
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
    const url = this.url + path + queryString(options.query);
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
      return { body: bytes, headers: response.headers };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }
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

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 5,
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
