/**
 * @module
 * Reads a request body with a size cap, refusing an oversize body before it is buffered whole: by its
 * Content-Length (then read in one `arrayBuffer()`), or, for a chunked body, by counting bytes as they
 * stream in; and decodes JSON/msgpack bodies.
 */
import { BrokerError } from '../shared/errors.ts';
import { decodeBody, RECORD_BATCH_TYPE, requestFormat } from './codec.ts';

function tooLarge(size: number | string, maxBytes: number): BrokerError {
  return new BrokerError(
    'RECORD_LIST_TOO_LARGE',
    `the request body of ${size} bytes is larger than the limit of ${maxBytes} bytes (--max-request-bytes)`,
  );
}

/** The whole body as one Uint8Array the caller owns; empty when there is none. */
export async function readBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    const expected = Number(declared);
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new BrokerError('INVALID_REQUEST', `Content-Length '${declared}' is not a byte count`);
    }
    if (expected > maxBytes) throw tooLarge(expected, maxBytes);
  }
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  // With a Content-Length within the limit, one arrayBuffer() beats a reader loop (and hands back a
  // buffer of its own). Bun.serve reads exactly Content-Length bytes, under its maxRequestBodySize; a
  // Request built by other means may carry more than it declares, so the size is checked again after.
  if (declared !== null) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > maxBytes) throw tooLarge(bytes.length, maxBytes);
    return bytes;
  }
  return readStream(body, maxBytes);
}

/** A body without Content-Length (chunked), counted as it arrives so an oversize one stops early. */
async function readStream(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge(`at least ${size}`, maxBytes);
      chunks.push(value);
    }
  } catch (err) {
    // Stop the upload: the rest of the body is not wanted.
    reader.cancel().catch(() => {});
    throw err;
  }
  if (chunks.length === 1) {
    const only = chunks[0]!;
    // A chunk may be a view into a pooled buffer; the engine takes ownership of produce bytes, so copy
    // unless the view covers its whole buffer.
    if (only.byteOffset === 0 && only.byteLength === only.buffer.byteLength) return only;
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (const chunk of chunks) {
    out.set(chunk, pos);
    pos += chunk.byteLength;
  }
  return out;
}

/**
 * Reads and decodes a JSON or msgpack body (topic admin requests and `{records}` produce).
 * RecordBatch bodies are only for produce, which reads them itself.
 */
export async function readStructuredBody(
  request: Request,
  maxBytes: number,
): Promise<{ body: unknown; format: 'json' | 'msgpack' }> {
  const bytes = await readBody(request, maxBytes);
  const format = requestFormat(request.headers.get('content-type') ?? undefined, bytes[0]);
  if (format === 'recordbatch') {
    throw new BrokerError('INVALID_REQUEST', `${RECORD_BATCH_TYPE} bodies are accepted only by produce`);
  }
  return { body: decodeBody(bytes, format), format };
}
