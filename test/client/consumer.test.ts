/**
 * @module
 * Consumer against a real broker process: assign and start offsets, seek, long-poll wake-up, pause/resume,
 * the async iterator and close(), autoOffsetReset on OFFSET_OUT_OF_RANGE, and errors surfaced by poll().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, type ConsumerRecord, FreshetError, Producer } from '../../src/client/index.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import { text, uniqueTopic } from './helpers.ts';

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
