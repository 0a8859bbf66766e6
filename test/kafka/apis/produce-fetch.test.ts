/**
 * Produce and Fetch over an in-process engine, through the codec at the versions clients use: batches
 * come back byte for byte, long-poll wakes on produce and never outlasts maxWaitMs, and every refusal is
 * the Kafka error a client expects.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchApi } from '../../../src/kafka/apis/fetch.ts';
import { produceApi } from '../../../src/kafka/apis/produce.ts';
import type { FetchRequest, ProduceRequest } from '../../../src/kafka/generated/messages.ts';
import { CompressionType } from '../../../src/records/batch-header.ts';
import { encodeRecordBatch } from '../../../src/records/record-batch.ts';
import { BrokerError, ERRORS } from '../../../src/shared/errors.ts';
import { batchOf, call, concat, createHarness, type Harness, stored } from './support.ts';

const code = ERRORS;

function produceRequest(
  topic: string,
  partitions: Array<[number, Uint8Array | null]>,
  options: { acks?: number; transactionalId?: string | null } = {},
): ProduceRequest {
  return {
    transactionalId: options.transactionalId ?? null,
    acks: options.acks ?? -1,
    timeoutMs: 5_000,
    topicData: [{ name: topic, partitionData: partitions.map(([index, records]) => ({ index, records })) }],
  };
}

function fetchRequest(
  partitions: Array<{ topic: string; partition: number; offset: number; maxBytes?: number }>,
  options: { maxWaitMs?: number; minBytes?: number; maxBytes?: number; sessionEpoch?: number } = {},
): FetchRequest {
  const topics = new Map<string, FetchRequest.FetchTopic>();
  for (const p of partitions) {
    let t = topics.get(p.topic);
    if (!t) {
      t = { topic: p.topic, partitions: [] };
      topics.set(p.topic, t);
    }
    t.partitions.push({
      partition: p.partition,
      fetchOffset: p.offset,
      partitionMaxBytes: p.maxBytes ?? 1 << 20,
    });
  }
  return {
    replicaId: -1,
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: options.maxBytes ?? 50 << 20,
    isolationLevel: 1,
    sessionId: 0,
    sessionEpoch: options.sessionEpoch ?? -1,
    topics: [...topics.values()],
    forgottenTopicsData: [],
    rackId: '',
  };
}

function onlyPartition<T extends { partitionResponses?: unknown; partitions?: unknown }>(topics: T[]) {
  const first = topics[0] as unknown as { partitionResponses?: unknown[]; partitions?: unknown[] };
  return (first.partitionResponses ?? first.partitions)![0] as Record<string, unknown>;
}

let h: Harness;

describe.each([
  ['memory', false],
  ['disk', true],
])('Produce and Fetch (%s log)', (_name, onDisk) => {
  beforeEach(async () => {
    h = await createHarness({ onDisk });
    await h.engine.createTopic('t', 2);
  });
  afterEach(async () => {
    await h.close();
  });

  it.each([3, 7, 8, 9, 10])(
    'produce v%i then fetch returns the stored batches byte for byte',
    async (version) => {
      const first = batchOf(3);
      const second = batchOf(2, { from: 3 });
      const a = await call(produceApi, version, produceRequest('t', [[0, first]]), h.ctx);
      const b = await call(produceApi, version, produceRequest('t', [[0, second]]), h.ctx);
      expect(onlyPartition(a!.responses)).toMatchObject({
        index: 0,
        errorCode: 0,
        baseOffset: 0,
        logAppendTimeMs: -1,
      });
      expect(onlyPartition(b!.responses)).toMatchObject({ errorCode: 0, baseOffset: 3 });
      if (version >= 5) expect(onlyPartition(b!.responses).logStartOffset).toBe(0);

      for (const fetchVersion of [4, 11, 12]) {
        const answer = await call(
          fetchApi,
          fetchVersion,
          fetchRequest([{ topic: 't', partition: 0, offset: 0 }]),
          h.ctx,
        );
        expect(answer!.sessionId ?? 0).toBe(0);
        const p = answer!.responses[0]!.partitions[0]!;
        expect(p).toMatchObject({ partitionIndex: 0, errorCode: 0, highWatermark: 5, lastStableOffset: 5 });
        expect(p.abortedTransactions).toEqual([]);
        if (fetchVersion >= 5) expect(p.logStartOffset).toBe(0);
        if (fetchVersion >= 11) expect(p.preferredReadReplica).toBe(-1);
        expect(Buffer.from(p.records!).equals(Buffer.from(concat(stored(first, 0), stored(second, 3))))).toBe(
          true,
        );
      }
    },
  );

  it('serves whole batches within partitionMaxBytes and maxBytes, but always one batch to the first partition with data', async () => {
    const big = batchOf(50);
    await call(
      produceApi,
      7,
      produceRequest('t', [
        [0, big],
        [1, batchOf(1)],
      ]),
      h.ctx,
    );
    await call(
      produceApi,
      7,
      produceRequest('t', [
        [0, batchOf(1)],
        [1, batchOf(1)],
      ]),
      h.ctx,
    );
    // Partition 0's first batch is larger than every limit: it still comes back, alone.
    const tiny = await call(
      fetchApi,
      11,
      fetchRequest(
        [
          { topic: 't', partition: 0, offset: 0, maxBytes: 10 },
          { topic: 't', partition: 1, offset: 0, maxBytes: 10 },
        ],
        { maxBytes: 10 },
      ),
      h.ctx,
    );
    const [p0, p1] = tiny!.responses[0]!.partitions;
    expect(p0!.records!.length).toBe(big.length);
    expect(p1!.records!.length).toBe(0);
    expect(p1!.highWatermark).toBe(2);

    // Room for partition 1's first batch but not its second: whole batches only.
    const one = batchOf(1).length;
    const some = await call(
      fetchApi,
      11,
      fetchRequest(
        [
          { topic: 't', partition: 0, offset: 0, maxBytes: 1 },
          { topic: 't', partition: 1, offset: 0 },
        ],
        { maxBytes: big.length + one + 10 },
      ),
      h.ctx,
    );
    expect(some!.responses[0]!.partitions.map((p) => p.records!.length)).toEqual([big.length, one]);
  });

  it('answers OFFSET_OUT_OF_RANGE outside [logStart, logEnd] and nothing at the log end', async () => {
    await call(produceApi, 7, produceRequest('t', [[0, batchOf(3)]]), h.ctx);
    const answer = await call(
      fetchApi,
      11,
      fetchRequest([
        { topic: 't', partition: 0, offset: 4 },
        { topic: 't', partition: 0, offset: 3 },
        { topic: 't', partition: 0, offset: -1 },
      ]),
      h.ctx,
    );
    const [past, end, before] = answer!.responses[0]!.partitions;
    expect(past).toMatchObject({ errorCode: code.OFFSET_OUT_OF_RANGE.code, highWatermark: -1 });
    expect(end).toMatchObject({ errorCode: 0, highWatermark: 3 });
    expect(end!.records!.length).toBe(0);
    expect(before!.errorCode).toBe(code.OFFSET_OUT_OF_RANGE.code);
  });
});

describe('Produce', () => {
  beforeEach(async () => {
    h = await createHarness();
    await h.engine.createTopic('t', 2);
  });
  afterEach(async () => {
    await h.close();
  });

  it('acks=0 appends and sends no response', async () => {
    expect(await call(produceApi, 7, produceRequest('t', [[1, batchOf(2)]], { acks: 0 }), h.ctx)).toBeNull();
    expect((await h.engine.listOffset('t', 1, 'latest')).offset).toBe(2);
  });

  it('acks=0 with a failed partition throws, so the server closes the connection as Kafka does', async () => {
    await expect(
      produceApi.handle(produceRequest('t', [[7, batchOf(1)]], { acks: 0 }), 7, h.ctx),
    ).rejects.toThrow(/acks=0 produce failed/);
  });

  it('holds an append the worker queue refuses, keeping the partition in request order', async () => {
    let refusals = 1;
    const engine = h.engine;
    const busy = new Proxy(engine, {
      get(target, property, receiver) {
        if (property === 'produce') {
          return (request: Parameters<typeof engine.produce>[0]) =>
            refusals-- > 0
              ? Promise.reject(new BrokerError('THROTTLING_QUOTA_EXCEEDED', 'queue full'))
              : target.produce(request);
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const ctx = { ...h.ctx, engine: busy };
    const first = batchOf(1, { from: 0 });
    const second = batchOf(1, { from: 1 });
    const [a, b] = await Promise.all([
      produceApi.handle(produceRequest('t', [[0, first]]), 7, ctx),
      produceApi.handle(produceRequest('t', [[0, second]]), 7, ctx),
    ]);
    expect(onlyPartition(a!.responses)).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(onlyPartition(b!.responses)).toMatchObject({ errorCode: 0, baseOffset: 1 });

    refusals = Number.POSITIVE_INFINITY;
    const started = Date.now();
    const late = await produceApi.handle(
      { ...produceRequest('t', [[0, batchOf(1)]]), timeoutMs: 50 },
      7,
      ctx,
    );
    expect(onlyPartition(late!.responses).errorCode).toBe(code.REQUEST_TIMED_OUT.code);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses bad acks with INVALID_REQUIRED_ACKS', async () => {
    const answer = await call(produceApi, 7, produceRequest('t', [[0, batchOf(1)]], { acks: 2 }), h.ctx);
    expect(onlyPartition(answer!.responses).errorCode).toBe(code.INVALID_REQUIRED_ACKS.code);
  });

  it('answers CORRUPT_MESSAGE for a bad CRC and appends nothing', async () => {
    const batch = batchOf(2);
    batch[batch.length - 1]! ^= 0xff;
    const answer = await call(produceApi, 9, produceRequest('t', [[0, batch]]), h.ctx);
    expect(onlyPartition(answer!.responses)).toMatchObject({
      errorCode: code.CORRUPT_MESSAGE.code,
      baseOffset: -1,
    });
    expect(onlyPartition(answer!.responses).errorMessage).toMatch(/CRC/);
    expect((await h.engine.listOffset('t', 0, 'latest')).offset).toBe(0);
  });

  it('answers INVALID_RECORD for two batches, none, or a control batch', async () => {
    const two = concat(batchOf(1), batchOf(1));
    const control = encodeRecordBatch([{ value: new Uint8Array(6) }], {
      isControl: true,
      transactional: true,
    });
    for (const records of [two, new Uint8Array(0), null]) {
      const answer = await call(produceApi, 8, produceRequest('t', [[0, records]]), h.ctx);
      expect(onlyPartition(answer!.responses).errorCode).toBe(code.INVALID_RECORD.code);
    }
    const answer = await call(produceApi, 8, produceRequest('t', [[0, control]]), h.ctx);
    expect(onlyPartition(answer!.responses).errorCode).toBe(code.INVALID_RECORD.code);
  });

  it('refuses idempotent and transactional produce with UNSUPPORTED_FOR_MESSAGE_FORMAT', async () => {
    const idempotent = encodeRecordBatch([{ value: new Uint8Array([1]) }], {
      producerId: 42,
      producerEpoch: 0,
      baseSequence: 0,
    });
    const a = await call(produceApi, 7, produceRequest('t', [[0, idempotent]]), h.ctx);
    expect(onlyPartition(a!.responses).errorCode).toBe(code.UNSUPPORTED_FOR_MESSAGE_FORMAT.code);
    const b = await call(
      produceApi,
      7,
      produceRequest('t', [[0, batchOf(1)]], { transactionalId: 'tx' }),
      h.ctx,
    );
    expect(onlyPartition(b!.responses).errorCode).toBe(code.UNSUPPORTED_FOR_MESSAGE_FORMAT.code);
    expect((await h.engine.listOffset('t', 0, 'latest')).offset).toBe(0);
  });

  it('advertises produce from v0 (librdkafka compresses only then) but refuses v0-2 message sets', async () => {
    expect(produceApi.minVersion).toBe(0);
    // A magic-1 message set as Produce v2 carries it: offset, size, crc, then magic 1 at byte 16.
    const messageSet = new Uint8Array(80);
    const view = new DataView(messageSet.buffer);
    view.setInt32(8, 68);
    messageSet[16] = 1;
    const answer = await call(produceApi, 2, produceRequest('t', [[0, messageSet]]), h.ctx);
    expect(onlyPartition(answer!.responses).errorCode).toBe(code.UNSUPPORTED_FOR_MESSAGE_FORMAT.code);
    expect((await h.engine.listOffset('t', 0, 'latest')).offset).toBe(0);
  });

  it('refuses zstd below produce v7 with UNSUPPORTED_COMPRESSION_TYPE', async () => {
    const zstd = batchOf(1).slice();
    // The check reads the attributes only; the CRC no longer matches, which v7 would then report.
    new DataView(zstd.buffer).setInt16(21, CompressionType.Zstd);
    const answer = await call(produceApi, 6, produceRequest('t', [[0, zstd]]), h.ctx);
    expect(onlyPartition(answer!.responses).errorCode).toBe(code.UNSUPPORTED_COMPRESSION_TYPE.code);
  });

  it('auto-creates an unknown topic, and answers UNKNOWN_TOPIC_OR_PARTITION for a missing partition', async () => {
    const answer = await call(produceApi, 7, produceRequest('fresh', [[0, batchOf(1)]]), h.ctx);
    expect(onlyPartition(answer!.responses).errorCode).toBe(0);
    expect((await h.engine.describeTopic('fresh')).partitions).toHaveLength(1);
    const missing = await call(produceApi, 7, produceRequest('t', [[9, batchOf(1)]]), h.ctx);
    expect(onlyPartition(missing!.responses).errorCode).toBe(code.UNKNOWN_TOPIC_OR_PARTITION.code);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION when auto-creation is off, and INVALID_TOPIC_EXCEPTION for a bad name', async () => {
    const strict = await createHarness({ config: { autoCreateTopics: false } });
    try {
      const answer = await call(produceApi, 7, produceRequest('nope', [[0, batchOf(1)]]), strict.ctx);
      expect(onlyPartition(answer!.responses).errorCode).toBe(code.UNKNOWN_TOPIC_OR_PARTITION.code);
    } finally {
      await strict.close();
    }
    const bad = await call(produceApi, 7, produceRequest('bad name', [[0, batchOf(1)]]), h.ctx);
    expect(onlyPartition(bad!.responses).errorCode).toBe(code.INVALID_TOPIC_EXCEPTION.code);
  });

  it('answers MESSAGE_TOO_LARGE for a batch above max.message.bytes', async () => {
    await h.engine.createTopic('small', 1, { 'max.message.bytes': 100 });
    const answer = await call(produceApi, 7, produceRequest('small', [[0, batchOf(20)]]), h.ctx);
    expect(onlyPartition(answer!.responses).errorCode).toBe(code.MESSAGE_TOO_LARGE.code);
  });
});

describe('Fetch', () => {
  beforeEach(async () => {
    h = await createHarness({ maxFetchWaitMs: 400 });
    await h.engine.createTopic('t', 2);
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION per partition, and at once', async () => {
    const started = Date.now();
    const answer = await call(
      fetchApi,
      12,
      fetchRequest(
        [
          { topic: 'nope', partition: 0, offset: 0 },
          { topic: 't', partition: 5, offset: 0 },
        ],
        {
          maxWaitMs: 2_000,
        },
      ),
      h.ctx,
    );
    expect(Date.now() - started).toBeLessThan(300);
    expect(answer!.responses.map((t) => t.partitions[0]!.errorCode)).toEqual([
      code.UNKNOWN_TOPIC_OR_PARTITION.code,
      code.UNKNOWN_TOPIC_OR_PARTITION.code,
    ]);
  });

  it('long-poll wakes on a produce to any requested partition', async () => {
    const started = Date.now();
    const pending = call(
      fetchApi,
      11,
      fetchRequest(
        [
          { topic: 't', partition: 0, offset: 0 },
          { topic: 't', partition: 1, offset: 0 },
        ],
        { maxWaitMs: 5_000 },
      ),
      { ...h.ctx, config: { ...h.ctx.config, maxFetchWaitMs: 5_000 } },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const batch = batchOf(2);
    await call(produceApi, 7, produceRequest('t', [[1, batch]]), h.ctx);
    const answer = await pending;
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(2_000);
    const [p0, p1] = answer!.responses[0]!.partitions;
    expect(p0!.records!.length).toBe(0);
    expect(Buffer.from(p1!.records!).equals(Buffer.from(stored(batch, 0)))).toBe(true);
  });

  it('long-polls share their waits on a quiet partition instead of piling them up', async () => {
    let waitsOnQuiet = 0;
    const engine = h.engine;
    const counting = new Proxy(engine, {
      get(target, property, receiver) {
        if (property === 'fetchRaw') {
          return (request: Parameters<typeof engine.fetchRaw>[0]) => {
            if (request.maxWaitMs > 0 && request.partition === 0) waitsOnQuiet++;
            return target.fetchRaw(request);
          };
        }
        return Reflect.get(target, property, receiver);
      },
    });
    const ctx = { ...h.ctx, engine: counting, config: { ...h.ctx.config, maxFetchWaitMs: 5_000 } };
    for (let round = 0; round < 5; round++) {
      const pending = call(
        fetchApi,
        11,
        fetchRequest(
          [
            { topic: 't', partition: 0, offset: 0 },
            { topic: 't', partition: 1, offset: round },
          ],
          { maxWaitMs: 5_000 },
        ),
        ctx,
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      await call(produceApi, 7, produceRequest('t', [[1, batchOf(1)]]), h.ctx);
      const answer = await pending;
      expect(answer!.responses[0]!.partitions[1]!.records!.length).toBeGreaterThan(0);
    }
    expect(waitsOnQuiet).toBe(1);
  });

  it('long-poll waits for minBytes across appends', async () => {
    const one = batchOf(1).length;
    const pending = call(
      fetchApi,
      11,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 2_000, minBytes: one * 2 }),
      { ...h.ctx, config: { ...h.ctx.config, maxFetchWaitMs: 2_000 } },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await call(produceApi, 7, produceRequest('t', [[0, batchOf(1)]]), h.ctx);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await call(produceApi, 7, produceRequest('t', [[0, batchOf(1)]]), h.ctx);
    const answer = await pending;
    expect(answer!.responses[0]!.partitions[0]!.records!.length).toBe(one * 2);
  });

  it('never waits past maxWaitMs, nor past the broker maximum', async () => {
    let started = Date.now();
    let answer = await call(
      fetchApi,
      11,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 150 }),
      h.ctx,
    );
    let elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(400);
    expect(answer!.responses[0]!.partitions[0]!.errorCode).toBe(0);

    // The client asks for 10 s; the broker caps at 400 ms.
    started = Date.now();
    answer = await call(
      fetchApi,
      11,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 10_000 }),
      h.ctx,
    );
    elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(1_000);
  });

  it('answers at once with minBytes 0 or maxWaitMs 0', async () => {
    const started = Date.now();
    await call(
      fetchApi,
      11,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 3_000, minBytes: 0 }),
      h.ctx,
    );
    await call(
      fetchApi,
      11,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 0 }),
      h.ctx,
    );
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('answers a shutting-down broker at once instead of spinning', async () => {
    const pending = call(
      fetchApi,
      11,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { maxWaitMs: 5_000 }),
      { ...h.ctx, config: { ...h.ctx.config, maxFetchWaitMs: 5_000 } },
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await h.engine.stopWaiting();
    await pending;
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('keeps no fetch session: sessionId 0, and FETCH_SESSION_ID_NOT_FOUND for an incremental request', async () => {
    const full = await call(
      fetchApi,
      12,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { sessionEpoch: 0 }),
      h.ctx,
    );
    expect(full!.sessionId).toBe(0);
    expect(full!.errorCode).toBe(0);
    const incremental = await call(
      fetchApi,
      12,
      fetchRequest([{ topic: 't', partition: 0, offset: 0 }], { sessionEpoch: 3 }),
      h.ctx,
    );
    expect(incremental!.errorCode).toBe(code.FETCH_SESSION_ID_NOT_FOUND.code);
    expect(incremental!.responses).toEqual([]);
  });
});
