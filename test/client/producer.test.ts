/**
 * @module
 * Producer against a real broker process: batching (few requests for many sends), order per partition
 * under retries, key partitioning identical to murmur2 and to the broker's own partitioner, retries of
 * 503/429 honouring Retry-After, the back-pressure bound, acks=0, auto-creation, and errors with codes;
 * range answers (`?answer=range`) and per-record ones, and pipelining: the next batch waits sealed behind
 * the one in flight and leaves as soon as that one is answered, one request per partition at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack, unpack } from '../../src/client/codec.ts';
import { Admin, Consumer, type ConsumerRecord, FreshetError, Producer } from '../../src/client/index.ts';
import { partitionForKey } from '../../src/records/murmur2.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import { faultyFetch, gatedFetch, recordingFetch, text, uniqueTopic, waitFor } from './helpers.ts';

let broker: BrokerHandle;
let admin: Admin;

beforeAll(async () => {
  broker = await startBroker({ workers: 2 });
  admin = new Admin({ url: broker.url });
});
afterAll(async () => {
  await broker?.stop();
});

const encoder = new TextEncoder();

/** Every record of the topic, read from the start to the current high watermarks. */
async function readAll(topic: string): Promise<ConsumerRecord[]> {
  const description = await admin.describeTopic(topic);
  const total = description.partitions.reduce((n, p) => n + p.highWatermark - p.logStartOffset, 0);
  const consumer = new Consumer({ url: broker.url, fetchMaxWaitMs: 100 });
  consumer.assign(
    description.partitions.map((p) => ({ topic, partition: p.partition, offset: 'earliest' as const })),
  );
  const records: ConsumerRecord[] = [];
  const deadline = Date.now() + 10_000;
  while (records.length < total && Date.now() < deadline)
    records.push(...(await consumer.poll({ maxWaitMs: 200 })));
  await consumer.close();
  return records;
}

function produceRequests(requests: Array<{ method: string; url: string }>): number {
  return requests.filter((r) => r.method === 'POST' && r.url.includes('/records')).length;
}

describe('Producer', () => {
  it('batches many sends into few requests, one RecordBatch per partition', async () => {
    const topic = uniqueTopic('batching');
    await admin.createTopic(topic, { partitions: 2 });
    const recorder = recordingFetch();
    const producer = new Producer({ url: broker.url, fetch: recorder.fetch, lingerMs: 20 });
    const sends = Array.from({ length: 1000 }, (_, i) =>
      producer.send(topic, { key: `key-${i % 10}`, value: `v${i}` }),
    );
    const results = await Promise.all(sends);
    await producer.close();
    expect(results).toHaveLength(1000);
    const produces = produceRequests(recorder.requests);
    expect(produces).toBeGreaterThanOrEqual(1);
    expect(produces).toBeLessThanOrEqual(4);
    const raw = recorder.requests.filter((r) => r.url.includes('/records'));
    expect(
      raw.every((r) => r.contentType === 'application/vnd.kafka.recordbatch' && /partition=\d/.test(r.url)),
    ).toBe(true);
    // Offsets are dense per partition.
    for (const partition of [0, 1]) {
      const offsets = results.filter((r) => r.partition === partition).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    expect(await readAll(topic)).toHaveLength(1000);
  });

  it('cuts batches at batchBytes', async () => {
    const topic = uniqueTopic('batch-bytes');
    await admin.createTopic(topic, { partitions: 1 });
    const recorder = recordingFetch();
    const producer = new Producer({ url: broker.url, fetch: recorder.fetch, batchBytes: 4096, lingerMs: 50 });
    const value = new Uint8Array(1000);
    await producer.send(
      topic,
      Array.from({ length: 20 }, () => ({ value })),
    );
    await producer.close();
    // ~1 KiB records in 4 KiB batches: at least 5 requests for 20 records.
    expect(produceRequests(recorder.requests)).toBeGreaterThanOrEqual(5);
  });

  it('partitions keys exactly as murmur2 and the broker do, and keeps order per partition', async () => {
    const topic = uniqueTopic('keys');
    await admin.createTopic(topic, { partitions: 4 });
    const producer = new Producer({ url: broker.url, lingerMs: 2, batchBytes: 2048 });
    const keys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
    const sends: Array<Promise<{ partition: number }>> = [];
    for (let round = 0; round < 25; round++) {
      for (const key of keys) sends.push(producer.send(topic, { key, value: `${key}:${round}` }));
    }
    const results = await Promise.all(sends);
    await producer.close();
    results.forEach((result, i) => {
      expect(result.partition).toBe(partitionForKey(encoder.encode(keys[i % keys.length]!), 4));
    });

    // The broker's own partitioner ({records} produce) puts each key on the same partition.
    const response = await fetch(`${broker.url}/v1/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
      body: pack({ records: keys.map((key) => ({ key, value: 'check' })) }) as BodyInit,
    });
    const answer = unpack(new Uint8Array(await response.arrayBuffer())) as {
      results: Array<{ partition: number }>;
    };
    answer.results.forEach((result, i) => {
      expect(result.partition).toBe(results[i]!.partition);
    });

    const records = (await readAll(topic)).filter((r) => text(r.value) !== 'check');
    for (const key of keys) {
      const rounds = records
        .filter((r) => text(r.key) === key)
        .map((r) => Number(text(r.value)!.split(':')[1]));
      expect(rounds).toEqual(Array.from({ length: 25 }, (_, i) => i));
    }
  });

  it('sticks keyless records to one partition per batch', async () => {
    const topic = uniqueTopic('sticky');
    await admin.createTopic(topic, { partitions: 3 });
    const producer = new Producer({ url: broker.url, lingerMs: 50 });
    const results = await producer.send(
      topic,
      Array.from({ length: 100 }, (_, i) => ({ value: `v${i}` })),
    );
    await producer.close();
    expect(new Set(results.map((r) => r.partition)).size).toBe(1);
  });

  it('sends to an explicit partition and refuses one the topic does not have', async () => {
    const topic = uniqueTopic('explicit');
    await admin.createTopic(topic, { partitions: 2 });
    const producer = new Producer({ url: broker.url });
    expect(await producer.send(topic, { value: 'x', partition: 1, key: 'any' })).toMatchObject({
      partition: 1,
      offset: 0,
    });
    const err = await producer.send(topic, { value: 'x', partition: 5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FreshetError);
    expect(err).toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' });
    // A partition added since the count was cached is found by looking again.
    await admin.createPartitions(topic, 6);
    expect(await producer.send(topic, { value: 'y', partition: 5 })).toMatchObject({
      partition: 5,
      offset: 0,
    });
    await producer.close();
  });

  it('retries 503 answers, honouring Retry-After, and keeps order', async () => {
    const topic = uniqueTopic('retry');
    await admin.createTopic(topic, { partitions: 1 });
    const faulty = faultyFetch({
      failures: 2,
      retryAfter: '1',
      match: (method, url) => method === 'POST' && url.includes('/records'),
    });
    const producer = new Producer({ url: broker.url, fetch: faulty.fetch, retryBackoffMs: 10 });
    const started = Date.now();
    const results = await producer.send(
      topic,
      Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })),
    );
    await producer.close();
    expect(faulty.state.failed).toBe(2);
    // Two Retry-After: 1 waits.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(results.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect((await readAll(topic)).map((r) => text(r.value))).toEqual(results.map((_, i) => `v${i}`));
  });

  it('keeps order per partition when batches in the middle fail and are retried', async () => {
    const topic = uniqueTopic('retry-order');
    await admin.createTopic(topic, { partitions: 2 });
    const faulty = faultyFetch({
      after: 2,
      failures: 3,
      match: (method, url) => method === 'POST' && url.includes('/records'),
    });
    const producer = new Producer({
      url: broker.url,
      fetch: faulty.fetch,
      retryBackoffMs: 5,
      batchBytes: 200,
      lingerMs: 1,
    });
    const sends = Array.from({ length: 60 }, (_, i) =>
      producer.send(topic, { key: i % 2 === 0 ? 'even' : 'odd', value: String(i) }),
    );
    await Promise.all(sends);
    await producer.close();
    expect(faulty.state.failed).toBe(3);
    const records = await readAll(topic);
    expect(records).toHaveLength(60);
    for (const key of ['even', 'odd']) {
      const values = records.filter((r) => text(r.key) === key).map((r) => Number(text(r.value)));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(values).toHaveLength(30);
    }
  });

  it('retries 429 and gives up after `retries` with the error and its code', async () => {
    const topic = uniqueTopic('give-up');
    await admin.createTopic(topic, { partitions: 1 });
    const faulty = faultyFetch({
      failures: 100,
      status: 429,
      code: 'THROTTLING_QUOTA_EXCEEDED',
      match: (method, url) => method === 'POST' && url.includes('/records'),
    });
    const producer = new Producer({ url: broker.url, fetch: faulty.fetch, retries: 3, retryBackoffMs: 5 });
    const err = await producer.send(topic, { value: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'THROTTLING_QUOTA_EXCEEDED', status: 429, retriable: true });
    expect(faulty.state.failed).toBe(4);
    expect(producer.bufferedBytes).toBe(0);
    await producer.close();
  });

  it('does not retry errors that are not retriable', async () => {
    const topic = uniqueTopic('no-retry');
    await admin.createTopic(topic, { partitions: 1, config: { 'max.message.bytes': 2048 } });
    const recorder = recordingFetch();
    const producer = new Producer({ url: broker.url, fetch: recorder.fetch });
    const err = await producer.send(topic, { value: new Uint8Array(10_000) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FreshetError);
    expect((err as FreshetError).retriable).toBe(false);
    expect(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']).toContain((err as FreshetError).code);
    expect(produceRequests(recorder.requests)).toBe(1);
    await producer.close();
  });

  it('bounds unacknowledged bytes: send() waits for buffer space', async () => {
    const topic = uniqueTopic('backpressure');
    await admin.createTopic(topic, { partitions: 1 });
    const gate = gatedFetch();
    const maxBufferedBytes = 8 * 1024;
    const producer = new Producer({
      url: broker.url,
      fetch: gate.fetch,
      maxBufferedBytes,
      batchBytes: 2048,
      lingerMs: 1,
    });
    const value = new Uint8Array(1000);
    let settled = 0;
    const sends = Array.from({ length: 40 }, (_, i) =>
      producer.send(topic, { value, key: String(i) }).then((meta) => {
        settled++;
        return meta;
      }),
    );
    await waitFor(() => gate.state.held > 0, 5_000, 'a held answer');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(producer.full).toBe(true);
    expect(producer.bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes);
    expect(settled).toBe(0);
    let ready = false;
    const readyPromise = producer.ready().then(() => {
      ready = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ready).toBe(false);
    gate.release();
    const results = await Promise.all(sends);
    await readyPromise;
    expect(results.map((r) => r.offset)).toEqual(results.map((_, i) => i));
    expect(producer.bufferedBytes).toBe(0);
    expect(producer.full).toBe(false);
    await producer.close();
  });

  it('acks=0 answers without offsets', async () => {
    const topic = uniqueTopic('acks0');
    await admin.createTopic(topic, { partitions: 1 });
    const producer = new Producer({ url: broker.url, acks: 0 });
    const results = await producer.send(topic, [{ value: 'a' }, { value: 'b' }]);
    await producer.close();
    expect(results.map((r) => r.offset)).toEqual([-1, -1]);
    const deadline = Date.now() + 5_000;
    let records: ConsumerRecord[] = [];
    while (records.length < 2 && Date.now() < deadline) records = await readAll(topic);
    expect(records.map((r) => text(r.value))).toEqual(['a', 'b']);
  });

  it('auto-creates a topic on first send through the {records} endpoint, then batches', async () => {
    const topic = uniqueTopic('auto');
    const recorder = recordingFetch();
    const producer = new Producer({ url: broker.url, fetch: recorder.fetch });
    const first = await producer.send(topic, [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    expect(first.every((r) => r.offset >= 0)).toBe(true);
    const json = recorder.requests.filter(
      (r) => r.url.includes('/records') && r.contentType === 'application/msgpack',
    );
    expect(json).toHaveLength(1);
    await producer.send(topic, { key: 'a', value: '3' });
    const raw = recorder.requests.filter((r) => r.contentType === 'application/vnd.kafka.recordbatch');
    expect(raw).toHaveLength(1);
    await producer.close();
    expect((await readAll(topic)).map((r) => text(r.value)).sort()).toEqual(['1', '2', '3']);
  });

  it('accepts strings and bytes, headers as a list or object, and timestamps', async () => {
    const topic = uniqueTopic('shapes');
    await admin.createTopic(topic, { partitions: 1 });
    const producer = new Producer({ url: broker.url });
    await producer.send(topic, [
      {
        key: new Uint8Array([0, 255]),
        value: 'text',
        headers: [
          { key: 'h', value: 'x' },
          { key: 'h', value: null },
        ],
      },
      {
        key: null,
        value: null,
        headers: { trace: new Uint8Array([1, 2]) },
        timestamp: new Date(1_700_000_000_000),
      },
    ]);
    await producer.close();
    const [a, b] = await readAll(topic);
    expect(a!.key).toEqual(new Uint8Array([0, 255]));
    expect(text(a!.value)).toBe('text');
    expect(a!.headers).toEqual([
      { key: 'h', value: encoder.encode('x') },
      { key: 'h', value: null },
    ]);
    expect(b!.key).toBeNull();
    expect(b!.value).toBeNull();
    expect(b!.timestamp).toBe(1_700_000_000_000);
    expect(b!.headers).toEqual([{ key: 'trace', value: new Uint8Array([1, 2]) }]);
  });

  it('rejects bad records at send() and refuses sends after close()', async () => {
    const producer = new Producer({ url: broker.url });
    await expect(producer.send(uniqueTopic('bad'), { value: 'x', partition: -1 })).rejects.toMatchObject({
      code: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
    await expect(
      producer.send(uniqueTopic('bad'), { value: 'x', timestamp: Number.NaN }),
    ).rejects.toMatchObject({
      code: 'INVALID_TIMESTAMP',
    });
    await expect(producer.send(uniqueTopic('bad'), { value: 42 as unknown as string })).rejects.toMatchObject(
      {
        code: 'INVALID_RECORD',
      },
    );
    await expect(producer.send('bad topic!', { value: 'x' })).rejects.toMatchObject({
      code: 'INVALID_TOPIC_EXCEPTION',
    });
    await producer.close();
    await expect(producer.send(uniqueTopic('closed'), { value: 'x' })).rejects.toMatchObject({
      code: 'CLIENT_CLOSED',
    });
  });

  it('flush() sends at once, without waiting for lingerMs', async () => {
    const topic = uniqueTopic('flush');
    await admin.createTopic(topic, { partitions: 1 });
    const producer = new Producer({ url: broker.url, lingerMs: 60_000 });
    let done = false;
    const sent = producer.send(topic, { value: 'x' }).then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(done).toBe(false);
    await producer.flush();
    expect(done).toBe(true);
    await sent;
    await producer.close();
  });
});

describe('Producer answers and pipelining', () => {
  it('asks for the offset range of each batch and counts the offsets from its base', async () => {
    const topic = uniqueTopic('range');
    await admin.createTopic(topic, { partitions: 1 });
    const recorder = recordingFetch();
    const producer = new Producer({ url: broker.url, fetch: recorder.fetch, batchBytes: 1024, lingerMs: 1 });
    const results = await producer.send(
      topic,
      Array.from({ length: 50 }, (_, i) => ({ value: `value-${i}` })),
    );
    await producer.close();
    const produces = recorder.requests.filter((r) => r.method === 'POST' && r.url.includes('/records'));
    expect(produces.length).toBeGreaterThan(1);
    expect(produces.every((r) => new URL(r.url).searchParams.get('answer') === 'range')).toBe(true);
    expect(results).toEqual(results.map((_, offset) => ({ topic, partition: 0, offset })));
  });

  it('reads per-record answers too (a broker that ignores answer=range)', async () => {
    const topic = uniqueTopic('per-record');
    await admin.createTopic(topic, { partitions: 2 });
    const stripping = (async (input: RequestInfo | URL, init?: RequestInit) =>
      fetch(String(input).replace('&answer=range', ''), init)) as typeof fetch;
    const producer = new Producer({ url: broker.url, fetch: stripping, batchBytes: 512, lingerMs: 1 });
    const results = await producer.send(
      topic,
      Array.from({ length: 30 }, (_, i) => ({ value: `v${i}`, partition: 1 })),
    );
    await producer.close();
    expect(results).toEqual(results.map((_, offset) => ({ topic, partition: 1, offset })));
  });

  it('seals the next batch behind the one in flight and sends it before settling the first', async () => {
    const topic = uniqueTopic('pipeline');
    await admin.createTopic(topic, { partitions: 1 });
    let releaseFirst = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let produces = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const holding = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const produce = init?.method === 'POST' && String(input).includes('/records');
      if (!produce) return fetch(input, init);
      const index = ++produces;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const response = await fetch(input, init);
        if (index === 1) await firstHeld;
        return response;
      } finally {
        inFlight--;
      }
    }) as typeof fetch;
    const producer = new Producer({ url: broker.url, fetch: holding, batchBytes: 2048, lingerMs: 1 });
    const value = new Uint8Array(500);
    const sends = Array.from({ length: 40 }, (_, i) =>
      producer.send(topic, { value, headers: [{ key: 'i', value: String(i) }] }),
    );
    let requestsWhenFirstSettled = -1;
    void sends[0]!.then(() => {
      requestsWhenFirstSettled = produces;
    });
    await waitFor(() => produces === 1, 5_000, 'the first request');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Still one request in flight for the partition, however many batches are due.
    expect(produces).toBe(1);
    releaseFirst();
    const results = await Promise.all(sends);
    await producer.close();
    expect(requestsWhenFirstSettled).toBeGreaterThanOrEqual(2);
    expect(maxInFlight).toBe(1);
    expect(produces).toBeGreaterThanOrEqual(10);
    expect(results.map((r) => r.offset)).toEqual(results.map((_, i) => i));
    const records = await readAll(topic);
    expect(records.map((r) => text(r.headers[0]!.value))).toEqual(results.map((_, i) => String(i)));
  });

  it('send() of several records rejects for a bad one and still sends the others', async () => {
    const topic = uniqueTopic('group');
    await admin.createTopic(topic, { partitions: 1 });
    const producer = new Producer({ url: broker.url, lingerMs: 1 });
    const err = await producer
      .send(topic, [{ value: 'a' }, { value: 42 as unknown as string }, { value: 'c' }])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_RECORD' });
    await producer.flush();
    expect(await producer.send(topic, [])).toEqual([]);
    await producer.close();
    expect((await readAll(topic)).map((r) => text(r.value))).toEqual(['a', 'c']);
    expect(producer.bufferedBytes).toBe(0);
  });
});
