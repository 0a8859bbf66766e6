/**
 * @module
 * Reading request bodies under a size cap, by Content-Length and by counting.
 */
import { describe, expect, it } from 'vitest';
import { readBody, readStructuredBody } from '../../src/http/read-body.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { utf8 } from './support.ts';

async function codeOf(work: Promise<unknown>): Promise<string | null> {
  try {
    await work;
    return null;
  } catch (err) {
    return err instanceof BrokerError ? err.code : 'not a BrokerError';
  }
}

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream(
    {
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]!);
        else controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request('http://x/', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
}

describe('readBody', () => {
  it('joins a streamed body', async () => {
    const body = await readBody(post(streamOf([utf8('ab'), utf8('cd'), utf8('e')])), 10);
    expect(body).toEqual(utf8('abcde'));
  });

  it('answers an empty array for no body', async () => {
    expect(await readBody(new Request('http://x/'), 10)).toEqual(new Uint8Array(0));
  });

  it('refuses by Content-Length and by counting when the header lies', async () => {
    expect(await codeOf(readBody(post('x', { 'content-length': '11' }), 10))).toBe('RECORD_LIST_TOO_LARGE');
    const lying = post(streamOf([new Uint8Array(8), new Uint8Array(8)]), { 'content-length': '5' });
    expect(await codeOf(readBody(lying, 10))).toBe('RECORD_LIST_TOO_LARGE');
  });

  it('refuses a Content-Length that is not a byte count', async () => {
    expect(await codeOf(readBody(post('x', { 'content-length': 'lots' }), 10))).toBe('INVALID_REQUEST');
  });

  it('reads a body with Content-Length whole, into a buffer of its own', async () => {
    const body = await readBody(
      post(streamOf([utf8('ab'), utf8('cd'), utf8('e')]), { 'content-length': '5' }),
      5,
    );
    expect(body).toEqual(utf8('abcde'));
    expect(body.byteOffset).toBe(0);
    expect(body.buffer.byteLength).toBe(5);
    expect(await readBody(post(new Uint8Array(0), { 'content-length': '0' }), 5)).toEqual(new Uint8Array(0));
  });

  it('gives a buffer the caller owns, never a view into a larger one', async () => {
    const backing = new Uint8Array(64).fill(7);
    const body = await readBody(post(streamOf([backing.subarray(8, 16)])), 100);
    expect(body.byteOffset).toBe(0);
    expect(body.buffer.byteLength).toBe(8);
    expect(body).toEqual(new Uint8Array(8).fill(7));
  });
});

describe('readStructuredBody', () => {
  it('decodes by content type and refuses RecordBatch bodies', async () => {
    expect(await readStructuredBody(post('{"a":1}', { 'content-type': 'application/json' }), 100)).toEqual({
      body: { a: 1 },
      format: 'json',
    });
    const batch = post(new Uint8Array([0]), { 'content-type': 'application/vnd.kafka.recordbatch' });
    expect(await codeOf(readStructuredBody(batch, 100))).toBe('INVALID_REQUEST');
  });
});
