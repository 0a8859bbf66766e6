/** @module The HTTP API of a real broker process: formats, raw batches, codecs, long-poll, back-pressure, workers. */
import { unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionType, compressionOf } from '../../src/records/batch-header.ts';
import '../../src/records/compression.ts';
import { workerFor } from '../../src/ipc/placement.ts';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/records/record-batch.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import {
  createTopic,
  describeTopic,
  type FetchAnswer,
  produceJson,
  readPartition,
  requestJson,
  uniqueTopic,
} from './support.ts';

const RECORD_BATCH = 'application/vnd.kafka.recordbatch';
const utf8 = new TextDecoder();

type Bytes = string | null | { base64: string };

/** A JSON key/value as bytes: strings are UTF-8, `{base64}` is binary. */
function bytesOfJson(value: Bytes): Buffer | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.base64, 'base64');
}

function bytesOfMsgpack(value: Uint8Array | string | null): Buffer | null {
  if (value === null) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
}

async function produceRaw(url: string, topic: string, partition: number, batch: Uint8Array) {
  const response = await fetch(`${url}/v1/topics/${topic}/records?partition=${partition}&acks=all`, {
    method: 'POST',
    headers: { 'content-type': RECORD_BATCH },
    body: batch as BodyInit,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function fetchRaw(url: string, topic: string, partition: number, offset = 0) {
  const response = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}`, {
    headers: { accept: RECORD_BATCH },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(RECORD_BATCH);
  return { headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
}

describe('HTTP API of a running broker', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({ workers: 2 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('produces and consumes curl-style JSON', async () => {
    const topic = uniqueTopic('curl');
    // As `curl -d '{...}'` sends it: form-encoded content type, a body starting with `{`.
    const produced = await fetch(`${broker.url}/v1/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: JSON.stringify({
        records: [
          { key: 'user-1', value: 'hello', headers: [{ key: 'h', value: 'v' }] },
          { value: { base64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') } },
          { key: 'tomb', value: null, timestamp: 1_700_000_000_123 },
        ],
      }),
    });
    expect(produced.status).toBe(200);
    expect(produced.headers.get('content-type')).toContain('application/json');
    expect(await produced.json()).toEqual({
      results: [
        { partition: 0, offset: 0 },
        { partition: 0, offset: 1 },
        { partition: 0, offset: 2 },
      ],
    });

    const fetched = await requestJson<FetchAnswer>(`${broker.url}/v1/topics/${topic}/partitions/0/records`);
    expect(fetched.status).toBe(200);
    expect(fetched.body).toMatchObject({ nextOffset: 3, highWatermark: 3, logStartOffset: 0 });
    expect(fetched.body.records).toMatchObject([
      { offset: 0, key: 'user-1', value: 'hello', headers: [{ key: 'h', value: 'v' }] },
      {
        offset: 1,
        key: null,
        value: { base64: Buffer.from([0xff, 0x00, 0xfe]).toString('base64') },
        headers: [],
      },
      { offset: 2, key: 'tomb', value: null, timestamp: 1_700_000_000_123 },
    ]);

    const latest = await requestJson(`${broker.url}/v1/topics/${topic}/partitions/0/offsets?at=latest`);
    expect(latest.body).toEqual({ offset: 3 });
    const missing = await requestJson<{ error: { code: string } }>(
      `${broker.url}/v1/topics/${topic}/partitions/7/records`,
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('reads the same records in JSON and in msgpack', async () => {
    const topic = uniqueTopic('formats');
    const binary = Buffer.from([0, 1, 2, 0xc0, 0xff]);
    await produceJson(broker.url, topic, [
      {
        key: 'a',
        value: 'plain text',
        headers: [
          { key: 'x', value: 'y' },
          { key: 'x', value: null },
        ],
      },
      { key: { base64: binary.toString('base64') }, value: { base64: binary.toString('base64') } },
      { value: null },
      { value: 'ünïcødé ✓' },
    ]);
    const path = `${broker.url}/v1/topics/${topic}/partitions/0/records?offset=0`;
    const json = (await requestJson<FetchAnswer>(path)).body;
    const response = await fetch(path, { headers: { accept: 'application/msgpack' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('msgpack');
    const msgpack = unpack(new Uint8Array(await response.arrayBuffer())) as {
      records: Array<{
        offset: number;
        timestamp: number;
        key: Uint8Array | null;
        value: Uint8Array | null;
        headers: Array<{ key: string; value: Uint8Array | null }>;
      }>;
      nextOffset: number;
      highWatermark: number;
      logStartOffset: number;
    };
    expect(json.records).toHaveLength(4);
    expect({
      nextOffset: msgpack.nextOffset,
      highWatermark: msgpack.highWatermark,
      logStartOffset: msgpack.logStartOffset,
    }).toEqual({
      nextOffset: json.nextOffset,
      highWatermark: json.highWatermark,
      logStartOffset: json.logStartOffset,
    });
    const normalisedJson = json.records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: bytesOfJson(r.key),
      value: bytesOfJson(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: bytesOfJson(h.value) })),
    }));
    const normalisedMsgpack = msgpack.records.map((r) => ({
      offset: r.offset,
      timestamp: r.timestamp,
      key: bytesOfMsgpack(r.key),
      value: bytesOfMsgpack(r.value),
      headers: r.headers.map((h) => ({ key: h.key, value: bytesOfMsgpack(h.value) })),
    }));
    expect(normalisedMsgpack).toEqual(normalisedJson);
    expect(normalisedJson[1]!.value).toEqual(binary);
    expect(normalisedJson[0]!.headers).toEqual([
      { key: 'x', value: Buffer.from('y') },
      { key: 'x', value: null },
    ]);
  });

  it('serves raw RecordBatch bytes that decode to the produced records', async () => {
    const topic = uniqueTopic('raw');
    const first = await produceJson(broker.url, topic, [
      { key: 'k1', value: 'v1', headers: [{ key: 'h', value: 'hv' }] },
      { key: 'k2', value: 'v2' },
    ]);
    const second = await produceJson(broker.url, topic, [{ value: 'v3', timestamp: 1_600_000_000_000 }]);
    expect([...first, ...second].map((r) => r.offset)).toEqual([0, 1, 2]);

    const { headers, bytes } = await fetchRaw(broker.url, topic, 0);
    expect(headers.get('freshet-high-watermark')).toBe('3');
    expect(headers.get('freshet-next-offset')).toBe('3');
    expect(headers.get('freshet-log-start-offset')).toBe('0');
    const batches = decodeRecordBatches(bytes);
    expect(batches.map((b) => b.header.baseOffset)).toEqual([0, 2]);
    const records = batches.flatMap((b) => b.records);
    expect(
      records.map((r) => ({
        offset: r.offset,
        key: r.key && utf8.decode(r.key),
        value: r.value && utf8.decode(r.value),
        headers: r.headers.map((h) => [h.key, h.value && utf8.decode(h.value)]),
      })),
    ).toEqual([
      { offset: 0, key: 'k1', value: 'v1', headers: [['h', 'hv']] },
      { offset: 1, key: 'k2', value: 'v2', headers: [] },
      { offset: 2, key: null, value: 'v3', headers: [] },
    ]);
    expect(records[2]!.timestamp).toBe(1_600_000_000_000);

    // From the middle: whole batches starting with the one holding the offset.
    const fromTwo = decodeRecordBatches((await fetchRaw(broker.url, topic, 0, 2)).bytes);
    expect(fromTwo.flatMap((b) => b.records).map((r) => r.offset)).toEqual([2]);
  });

  it('serves raw batches across several segments, each response whole batches that decode in order', async () => {
    const topic = uniqueTopic('segments');
    await createTopic(broker.url, topic, 1, { 'segment.bytes': 1024 });
    const values: string[] = [];
    for (let i = 0; i < 30; i++) {
      const batch = [0, 1].map((j) => `batch ${i} record ${j} ${'s'.repeat(100)}`);
      values.push(...batch);
      await produceJson(
        broker.url,
        topic,
        batch.map((value) => ({ value, partition: 0 })),
      );
    }
    const decoded: Array<{ offset: number; value: string }> = [];
    let offset = 0;
    for (let round = 0; round < 100 && offset < values.length; round++) {
      const { headers, bytes } = await fetchRaw(broker.url, topic, 0, offset);
      const records = decodeRecordBatches(bytes).flatMap((b) => b.records);
      expect(records.length).toBeGreaterThan(0);
      decoded.push(
        ...records
          .filter((r) => r.offset >= offset)
          .map((r) => ({ offset: r.offset, value: utf8.decode(r.value!) })),
      );
      offset = Number(headers.get('freshet-next-offset'));
      expect(offset).toBe(records.at(-1)!.offset + 1);
    }
    expect(decoded).toEqual(values.map((value, offset) => ({ offset, value })));
  });

  it.each([
    ['gzip', CompressionType.Gzip],
    ['snappy', CompressionType.Snappy],
    ['lz4', CompressionType.Lz4],
    ['zstd', CompressionType.Zstd],
  ] as const)('accepts a %s-compressed raw batch and reads it back decoded', async (_name, compression) => {
    const topic = uniqueTopic('codec');
    // Repetitive values, so the codec really shrinks them.
    const values = Array.from({ length: 50 }, (_, i) => `record ${i} ${'abcdefgh'.repeat(20)}`);
    const batch = encodeRecordBatch(
      values.map((value, i) => ({
        key: Buffer.from(`key-${i}`),
        value: Buffer.from(value),
        headers: [{ key: 'i', value: Buffer.from(String(i)) }],
      })),
      { compression },
    );
    expect(batch.byteLength).toBeLessThan(values.join('').length / 2);
    const produced = await produceRaw(broker.url, topic, 0, batch);
    expect(produced.status, JSON.stringify(produced.body)).toBe(200);
    expect((produced.body as { results: unknown[] }).results).toEqual(
      values.map((_, offset) => ({ partition: 0, offset })),
    );

    const json = await readPartition(broker.url, topic, 0);
    expect(json.map((r) => r.value)).toEqual(values);
    expect(json.map((r) => r.key)).toEqual(values.map((_, i) => `key-${i}`));
    expect(json.map((r) => r.headers)).toEqual(values.map((_, i) => [{ key: 'i', value: String(i) }]));

    // Stored as sent: the raw fetch returns the compressed batch, which decodes to the same records.
    const [stored, ...rest] = decodeRecordBatches((await fetchRaw(broker.url, topic, 0)).bytes);
    expect(rest).toEqual([]);
    expect(compressionOf(stored!.header.attributes)).toBe(compression);
    expect(stored!.records.map((r) => utf8.decode(r.value!))).toEqual(values);
  });

  it('wakes a long-polled fetch on append, well before maxWaitMs', async () => {
    const topic = uniqueTopic('longpoll');
    await createTopic(broker.url, topic, 1);
    await produceJson(broker.url, topic, [{ value: 'old' }]);

    // Nothing arrives: the fetch waits about maxWaitMs and answers empty.
    let started = Date.now();
    const idle = await requestJson<FetchAnswer>(
      `${broker.url}/v1/topics/${topic}/partitions/0/records?offset=1&maxWaitMs=400`,
    );
    const idleMs = Date.now() - started;
    expect(idle.body.records).toEqual([]);
    expect(idleMs).toBeGreaterThanOrEqual(350);
    expect(idleMs).toBeLessThan(5_000);

    started = Date.now();
    const polling = requestJson<FetchAnswer>(
      `${broker.url}/v1/topics/${topic}/partitions/0/records?offset=1&maxWaitMs=20000`,
    ).then((answer) => ({ answer, ms: Date.now() - started }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await produceJson(broker.url, topic, [{ value: 'new' }]);
    const { answer, ms } = await polling;
    expect(answer.status).toBe(200);
    expect(answer.body.records.map((r) => [r.offset, r.value])).toEqual([[1, 'new']]);
    expect(ms).toBeGreaterThanOrEqual(250);
    expect(ms).toBeLessThan(5_000);

    // The same for a raw fetch.
    started = Date.now();
    const rawPolling = fetch(
      `${broker.url}/v1/topics/${topic}/partitions/0/records?offset=2&maxWaitMs=20000`,
      {
        headers: { accept: RECORD_BATCH },
      },
    ).then(async (response) => ({
      status: response.status,
      bytes: new Uint8Array(await response.arrayBuffer()),
      ms: Date.now() - started,
    }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await produceJson(broker.url, topic, [{ value: 'newer' }]);
    const raw = await rawPolling;
    expect(raw.status).toBe(200);
    const rawRecords = decodeRecordBatches(raw.bytes).flatMap((b) => b.records);
    expect(rawRecords.map((r) => [r.offset, utf8.decode(r.value!)])).toEqual([[2, 'newer']]);
    expect(raw.ms).toBeGreaterThanOrEqual(250);
    expect(raw.ms).toBeLessThan(5_000);
  });
});

describe('back-pressure of a broker with a tiny in-flight limit', () => {
  let broker: BrokerHandle;
  const limit = 64 * 1024;

  beforeAll(async () => {
    broker = await startBroker({
      workers: 1,
      args: [
        '--max-in-flight-bytes',
        String(limit),
        '--max-request-bytes',
        String(limit),
        '--flush-policy',
        'always',
      ],
    });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('answers 429/503 with Retry-After (never 500), stays up, and loses nothing it acknowledged', async () => {
    const topic = uniqueTopic('pressure');
    await createTopic(broker.url, topic, 2);
    const acknowledged = new Map<string, string>();
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    const concurrency = 24;
    const deadline = Date.now() + 10_000;
    let overloaded = 0;

    async function hammer(round: number, id: number): Promise<void> {
      const tag = `r${round}-c${id}-`;
      const value = tag + 'x'.repeat(40 * 1024 - tag.length);
      const partition = id % 2;
      const answer = await requestJson<{
        results?: Array<{ partition: number; offset: number }>;
        error?: unknown;
      }>(`${broker.url}/v1/topics/${topic}/records?acks=all`, { body: { records: [{ value, partition }] } });
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 200) {
        const [result] = answer.body.results!;
        acknowledged.set(`${result!.partition}:${result!.offset}`, tag);
      } else if (answer.status === 429 || answer.status === 503) {
        overloaded++;
        const retryAfter = answer.headers.get('retry-after');
        if (retryAfter === null || !/^\d+$/.test(retryAfter)) {
          problems.push(`${answer.status} without a Retry-After in seconds: ${retryAfter}`);
        }
      } else {
        problems.push(`unexpected ${answer.status}: ${JSON.stringify(answer.body)}`);
      }
    }

    for (let round = 0; round < 8 && Date.now() < deadline && (round < 2 || overloaded === 0); round++) {
      await Promise.all(Array.from({ length: concurrency }, (_, id) => hammer(round, id)));
    }
    expect(problems).toEqual([]);
    expect(overloaded, `statuses: ${JSON.stringify([...statuses])}`).toBeGreaterThan(0);
    expect(statuses.get(500)).toBeUndefined();
    expect(acknowledged.size).toBeGreaterThan(0);

    expect(broker.process.exitCode).toBeNull();
    expect((await requestJson(`${broker.url}/healthz`)).status).toBe(200);
    for (const partition of [0, 1]) {
      const records = await readPartition(broker.url, topic, partition);
      for (const [where, tag] of acknowledged) {
        const [p, offset] = where.split(':').map(Number) as [number, number];
        if (p !== partition) continue;
        const value = records[offset]?.value;
        expect(typeof value === 'string' && value.startsWith(tag), `${where} should hold ${tag}`).toBe(true);
      }
      // Every stored record was acknowledged (acks=all, and refused produces append nothing).
      expect(records.length).toBe(
        [...acknowledged.keys()].filter((k) => k.startsWith(`${partition}:`)).length,
      );
    }
  });
});

describe('a broker with three partition workers', () => {
  let broker: BrokerHandle;

  beforeAll(async () => {
    broker = await startBroker({ workers: 3 });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('spreads partitions over the workers and serves every partition', async () => {
    const topics = [uniqueTopic('spread'), uniqueTopic('spread'), uniqueTopic('spread')];
    const used = new Set<number>();
    for (const topic of topics) {
      await createTopic(broker.url, topic, 4);
      const description = await describeTopic(broker.url, topic);
      expect(description.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3]);
      for (const { partition, worker } of description.partitions) {
        expect(worker).toBe(workerFor(topic, partition, 3));
        used.add(worker);
      }
    }
    expect([...used].sort()).toEqual([0, 1, 2]);

    await Promise.all(
      topics.flatMap((topic) =>
        [0, 1, 2, 3].map((partition) =>
          produceJson(
            broker.url,
            topic,
            Array.from({ length: 5 }, (_, i) => ({ value: `${topic}/${partition}/${i}`, partition })),
          ),
        ),
      ),
    );
    for (const topic of topics) {
      const description = await describeTopic(broker.url, topic);
      expect(description.partitions.map((p) => p.highWatermark)).toEqual([5, 5, 5, 5]);
      for (const partition of [0, 1, 2, 3]) {
        const records = await readPartition(broker.url, topic, partition);
        expect(records.map((r) => r.value)).toEqual(
          Array.from({ length: 5 }, (_, i) => `${topic}/${partition}/${i}`),
        );
      }
    }
  });
});
