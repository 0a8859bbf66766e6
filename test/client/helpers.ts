/**
 * @module
 * Test doubles around `fetch` for the client tests: count requests, fail the first N matching ones with an
 * overload answer, or hold answers back until released; plus unique topic names and a condition wait.
 */
import { pack } from '../../src/client/codec.ts';

export interface RecordedRequest {
  method: string;
  url: string;
  contentType: string | null;
}

/** A fetch that records every request before passing it on. */
export function recordingFetch(inner: typeof fetch = fetch): {
  fetch: typeof fetch;
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    requests.push({
      method: init?.method ?? 'GET',
      url: String(input),
      contentType: headers.get('content-type'),
    });
    return inner(input, init);
  }) as typeof fetch;
  return { fetch: wrapped, requests };
}

export interface FaultOptions {
  /** Which requests may fail (default: all). */
  match?: (method: string, url: string) => boolean;
  /** How many matching requests fail before the rest pass. */
  failures: number;
  /** Matching requests let through before the failures start (default 0). */
  after?: number;
  status?: number;
  code?: string;
  /** Retry-After header value, in seconds. */
  retryAfter?: string;
}

/** A fetch whose first `failures` matching requests get an error answer without reaching the broker. */
export function faultyFetch(options: FaultOptions, inner: typeof fetch = fetch) {
  const state = { failed: 0, passed: 0, matched: 0 };
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const method = init?.method ?? 'GET';
    const matches = options.match?.(method, String(input)) ?? true;
    if (matches) state.matched++;
    if (matches && state.matched > (options.after ?? 0) && state.failed < options.failures) {
      state.failed++;
      const headers: Record<string, string> = { 'content-type': 'application/msgpack' };
      if (options.retryAfter !== undefined) headers['retry-after'] = options.retryAfter;
      const body = pack({
        error: { code: options.code ?? 'LEADER_NOT_AVAILABLE', message: 'injected fault' },
      });
      return new Response(body as BodyInit, { status: options.status ?? 503, headers });
    }
    state.passed++;
    return inner(input, init);
  }) as typeof fetch;
  return { fetch: wrapped, state };
}

/** A fetch that holds every answer until `release()` (the request itself reaches the broker at once). */
export function gatedFetch(inner: typeof fetch = fetch) {
  let open = false;
  let waiters: Array<() => void> = [];
  const state = { held: 0, requests: 0 };
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    state.requests++;
    const response = await inner(input, init);
    if (!open) {
      state.held++;
      await new Promise<void>((resolve) => waiters.push(resolve));
      state.held--;
    }
    return response;
  }) as typeof fetch;
  return {
    fetch: wrapped,
    state,
    release() {
      open = true;
      const all = waiters;
      waiters = [];
      for (const resolve of all) resolve();
    },
  };
}

let counter = 0;
export function uniqueTopic(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}-${Math.floor(Math.random() * 1e6)}`;
}

/** Polls `condition` every 10 ms until it holds, or fails after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const decoder = new TextDecoder();
export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : decoder.decode(bytes);
}
