/**
 * @module
 * Produce (`{records}` or raw RecordBatch v2) and fetch (decoded records or raw batches) of one topic
 * (docs/http-api.md).
 */
import { type Context, Hono } from 'hono';
import type { Acks, ProduceResult, RecordsFetchResult } from '../../ipc/engine.ts';
import { encodeRecordBatch } from '../../records/record-batch.ts';
import { BrokerError } from '../../shared/errors.ts';
import {
  accepts,
  bytesOut,
  decodeBody,
  RECORD_BATCH_TYPE,
  type ResponseFormat,
  requestFormat,
} from '../codec.ts';
import { errorBodyOf } from '../error-handler.ts';
import {
  checkTopicName,
  integerQuery,
  parseAcks,
  parseFlag,
  parseInteger,
  parsePartition,
} from '../params.ts';
import { createPartitioner } from '../partitioner.ts';
import { readBody } from '../read-body.ts';
import { type ProduceRecord, parseProduceBody } from '../record-input.ts';
import { formatOf, send, sendLater } from '../respond.ts';
import type { RouteDeps } from '../route-deps.ts';
import { sliceBody } from '../slice-body.ts';

const DEFAULT_FETCH_MAX_BYTES = 1024 * 1024;

interface ProduceAnswer {
  results: Array<{ partition: number; offset: number }>;
}

const noAppend = () => null;

/** How a raw-batch produce is answered: a result per record (the default), or its offset range. */
type RawAnswerShape = 'records' | 'range';

function parseRawAnswer(raw: string | undefined): RawAnswerShape {
  if (raw === undefined || raw === 'records') return 'records';
  if (raw === 'range') return 'range';
  throw new BrokerError('INVALID_REQUEST', `parameter 'answer' must be records or range, not '${raw}'`);
}

/** One batch to append: the records of one partition, and where each sits in the request. */
interface PartitionBatch {
  partition: number;
  records: ProduceRecord[];
  indexes: number[];
}

interface EncodedBatch extends PartitionBatch {
  bytes: Uint8Array;
}

function groupByPartition(
  records: ProduceRecord[],
  partitionOf: (record: ProduceRecord) => number,
): PartitionBatch[] {
  const groups = new Map<number, PartitionBatch>();
  records.forEach((record, index) => {
    const partition = partitionOf(record);
    let group = groups.get(partition);
    if (!group) {
      group = { partition, records: [], indexes: [] };
      groups.set(partition, group);
    }
    group.records.push(record);
    group.indexes.push(index);
  });
  return [...groups.values()];
}

function payloadBytes(records: RecordsFetchResult['records']): number {
  let total = 0;
  for (const record of records) {
    total += (record.key?.byteLength ?? 0) + (record.value?.byteLength ?? 0);
    for (const header of record.headers) total += header.value?.byteLength ?? 0;
  }
  return total;
}

function recordsOut(result: RecordsFetchResult, format: ResponseFormat, base64: boolean) {
  return {
    records: result.records.map((record) => ({
      offset: record.offset,
      timestamp: record.timestamp,
      key: bytesOut(record.key, format, base64),
      value: bytesOut(record.value, format, base64),
      headers: record.headers.map((header) => ({
        key: header.key,
        value: bytesOut(header.value, format, base64),
      })),
    })),
    nextOffset: result.nextOffset,
    highWatermark: result.highWatermark,
    logStartOffset: result.logStartOffset,
  };
}

export function recordRoutes(deps: RouteDeps): Hono {
  const { engine, config, metrics, logger } = deps;
  const app = new Hono();

  /**
   * With acks=0 the client is answered before the append; failures can only be logged, as a Kafka
   * producer with acks=0 never hears of them either.
   */
  function unacknowledged(topic: string, work: Promise<number>, bytes: number): void {
    work.then(
      (records) => metrics.produced(topic, records, bytes),
      (err: unknown) =>
        logger.warn('acks=0 produce failed', {
          topic,
          error: err instanceof Error ? err.message : String(err),
        }),
    );
  }

  /**
   * Everything that can refuse a `{records}` produce before any append: the topic (auto-created if
   * allowed), each record's partition, and encoding one batch per partition.
   */
  async function planProduce(topic: string, records: ProduceRecord[]): Promise<EncodedBatch[]> {
    const partitionCount = await engine.partitionsForProduce(topic);
    const preferred = engine.partitionsLedHere?.(topic) ?? [];
    const groups = groupByPartition(
      records,
      createPartitioner(topic, partitionCount, Math.random, preferred),
    );
    const now = Date.now();
    return groups.map((group) => ({ ...group, bytes: encodeRecordBatch(group.records, { now }) }));
  }

  /**
   * Appends the batches concurrently and answers offsets in the records' original order. In a cluster a
   * batch for a partition another broker leads is sent on to that leader.
   */
  async function appendPlanned(topic: string, batches: EncodedBatch[], recordCount: number, acks: Acks) {
    const settled = await Promise.allSettled(
      batches.map((batch) => {
        const request = { topic, partition: batch.partition, batches: batch.bytes, acks };
        return engine.produceAtLeader ? engine.produceAtLeader(request) : engine.produce(request);
      }),
    );
    const results: ProduceAnswer['results'] = new Array(recordCount);
    const appended: number[] = [];
    let failure: unknown = null;
    settled.forEach((outcome, i) => {
      const batch = batches[i]!;
      if (outcome.status === 'rejected') {
        failure ??= outcome.reason;
        return;
      }
      appended.push(batch.partition);
      batch.indexes.forEach((index, j) => {
        results[index] = { partition: batch.partition, offset: outcome.value.baseOffset + j };
      });
    });
    if (failure !== null) throw partialFailure(failure, appended);
    return { results };
  }

  /**
   * Raw RecordBatch v2 bytes for `?partition=`, appended as sent. Answers one result per record, or with
   * `?answer=range` the offset range alone: the batches are appended as one contiguous range, and packing
   * a `{partition, offset}` per record took half the main thread's time on small records.
   */
  async function produceRaw(
    c: Context,
    topic: string,
    acks: Acks,
    partitionParam: string | undefined,
    answer: RawAnswerShape,
    pipeline: boolean,
  ) {
    if (partitionParam === undefined) {
      throw new BrokerError('INVALID_REQUEST', `parameter 'partition' is required with ${RECORD_BATCH_TYPE}`);
    }
    const partition = parsePartition(partitionParam);
    const batches = await readBody(c.req.raw, config.maxRequestBytes);
    if (batches.length === 0) throw new BrokerError('INVALID_REQUEST', 'the request body is empty');
    const bytes = batches.length;
    const partitionCount = await engine.partitionsForProduce(topic);
    if (partition >= partitionCount) {
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${topic}' has no partition ${partition} (it has ${partitionCount})`,
      );
    }
    let onAppended: ((baseOffset: number) => void) | undefined;
    const appended =
      pipeline && acks === -1
        ? new Promise<number>((resolve) => {
            onAppended = resolve;
          })
        : null;
    const appending = engine.produce({ topic, partition, batches, acks, onAppended });
    if (acks === 0) {
      unacknowledged(
        topic,
        appending.then((result) => result.recordCount),
        bytes,
      );
      return send(c, 202, {});
    }
    const answerOf = (result: ProduceResult) => {
      metrics.produced(topic, result.recordCount, bytes);
      if (answer === 'range') {
        return {
          partition,
          baseOffset: result.baseOffset,
          lastOffset: result.lastOffset,
          count: result.recordCount,
        };
      }
      const results: ProduceAnswer['results'] = [];
      for (let offset = result.baseOffset; offset <= result.lastOffset; offset++)
        results.push({ partition, offset });
      return { results };
    };
    if (appended) {
      // The append first (the ISR still to confirm): the client may send the partition's next batch now.
      // The answer first (a single broker, or a failure): answered as without `pipeline`.
      const baseOffset = await Promise.race([appended, appending.then(noAppend, noAppend)]);
      if (baseOffset !== null) {
        return sendLater(
          c,
          appending.then(answerOf),
          { 'freshet-appended': String(baseOffset) },
          errorBodyOf,
        );
      }
    }
    return send(c, 200, answerOf(await appending));
  }

  /** A `{records}` body in JSON or msgpack, partitioned here. */
  async function produceStructured(c: Context, topic: string, acks: Acks) {
    const body = await readBody(c.req.raw, config.maxRequestBytes);
    const format = requestFormat(c.req.header('content-type'), body[0]) as 'json' | 'msgpack';
    const records = parseProduceBody(decodeBody(body, format), format);
    const batches = await planProduce(topic, records);
    if (acks === 0) {
      const appending = appendPlanned(topic, batches, records.length, acks);
      unacknowledged(
        topic,
        appending.then(() => records.length),
        body.length,
      );
      return send(c, 202, {});
    }
    const answer = await appendPlanned(topic, batches, records.length, acks);
    metrics.produced(topic, records.length, body.length);
    return send(c, 200, answer);
  }

  app.post('/v1/topics/:topic/records', async (c) => {
    const topic = checkTopicName(c.req.param('topic'));
    const acks = parseAcks(c.req.query('acks'));
    const partitionParam = c.req.query('partition');
    const answerParam = c.req.query('answer');
    if (requestFormat(c.req.header('content-type'), undefined) === 'recordbatch') {
      const pipeline = parseFlag(c.req.query('pipeline'), 'pipeline');
      return produceRaw(c, topic, acks, partitionParam, parseRawAnswer(answerParam), pipeline);
    }
    if (partitionParam !== undefined) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `parameter 'partition' applies to ${RECORD_BATCH_TYPE} bodies; give {records} a partition per record`,
      );
    }
    for (const name of ['answer', 'pipeline']) {
      if (c.req.query(name) !== undefined) {
        throw new BrokerError(
          'INVALID_REQUEST',
          `parameter '${name}' applies to ${RECORD_BATCH_TYPE} bodies`,
        );
      }
    }
    return produceStructured(c, topic, acks);
  });

  app.get('/v1/topics/:topic/partitions/:partition/records', async (c) => {
    const topic = checkTopicName(c.req.param('topic'));
    const partition = parsePartition(c.req.param('partition'));
    const query = (name: string) => c.req.query(name);
    // Capped like maxWaitMs: one fetch never decodes or streams more than a request may carry.
    const maxBytes = Math.min(
      integerQuery(query, 'maxBytes', DEFAULT_FETCH_MAX_BYTES, { min: 1 }),
      config.maxRequestBytes,
    );
    // Capped rather than refused: a client asking to wait longer than the broker allows still gets an answer.
    const maxWaitMs = Math.min(integerQuery(query, 'maxWaitMs', 0, { min: 0 }), config.maxFetchWaitMs);
    const minBytes = integerQuery(query, 'minBytes', 1, { min: 0 });
    const encoding = query('encoding');
    if (encoding !== undefined && encoding !== 'base64') {
      throw new BrokerError('INVALID_REQUEST', `parameter 'encoding' must be base64, not '${encoding}'`);
    }
    const offsetParam = query('offset');
    const offset =
      offsetParam === undefined
        ? (await engine.listOffset(topic, partition, 'earliest')).offset
        : parseInteger('offset', offsetParam, { min: 0 });
    const request = { topic, partition, offset, maxBytes, maxWaitMs, minBytes };

    if (accepts(c.req.header('accept'), RECORD_BATCH_TYPE)) {
      const result = await engine.fetchRaw(request);
      const body = await sliceBody(result.slices);
      metrics.fetched(topic, null, result.sizeInBytes);
      return new Response(body as BodyInit, {
        status: 200,
        headers: {
          'content-type': RECORD_BATCH_TYPE,
          'freshet-next-offset': String(result.nextOffset),
          'freshet-high-watermark': String(result.highWatermark),
          'freshet-log-start-offset': String(result.logStartOffset),
        },
      });
    }
    const result = await engine.fetchRecords(request);
    metrics.fetched(topic, result.records.length, payloadBytes(result.records));
    return send(c, 200, recordsOut(result, formatOf(c), encoding === 'base64'));
  });

  return app;
}

/**
 * The error of a produce whose batches failed on some partitions, saying which partitions did take their
 * records: retrying the whole request would duplicate those.
 */
function partialFailure(failure: unknown, appended: number[]): unknown {
  if (!(failure instanceof BrokerError) || appended.length === 0) return failure;
  return new BrokerError(
    failure.code,
    `${failure.message} (the records for partition${appended.length > 1 ? 's' : ''} ${appended.join(', ')} were appended)`,
  );
}
