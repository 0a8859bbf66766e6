/**
 * @module
 * Consumer against a real broker process: assign and start offsets, seek, long-poll wake-up, pause/resume,
 * the async iterator and close(), autoOffsetReset on OFFSET_OUT_OF_RANGE, and errors surfaced by poll();
 * the raw fetch path: views into the answer, compressed batches fetched again decoded, CRC checks on
 * request, and the next answer fetched while the application holds the current one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, type ConsumerRecord, FreshetError, Producer } from '../../src/client/index.ts';
import { CompressionType } from '../../src/records/batch-header.ts';
// Installs the codecs in this process, so the consumer could decode compressed batches here: the tests
// check that it fetches them decoded from the broker all the same, as it must where there are no codecs.
import '../../src/records/compression.ts';
import { encodeRecordBatch, type RecordInput } from '../../src/records/record-batch.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import { text, uniqueTopic, waitFor } from './helpers.ts';

let broker: BrokerHandle;
let admin: Admin;
let producer: Producer;
const consumers: Consumer[] = [];

beforeAll(async () => {
  broker = await startBroker({ workers: 2 });
  admin = new Admin({ url: broker.url });
  producer = new Producer({ url: broker.url, lingerMs: 1 });
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close()));
  await producer?.close();
  await broker?.stop();
});

function consumer(options: ConstructorParameters<typeof Consumer>[0] = {}): Consumer {
  const c = new Consumer({ url: broker.url, fetchMaxWaitMs: 200, ...options });
  consumers.push(c);
  return c;
}

async function topicWith(
  prefix: string,
  partitions: number,
  values: Record<number, string[]>,
): Promise<string> {
  const topic = uniqueTopic(prefix);
  await admin.createTopic(topic, { partitions });
  for (const [partition, list] of Object.entries(values)) {
    await producer.send(
      topic,
      list.map((value) => ({ value, partition: Number(partition) })),
    );
  }
  return topic;
}

/** Polls until `count` records arrived or `timeoutMs` passed. */
async function pollN(c: Consumer, count: number, timeoutMs = 5_000): Promise<ConsumerRecord[]> {
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) out.push(...(await c.poll({ maxWaitMs: 100 })));
  return out;
}

const values = (records: ConsumerRecord[]) => records.map((r) => text(r.value));

describe('Consumer', () => {
  it('reads assigned partitions from explicit, earliest and latest offsets', async () => {
    const topic = await topicWith('assign', 2, { 0: ['a0', 'a1', 'a2'], 1: ['b0', 'b1'] });
    const c = consumer();
    c.assign([
      { topic, partition: 0, offset: 1 },
      { topic, partition: 1, offset: 'earliest' },
    ]);
    const records = await pollN(c, 4);
    expect(records).toHaveLength(4);
    expect(values(records.filter((r) => r.partition === 0))).toEqual(['a1', 'a2']);
    expect(values(records.filter((r) => r.partition === 1))).toEqual(['b0', 'b1']);
    expect(records.every((r) => r.topic === topic && typeof r.timestamp === 'number')).toBe(true);
    expect(records[0]!.value).toBeInstanceOf(Uint8Array);
    expect(c.position(topic, 0)).toBe(3);
    expect(c.position(topic, 1)).toBe(2);
    expect(c.highWatermark(topic, 0)).toBe(3);

    const latest = consumer();
    latest.assign([{ topic, partition: 0, offset: 'latest' }]);
    expect(await latest.poll({ maxWaitMs: 300 })).toEqual([]);
    expect(latest.position(topic, 0)).toBe(3);
    await producer.send(topic, { value: 'a3', partition: 0 });
    expect(values(await pollN(latest, 1))).toEqual(['a3']);
  });

  it('starts per autoOffsetReset when assign() gives no offset', async () => {
    const topic = await topicWith('reset-default', 1, { 0: ['x', 'y'] });
    const earliest = consumer({ autoOffsetReset: 'earliest' });
    earliest.assign([{ topic, partition: 0 }]);
    expect(values(await pollN(earliest, 2))).toEqual(['x', 'y']);
    const latest = consumer();
    latest.assign([{ topic, partition: 0 }]);
    expect(await latest.poll({ maxWaitMs: 200 })).toEqual([]);
    expect(() => consumer({ autoOffsetReset: 'none' }).assign([{ topic, partition: 0 }])).toThrow(
      FreshetError,
    );
  });

  it('seeks back, forward, to earliest and to latest', async () => {
    const topic = await topicWith('seek', 1, { 0: ['0', '1', '2', '3', '4'] });
    const c = consumer();
    c.assign([{ topic, partition: 0, offset: 'earliest' }]);
    expect(values(await pollN(c, 5))).toEqual(['0', '1', '2', '3', '4']);
    c.seek(topic, 0, 2);
    expect(values(await pollN(c, 3))).toEqual(['2', '3', '4']);
    c.seek(topic, 0, 'earliest');
    expect(values(await pollN(c, 5))).toEqual(['0', '1', '2', '3', '4']);
    c.seek(topic, 0, 'latest');
    expect(await c.poll({ maxWaitMs: 300 })).toEqual([]);
    expect(c.position(topic, 0)).toBe(5);
    expect(() => c.seek(topic, 7, 0)).toThrow(/not assigned/);
    expect(() => c.seek(topic, 0, -3)).toThrow(FreshetError);
  });

  it('long-polls: a waiting poll returns as soon as a record is produced', async () => {
    const topic = await topicWith('long-poll', 1, {});
    // One fetch waits up to 2 s on the broker: an answer well before that is the long-poll waking up.
    const c = consumer({ fetchMaxWaitMs: 2_000 });
    c.assign([{ topic, partition: 0, offset: 0 }]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    const polled = c.poll({ maxWaitMs: 10_000 });
    setTimeout(() => void producer.send(topic, { value: 'wake', partition: 0 }), 300);
    const records = await polled;
    const elapsed = Date.now() - started;
    expect(values(records)).toEqual(['wake']);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('respects maxRecords and hands out records round-robin across partitions', async () => {
    const topic = await topicWith('max-records', 2, {
      0: Array.from({ length: 20 }, (_, i) => `p0-${i}`),
      1: Array.from({ length: 20 }, (_, i) => `p1-${i}`),
    });
    const c = consumer();
    c.assign([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    const seen = new Set<number>();
    const all: ConsumerRecord[] = [];
    const deadline = Date.now() + 5_000;
    while (all.length < 40 && Date.now() < deadline) {
      const batch = await c.poll({ maxWaitMs: 200, maxRecords: 7 });
      expect(batch.length).toBeLessThanOrEqual(7);
      for (const r of batch) seen.add(r.partition);
      all.push(...batch);
    }
    expect(all).toHaveLength(40);
    expect(seen).toEqual(new Set([0, 1]));
  });

  it('pauses and resumes a partition, keeping its position', async () => {
    const topic = await topicWith('pause', 2, { 0: ['a'], 1: ['b'] });
    const c = consumer();
    c.assign([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    c.pause(topic, 0);
    expect(c.paused()).toEqual([{ topic, partition: 0 }]);
    const first = await pollN(c, 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.push(...(await c.poll({ maxWaitMs: 200 })));
    expect(values(first)).toEqual(['b']);
    c.resume(topic, 0);
    expect(values(await pollN(c, 1))).toEqual(['a']);
    expect(c.paused()).toEqual([]);
  });

  it('iterates with for await, and close() ends the iteration', async () => {
    const topic = await topicWith('iterate', 1, { 0: ['1', '2', '3'] });
    const c = consumer({ iteratorWaitMs: 100 });
    c.assign([{ topic, partition: 0, offset: 0 }]);
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const record of c) {
        seen.push(text(record.value)!);
        if (seen.length === 3) setTimeout(() => void c.close(), 50);
      }
    })();
    await iterating;
    expect(seen).toEqual(['1', '2', '3']);
    expect(await c.poll({ maxWaitMs: 100 })).toEqual([]);
    expect(() => c.assign([{ topic, partition: 0 }])).toThrow(/closed/);
  });

  it('a break leaves the position right after the last record yielded', async () => {
    const topic = await topicWith('iterate-break', 1, { 0: ['1', '2', '3', '4'] });
    const c = consumer({ iteratorWaitMs: 100 });
    c.assign([{ topic, partition: 0, offset: 0 }]);
    for await (const record of c) {
      if (text(record.value) === '2') break;
    }
    expect(c.position(topic, 0)).toBe(2);
    expect(values(await pollN(c, 2))).toEqual(['3', '4']);
  });

  it('close() wakes a waiting poll', async () => {
    const topic = await topicWith('close-wakes', 1, {});
    const c = consumer({ fetchMaxWaitMs: 2_000 });
    c.assign([{ topic, partition: 0, offset: 0 }]);
    const started = Date.now();
    const polled = c.poll({ maxWaitMs: 10_000 });
    setTimeout(() => void c.close(), 100);
    expect(await polled).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('resets an out-of-range position per autoOffsetReset', async () => {
    const topic = await topicWith('out-of-range', 1, { 0: ['a', 'b', 'c'] });
    const earliest = consumer({ autoOffsetReset: 'earliest' });
    earliest.assign([{ topic, partition: 0, offset: 1000 }]);
    expect(values(await pollN(earliest, 3))).toEqual(['a', 'b', 'c']);

    const latest = consumer({ autoOffsetReset: 'latest' });
    latest.assign([{ topic, partition: 0, offset: 1000 }]);
    await pollN(latest, 1, 500);
    expect(latest.position(topic, 0)).toBe(3);

    const none = consumer({ autoOffsetReset: 'none' });
    none.assign([{ topic, partition: 0, offset: 1000 }]);
    const err = await pollN(none, 1, 3_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FreshetError);
    expect(err).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', status: 416 });
    expect((err as FreshetError).message).toContain(`${topic}/0`);
    // Stalled until a seek puts it back in range.
    none.seek(topic, 0, 1);
    expect(values(await pollN(none, 2))).toEqual(['b', 'c']);
  });

  it('surfaces a missing partition once its retries are spent', async () => {
    const topic = await topicWith('missing', 1, {});
    const c = consumer({ retries: 1, retryBackoffMs: 10 });
    c.assign([{ topic, partition: 5, offset: 0 }]);
    const err = await pollN(c, 1, 5_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', status: 404 });
  });

  it('re-assigning keeps positions of kept partitions and drops the others', async () => {
    const topic = await topicWith('reassign', 2, { 0: ['a0', 'a1'], 1: ['b0'] });
    const c = consumer();
    c.assign([{ topic, partition: 0, offset: 0 }]);
    expect(values(await pollN(c, 2))).toEqual(['a0', 'a1']);
    c.assign([
      { topic, partition: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    expect(c.assignment()).toHaveLength(2);
    expect(values(await pollN(c, 1))).toEqual(['b0']);
    expect(c.position(topic, 0)).toBe(2);
    c.assign([{ topic, partition: 1 }]);
    expect(c.assignment()).toEqual([{ topic, partition: 1 }]);
    expect(() => c.position(topic, 0)).toThrow(/not assigned/);
  });
});

const RECORD_BATCH = 'application/vnd.kafka.recordbatch';
const encoder = new TextEncoder();

interface SeenFetch {
  url: string;
  accept: string;
}

/** A fetch that notes the URL and Accept header of every record fetch, and may rewrite raw answers. */
function fetchSpy(rewriteRaw?: (body: Uint8Array) => Uint8Array) {
  const seen: SeenFetch[] = [];
  const wrapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const accept = new Headers(init?.headers).get('accept') ?? '';
    if (url.includes('/partitions/') && url.includes('/records')) seen.push({ url, accept });
    const response = await fetch(input, init);
    if (rewriteRaw === undefined || response.headers.get('content-type') !== RECORD_BATCH) return response;
    const body = rewriteRaw(new Uint8Array(await response.arrayBuffer()));
    return new Response(body as BodyInit, { status: response.status, headers: response.headers });
  }) as typeof fetch;
  return { fetch: wrapped, seen };
}

/** Appends raw batches (one request each) to partition 0. */
async function produceBatches(topic: string, batches: Uint8Array[]): Promise<void> {
  for (const batch of batches) {
    const response = await fetch(`${broker.url}/v1/topics/${topic}/records?partition=0`, {
      method: 'POST',
      headers: { 'content-type': RECORD_BATCH },
      body: batch as BodyInit,
    });
    expect(response.status).toBe(200);
  }
}

function inputs(prefix: string, count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: encoder.encode(`k-${prefix}${i}`),
    value: encoder.encode(`${prefix}${i}`),
    headers: [{ key: 'h', value: encoder.encode(`${prefix}${i}!`) }],
    timestamp: 1_700_000_000_000 + i,
  }));
}

describe('Consumer on raw batches', () => {
  it('fetches raw batches and hands out keys and values as views into the answer', async () => {
    const topic = await topicWith('raw', 1, { 0: ['a', 'b', 'c'] });
    const spy = fetchSpy();
    const c = consumer({ fetch: spy.fetch });
    c.assign([{ topic, partition: 0, offset: 0 }]);
    const records = await pollN(c, 3);
    expect(values(records)).toEqual(['a', 'b', 'c']);
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(spy.seen.every((f) => f.accept.includes(RECORD_BATCH))).toBe(true);
    // One answer, one buffer: no copies.
    expect(records[1]!.value!.buffer).toBe(records[0]!.value!.buffer);
    expect(records[0]!.value!.constructor).toBe(Uint8Array);
    // Read from the Freshet-High-Watermark and Freshet-Next-Offset headers.
    expect(c.highWatermark(topic, 0)).toBe(3);
    expect(c.position(topic, 0)).toBe(3);
  });

  it('fetches the range of compressed batches again decoded, and keeps every record in order', async () => {
    const topic = uniqueTopic('compressed');
    await admin.createTopic(topic, { partitions: 1 });
    await produceBatches(topic, [
      encodeRecordBatch(inputs('a', 2)),
      encodeRecordBatch(inputs('g', 3), { compression: CompressionType.Gzip }),
      encodeRecordBatch(inputs('z', 2), { compression: CompressionType.Zstd }),
      encodeRecordBatch(inputs('d', 1)),
      encodeRecordBatch(inputs('s', 2), { compression: CompressionType.Snappy }),
    ]);
    const expected = ['a0', 'a1', 'g0', 'g1', 'g2', 'z0', 'z1', 'd0', 's0', 's1'];

    const spy = fetchSpy();
    const c = consumer({ fetch: spy.fetch });
    c.assign([{ topic, partition: 0, offset: 0 }]);
    const records = await pollN(c, expected.length);
    expect(values(records)).toEqual(expected);
    expect(records.map((r) => r.offset)).toEqual(expected.map((_, i) => i));
    expect(records.map((r) => text(r.key))).toEqual(expected.map((v) => `k-${v}`));
    expect(records.map((r) => r.headers.map((h) => [h.key, text(h.value)]))).toEqual(
      expected.map((v) => [['h', `${v}!`]]),
    );
    expect(records.map((r) => r.timestamp)).toEqual(
      expected.map((v) => 1_700_000_000_000 + Number(v.slice(1))),
    );
    expect(c.position(topic, 0)).toBe(expected.length);
    // The gzip + zstd run and the snappy batch were each fetched decoded once.
    const decoded = spy.seen.filter((f) => !f.accept.includes(RECORD_BATCH));
    expect(decoded.map((f) => new URL(f.url).searchParams.get('offset'))).toEqual(['2', '8']);

    // From the middle of the gzip batch: the raw answer starts with a compressed batch.
    const middle = consumer();
    middle.assign([{ topic, partition: 0, offset: 3 }]);
    const rest = await pollN(middle, expected.length - 3);
    expect(values(rest)).toEqual(expected.slice(3));
    expect(rest.map((r) => r.offset)).toEqual(expected.slice(3).map((_, i) => i + 3));
  });

  it('checks CRCs only when asked (checkCrcs)', async () => {
    const topic = await topicWith('crc', 1, { 0: ['intact-value'] });
    const marker = encoder.encode('intact');
    /** Damages the value in the raw answer, as a disk or a network could. */
    const damage = (body: Uint8Array) => {
      const copy = body.slice();
      for (let i = 0; i + marker.length <= copy.length; i++) {
        if (marker.every((b, j) => copy[i + j] === b)) copy[i] = 'I'.charCodeAt(0);
      }
      return copy;
    };
    const trusting = consumer({ fetch: fetchSpy(damage).fetch });
    trusting.assign([{ topic, partition: 0, offset: 0 }]);
    expect(values(await pollN(trusting, 1))).toEqual(['Intact-value']);

    const checking = consumer({ fetch: fetchSpy(damage).fetch, checkCrcs: true, retries: 0 });
    checking.assign([{ topic, partition: 0, offset: 0 }]);
    const err = await pollN(checking, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FreshetError);
    expect(err).toMatchObject({ code: 'CORRUPT_MESSAGE' });
    expect((err as FreshetError).message).toMatch(/crc/i);
  });

  it('fetches the next answer while the application holds the current one, and no further', async () => {
    const topic = uniqueTopic('prefetch');
    await admin.createTopic(topic, { partitions: 1 });
    for (const value of ['b0', 'b1', 'b2', 'b3']) await producer.send(topic, { value, partition: 0 });
    const spy = fetchSpy();
    // One batch per answer.
    const c = consumer({ fetch: spy.fetch, maxPartitionFetchBytes: 1 });
    c.assign([{ topic, partition: 0, offset: 0 }]);
    expect(values(await pollN(c, 1))).toEqual(['b0']);
    // The answer after b0 is buffered and the one after it prefetched, without another poll.
    await waitFor(() => spy.seen.length >= 3, 5_000, 'two fetches ahead');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(spy.seen).toHaveLength(3);
    expect(values(await c.poll({ maxWaitMs: 0 }))).toEqual(['b1']);
    await waitFor(() => spy.seen.length >= 4, 5_000, 'the fetch after b3');
    expect(values(await c.poll({ maxWaitMs: 0 }))).toEqual(['b2']);
    expect(values(await pollN(c, 1))).toEqual(['b3']);
  });
});
