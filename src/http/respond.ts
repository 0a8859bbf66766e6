/**
 * @module
 * Writes a structured response in the format the request negotiated (msgpack or JSON; see codec.ts).
 */
import type { Context } from 'hono';
import { JSON_TYPE, MSGPACK_TYPE, packBody, type ResponseFormat, responseFormat } from './codec.ts';

/** The response format for this request. */
export function formatOf(c: Context): ResponseFormat {
  return responseFormat(c.req.header('accept'), c.req.header('content-type'));
}

/** Answers `body` with `status`; 204 answers no body. */
export function send(
  c: Context,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  if (status === 204) return new Response(null, { status, headers });
  if (formatOf(c) === 'msgpack') {
    return new Response(packBody(body) as Uint8Array<ArrayBuffer>, {
      status,
      headers: { ...headers, 'content-type': MSGPACK_TYPE },
    });
  }
  return new Response(JSON.stringify(body), {
    status,
    headers: { ...headers, 'content-type': `${JSON_TYPE}; charset=utf-8` },
  });
}
