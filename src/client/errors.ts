/**
 * @module
 * `FreshetError`: what every client call rejects with. `code` is the broker's Kafka error name (the catalogue of
 * `src/shared/errors.ts`), or one of the client's own: `CLIENT_CLOSED` (the producer or consumer was closed),
 * `NETWORK_EXCEPTION` (fetch itself failed) and `REQUEST_TIMED_OUT` (no answer in time), both Kafka names too.
 */
import { ERRORS, type ErrorName, isErrorName } from '../shared/errors.ts';

/** A Kafka error name from the catalogue, a client-side code, or an unknown name a newer broker sent. */
export type FreshetErrorCode = ErrorName | 'CLIENT_CLOSED' | (string & {});

export interface FreshetErrorOptions {
  /** HTTP status; 0 when the error arose in the client (network, timeout, closed). */
  status?: number;
  retriable?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

export class FreshetError extends Error {
  readonly code: FreshetErrorCode;
  readonly status: number;
  /** True when the same request may succeed if sent again (the catalogue says so, or the broker is busy). */
  readonly retriable: boolean;
  /** From the `Retry-After` header of a 429 or 503, in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(code: FreshetErrorCode, message: string, options: FreshetErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FreshetError';
    this.code = code;
    this.status = options.status ?? 0;
    this.retriable = options.retriable ?? isRetriable(code, this.status);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Retriable per the catalogue, and every 429/503 answer: overload is always worth another try. */
export function isRetriable(code: string, status = 0): boolean {
  if (status === 429 || status === 503) return true;
  return isErrorName(code) ? ERRORS[code].retriable : false;
}

/** Turns anything thrown into a FreshetError; errors carrying a catalogue `code` (BrokerError) keep it. */
export function asFreshetError(err: unknown): FreshetError {
  if (err instanceof FreshetError) return err;
  const named = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const code = typeof named === 'string' && isErrorName(named) ? named : 'UNKNOWN_SERVER_ERROR';
  const message = err instanceof Error ? err.message : String(err);
  return new FreshetError(code, message, { cause: err });
}

export function closedError(what: string): FreshetError {
  return new FreshetError('CLIENT_CLOSED', `the ${what} is closed`, { retriable: false });
}
