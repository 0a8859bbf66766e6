/**
 * @module
 * Raw produce and fetch (memory and file logs), decoded fetch, long-poll, and the fetch errors, against a
 * real in-process engine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setBaseOffset } from '../../src/records/batch-header.ts';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/records/record-batch.ts';
import {
  clientPackr,
  createHarness,
  createTopic,
  expectError,
  type Harness,
  jsonRequest,
  msgpackRequest,
  text,
  utf8,
} from './support.ts';

const RECORD_BATCH = 'application/vnd.kafka.recordbatch';
const FETCH_PATH = (topic: string, partition: number | string, query = '') =>
  `/v1/topics/${topic}/partitions/${partition}/records${query}`;

function batchOf(values: string[], timestamp = 1_700_000_000_000): Uint8Array {
  return encodeRecordBatch(values.map((value, i) => ({ key: utf8(`k${i}`), value: utf8(value), timestamp })));
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

async function produceRaw(h: Harness, topic: string, partition: number, batches: Uint8Array, query = '') {
  const res = await h.app.request(`/v1/topics/${topic}/records?partition=${partition}${query}`, {
    method: 'POST',
    headers: { 'content-type': RECORD_BATCH },
    // A copy: the engine takes ownership of produce bytes and rewrites their baseOffset.
    body: batches.slice(),
  });
  const raw = await res.text();
  return { res, body: raw === '' ? null : JSON.parse(raw) };
}

async function fetchRaw(h: Harness, topic: string, partition: number, query = '') {
  const res = await h.app.request(FETCH_PATH(topic, partition, query), { headers: { accept: RECORD_BATCH } });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** What the log stores for `batches` appended from `baseOffset`: the same bytes with offsets assigned. */
function stored(batches: Uint8Array[], baseOffset: number): Uint8Array {
  let next = baseOffset;
  return concat(
    batches.map((batch) => {
      const copy = batch.slice();
      setBaseOffset(copy, 0, next);
      next += decodeRecordBatches(copy)[0]!.records.length;
      return copy;
    }),
  );
}

for (const onDisk of [false, true]) {
  describe(`raw produce and fetch (${onDisk ? 'file log in a temp dir' : 'memory log'})`, () => {
    let h: Harness;
    beforeEach(async () => {
      h = await createHarness({ onDisk });
      await createTopic(h.app, 'raw', 2);
    });
    afterEach(() => h.close());

    it('answers one result per record and fetches back the very bytes', async () => {
      const first = batchOf(['a', 'b', 'c']);
      const second = batchOf(['d', 'e']);
      const { res, body } = await produceRaw(h, 'raw', 1, concat([first, second]));
      expect(res.status).toBe(200);
      expect(body.results).toEqual([0, 1, 2, 3, 4].map((offset) => ({ partition: 1, offset })));

      const third = batchOf(['f']);
      expect((await produceRaw(h, 'raw', 1, third)).body.results).toEqual([{ partition: 1, offset: 5 }]);

      const fetched = await fetchRaw(h, 'raw', 1);
      expect(fetched.res.status).toBe(200);
      expect(fetched.res.headers.get('content-type')).toBe(RECORD_BATCH);
      expect(fetched.res.headers.get('freshet-next-offset')).toBe('6');
      expect(fetched.res.headers.get('freshet-high-watermark')).toBe('6');
      expect(fetched.res.headers.get('freshet-log-start-offset')).toBe('0');
      expect(Buffer.from(fetched.bytes).equals(Buffer.from(stored([first, second, third], 0)))).toBe(true);
      // The file log hands out file slices (read by slice-body's fallback here), the memory log bytes.
      const slices = (
        await h.engine.fetchRaw({
          topic: 'raw',
          partition: 1,
          offset: 0,
          maxBytes: 1 << 20,
          maxWaitMs: 0,
          minBytes: 1,
        })
      ).slices;
      expect(new Set(slices.map((slice) => slice.kind))).toEqual(new Set([onDisk ? 'file' : 'bytes']));

      // From the middle of the first batch: whole batches, starting with the one holding the offset.
      const middle = await fetchRaw(h, 'raw', 1, '?offset=1&maxBytes=1');
      expect(
        Buffer.from(middle.bytes).equals(Buffer.from(stored([first, second], 0).subarray(0, first.length))),
      ).toBe(true);
      expect(middle.res.headers.get('freshet-next-offset')).toBe('3');

      // The decoded view of the same partition agrees.
      const decoded = await jsonRequest(h.app, 'GET', FETCH_PATH('raw', 1));
      expect(decoded.body.records.map((r: { value: string }) => r.value)).toEqual([
        'a',
        'b',
        'c',
        'd',
        'e',
        'f',
      ]);
      expect(decoded.body.nextOffset).toBe(6);
    });

    it('answers the offset range alone with ?answer=range', async () => {
      const first = batchOf(['a', 'b', 'c']);
      const second = batchOf(['d', 'e']);
      const answer = await produceRaw(h, 'raw', 1, concat([first, second]), '&answer=range');
      expect(answer.res.status).toBe(200);
      expect(answer.body).toEqual({ partition: 1, baseOffset: 0, lastOffset: 4, count: 5 });
      const next = await produceRaw(h, 'raw', 1, batchOf(['f']), '&answer=range');
      expect(next.body).toEqual({ partition: 1, baseOffset: 5, lastOffset: 5, count: 1 });
      // answer=records is the default, spelled out.
      const perRecord = await produceRaw(h, 'raw', 1, batchOf(['g', 'h']), '&answer=records');
      expect(perRecord.body.results).toEqual([6, 7].map((offset) => ({ partition: 1, offset })));
      const decoded = await jsonRequest(h.app, 'GET', FETCH_PATH('raw', 1));
      expect(decoded.body.records.map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual(
        ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((value, offset) => [offset, value]),
      );
    });

    it('answers an empty body at the end of the log', async () => {
      const fetched = await fetchRaw(h, 'raw', 0);
      expect(fetched.res.status).toBe(200);
      expect(fetched.bytes.length).toBe(0);
      expect(fetched.res.headers.get('freshet-next-offset')).toBe('0');
    });
  });
}

describe('raw produce errors', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
    await createTopic(h.app, 'raw', 2);
  });
  afterEach(() => h.close());

  it('400 INVALID_REQUEST without ?partition=, or with a bad one', async () => {
    const res = await h.app.request('/v1/topics/raw/records', {
      method: 'POST',
      headers: { 'content-type': RECORD_BATCH },
      body: batchOf(['a']) as Uint8Array<ArrayBuffer>,
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe('INVALID_REQUEST');
    expect(body.error.message).toContain('partition');
    expectError(await produceRaw(h, 'raw', 'x' as unknown as number, batchOf(['a'])), 400, 'INVALID_REQUEST');
  });

  it('404 for a partition out of range', async () => {
    expectError(await produceRaw(h, 'raw', 2, batchOf(['a'])), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('400 CORRUPT_MESSAGE for a batch with a bad CRC, and appends nothing', async () => {
    const batch = batchOf(['a', 'b']);
    batch[batch.length - 1]! ^= 0xff;
    expectError(await produceRaw(h, 'raw', 0, batch), 400, 'CORRUPT_MESSAGE');
    expect((await fetchRaw(h, 'raw', 0)).bytes.length).toBe(0);
  });

  it('400 INVALID_REQUEST for an empty body', async () => {
    expectError(await produceRaw(h, 'raw', 0, new Uint8Array(0)), 400, 'INVALID_REQUEST');
  });

  it('answers 202 {} with acks=0', async () => {
    const { res, body } = await produceRaw(h, 'raw', 0, batchOf(['a']), '&acks=0');
    expect(res.status).toBe(202);
    expect(body).toEqual({});
    await expect.poll(async () => (await fetchRaw(h, 'raw', 0)).bytes.length).toBeGreaterThan(0);
    const ranged = await produceRaw(h, 'raw', 0, batchOf(['b']), '&acks=0&answer=range');
    expect(ranged.res.status).toBe(202);
    expect(ranged.body).toEqual({});
  });

  it('answers the range in msgpack when asked', async () => {
    const res = await h.app.request('/v1/topics/raw/records?partition=0&answer=range', {
      method: 'POST',
      headers: { 'content-type': RECORD_BATCH, accept: 'application/msgpack' },
      body: batchOf(['a', 'b']).slice(),
    });
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    expect(clientPackr.unpack(new Uint8Array(await res.arrayBuffer()))).toEqual({
      partition: 0,
      baseOffset: 0,
      lastOffset: 1,
      count: 2,
    });
  });

  it('400 INVALID_REQUEST for an unknown answer, and for answer= with a {records} body', async () => {
    const bad = await produceRaw(h, 'raw', 0, batchOf(['a']), '&answer=ranges');
    expectError(bad, 400, 'INVALID_REQUEST');
    expect(bad.body.error.message).toContain('answer');
    const structured = await jsonRequest(h.app, 'POST', '/v1/topics/raw/records?answer=range', {
      records: [{ value: 'x' }],
    });
    expectError(structured, 400, 'INVALID_REQUEST');
    expect(structured.body.error.message).toContain('answer');
    // Nothing was appended by either.
    expect((await fetchRaw(h, 'raw', 0)).bytes.length).toBe(0);
  });

  it('pipeline=true: a single broker answers as without it; a bad value or a {records} body is 400', async () => {
    const plain = await produceRaw(h, 'raw', 0, batchOf(['a', 'b']), '&answer=range&pipeline=true');
    expect(plain.res.status).toBe(200);
    expect(plain.res.headers.get('freshet-appended')).toBeNull();
    expect(plain.body).toEqual({ partition: 0, baseOffset: 0, lastOffset: 1, count: 2 });
    const bad = await produceRaw(h, 'raw', 0, batchOf(['c']), '&pipeline=maybe');
    expectError(bad, 400, 'INVALID_REQUEST');
    expect(bad.body.error.message).toContain('pipeline');
    const structured = await jsonRequest(h.app, 'POST', '/v1/topics/raw/records?pipeline=true', {
      records: [{ value: 'x' }],
    });
    expectError(structured, 400, 'INVALID_REQUEST');
    expect(structured.body.error.message).toContain('pipeline');
    // Only the first request appended.
    const decoded = await jsonRequest(h.app, 'GET', FETCH_PATH('raw', 0));
    expect(decoded.body.records.map((r: { value: string }) => r.value)).toEqual(['a', 'b']);
  });
});

describe('fetch', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({ config: { maxFetchWaitMs: 30_000 } });
    await createTopic(h.app, 't', 2);
  });
  afterEach(() => h.close());

  async function produce(values: string[], partition = 0) {
    const { res } = await jsonRequest(h.app, 'POST', '/v1/topics/t/records', {
      records: values.map((value) => ({ value, partition })),
    });
    expect(res.status).toBe(200);
  }

  it('reads from the log start by default, with the offsets of the partition', async () => {
    await produce(['a', 'b']);
    const { res, body } = await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0));
    expect(res.status).toBe(200);
    expect(body).toEqual({
      records: [
        { offset: 0, timestamp: expect.any(Number), key: null, value: 'a', headers: [] },
        { offset: 1, timestamp: expect.any(Number), key: null, value: 'b', headers: [] },
      ],
      nextOffset: 2,
      highWatermark: 2,
      logStartOffset: 0,
    });
  });

  it('reads from ?offset= and honours maxBytes (at least one batch)', async () => {
    await produce(['a']);
    await produce(['b']);
    await produce(['c']);
    const { body } = await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0, '?offset=1&maxBytes=1'));
    expect(body.records.map((r: { value: string }) => r.value)).toEqual(['b']);
    expect(body.nextOffset).toBe(2);
    const rest = await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0, '?offset=1'));
    expect(rest.body.records.map((r: { value: string }) => r.value)).toEqual(['b', 'c']);
    const atEnd = await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0, '?offset=3'));
    expect(atEnd.body).toEqual({ records: [], nextOffset: 3, highWatermark: 3, logStartOffset: 0 });
  });

  it('answers msgpack with bin keys and values when asked', async () => {
    await produce(['hello']);
    const { res, body } = await msgpackRequest(h.app, 'GET', FETCH_PATH('t', 0));
    expect(res.headers.get('content-type')).toBe('application/msgpack');
    expect(body.records[0].value).toBeInstanceOf(Uint8Array);
    expect(text(new Uint8Array(body.records[0].value))).toBe('hello');
    expect(body.highWatermark).toBe(1);
  });

  it('long-poll wakes on an append, well before maxWaitMs', async () => {
    const started = Date.now();
    const pending = jsonRequest(h.app, 'GET', FETCH_PATH('t', 1, '?offset=0&maxWaitMs=5000'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await produce(['late'], 1);
    const { res, body } = await pending;
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(body.records.map((r: { value: string }) => r.value)).toEqual(['late']);
    expect(elapsed).toBeGreaterThanOrEqual(40);
    expect(elapsed).toBeLessThan(2000);
  });

  it('long-poll of a raw fetch wakes on an append too', async () => {
    const pending = h.app.request(FETCH_PATH('t', 1, '?maxWaitMs=5000'), {
      headers: { accept: RECORD_BATCH },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await produce(['late'], 1);
    const res = await pending;
    expect(Date.now() - started).toBeLessThan(2000);
    const batches = decodeRecordBatches(new Uint8Array(await res.arrayBuffer()));
    expect(batches.flatMap((b) => b.records.map((r) => text(r.value)))).toEqual(['late']);
  });

  it('answers an empty fetch after maxWaitMs when nothing arrives', async () => {
    const started = Date.now();
    const { body } = await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0, '?maxWaitMs=100'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(body.records).toEqual([]);
  });

  describe('errors', () => {
    it('416 OFFSET_OUT_OF_RANGE past the log end', async () => {
      await produce(['a']);
      expectError(
        await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0, '?offset=2')),
        416,
        'OFFSET_OUT_OF_RANGE',
      );
      const raw = await h.app.request(FETCH_PATH('t', 0, '?offset=99'), {
        headers: { accept: RECORD_BATCH },
      });
      expect(raw.status).toBe(416);
      expect((await raw.json()).error.code).toBe('OFFSET_OUT_OF_RANGE');
    });

    it('404 UNKNOWN_TOPIC_OR_PARTITION for an unknown topic or partition', async () => {
      expectError(await jsonRequest(h.app, 'GET', FETCH_PATH('nope', 0)), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
      expectError(await jsonRequest(h.app, 'GET', FETCH_PATH('t', 2)), 404, 'UNKNOWN_TOPIC_OR_PARTITION');
      expectError(
        await jsonRequest(h.app, 'GET', FETCH_PATH('t', 7, '?offset=0')),
        404,
        'UNKNOWN_TOPIC_OR_PARTITION',
      );
    });

    it('400 INVALID_REQUEST naming the bad parameter', async () => {
      const cases: Array<[string | number, string, string]> = [
        ['x', '', 'partition'],
        ['-1', '', 'partition'],
        [0, '?offset=abc', 'offset'],
        [0, '?offset=-1', 'offset'],
        [0, '?offset=1e3', 'offset'],
        [0, '?offset=', 'offset'],
        [0, '?maxBytes=0', 'maxBytes'],
        [0, '?maxBytes=1.5', 'maxBytes'],
        [0, '?maxWaitMs=-5', 'maxWaitMs'],
        [0, '?minBytes=lots', 'minBytes'],
        [0, '?offset=99999999999999999999', 'offset'],
        [0, '?encoding=hex', 'encoding'],
      ];
      for (const [partition, query, name] of cases) {
        const answer = await jsonRequest(h.app, 'GET', FETCH_PATH('t', partition, query));
        expectError(answer, 400, 'INVALID_REQUEST');
        expect(answer.body.error.message).toContain(`'${name}'`);
      }
    });
  });
});

describe('fetch wait cap', () => {
  it('waits at most --max-wait-ms whatever maxWaitMs asks', async () => {
    const h = await createHarness({ config: { maxFetchWaitMs: 100 } });
    try {
      await createTopic(h.app, 't');
      const started = Date.now();
      const { res, body } = await jsonRequest(h.app, 'GET', FETCH_PATH('t', 0, '?maxWaitMs=20000'));
      expect(res.status).toBe(200);
      expect(body.records).toEqual([]);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await h.close();
    }
  });
});
