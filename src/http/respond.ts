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

/**
 * A 200 whose headers go at once and whose body follows when `body` settles: a filler value first (msgpack
 * nil, or a space in JSON; sent so that the headers leave now), then the answer, or `{error}` when `body`
 * rejects. Readers skip the filler: `{"a":1}` after a space is still one JSON document.
 */
export function sendLater(
  c: Context,
  body: Promise<unknown>,
  headers: Record<string, string>,
  errorBody: (err: unknown) => unknown,
): Response {
  const msgpack = formatOf(c) === 'msgpack';
  const encode = (value: unknown) =>
    msgpack ? packBody(value) : new TextEncoder().encode(JSON.stringify(value));
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(Uint8Array.of(msgpack ? 0xc0 : 0x20));
      let answer: unknown;
      try {
        answer = await body;
      } catch (err) {
        answer = errorBody(err);
      }
      try {
        controller.enqueue(encode(answer));
        controller.close();
      } catch {
        // The client went away: nobody is left to answer.
      }
    },
  });
  return new Response(stream, {
    status: 200,
    headers: { ...headers, 'content-type': msgpack ? MSGPACK_TYPE : `${JSON_TYPE}; charset=utf-8` },
  });
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
