/**
 * @module
 * The one place errors become HTTP responses: `{"error":{"code","message"}}` with the status of the code in
 * src/shared/errors.ts. Anything that is not a BrokerError is a 500 whose body says nothing of its stack.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { BrokerError, ERRORS, type ErrorName } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { send } from './respond.ts';

/** Seconds a client should wait before retrying an overloaded broker (429/503). */
const RETRY_AFTER_SECONDS = 1;

function errorBody(code: ErrorName, message: string) {
  return { error: { code, message } };
}

/** The `{error}` body of a failure, for an answer whose status line has already gone (a pipelined produce). */
export function errorBodyOf(err: unknown): { error: { code: ErrorName; message: string } } {
  if (err instanceof BrokerError) return errorBody(err.code, err.message);
  return errorBody('UNKNOWN_SERVER_ERROR', 'internal server error');
}

function errorResponse(
  c: Context,
  code: ErrorName,
  message: string,
  status: number = ERRORS[code].http,
): Response {
  // No wait for a client sent to the wrong broker: it should ask again where to go, at once.
  const moved = code === 'NOT_LEADER_OR_FOLLOWER' || code === 'NOT_COORDINATOR';
  const headers: Record<string, string> =
    (status === 429 || status === 503) && !moved ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {};
  return send(c, status, errorBody(code, message), headers);
}

/** Hono's `onError`: maps BrokerErrors by their code, logs and hides everything else. */
export function createErrorHandler(logger: Logger): (err: Error, c: Context) => Response {
  return (err, c) => {
    if (err instanceof BrokerError) return errorResponse(c, err.code, err.message);
    if (err instanceof HTTPException) {
      // Hono's own refusals (none are raised by our routes today); keep their status.
      return errorResponse(c, 'INVALID_REQUEST', err.message || 'request refused', err.status);
    }
    logger.error('unhandled error in HTTP request', {
      method: c.req.method,
      path: c.req.path,
      error: err.message,
      stack: err.stack,
    });
    return errorResponse(c, 'UNKNOWN_SERVER_ERROR', 'internal server error');
  };
}

/** Hono's `notFound`: no route matches. Status 404, code INVALID_REQUEST (Kafka has no "no such API"). */
export function notFound(c: Context): Response {
  return errorResponse(c, 'INVALID_REQUEST', `no route for ${c.req.method} ${c.req.path}`, 404);
}
