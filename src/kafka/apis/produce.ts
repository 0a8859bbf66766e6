/**
 * @module
 * Produce (API key 0), versions 0–10 advertised, 3–10 served (flexible from 9): appends each partition's
 * RecordBatch through the engine, auto-creating unknown topics as the HTTP door does
 * (`engine.partitionsForProduce`).
 *
 * Message shape (versions served):
 *   request   transactionalId string|null, acks int16, timeoutMs int32,
 *             topicData [name, partitionData [index int32, records (exactly one RecordBatch v2)]]
 *   response  responses [name, partitionResponses [index, errorCode, baseOffset int64,
 *             logAppendTimeMs int64 (-1: CreateTime), logStartOffset int64 (v5+),
 *             recordErrors [] (v8+), errorMessage (v8+), currentLeader (tagged 0, v10+)]], throttleTimeMs
 *             int32, nodeEndpoints [nodeId, host, port, rack] (tagged 0, v10+)
 *
 * Leadership: in a cluster the engine refuses a partition this broker does not lead with
 * NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE while none is elected; NOT_ENOUGH_REPLICAS and
 * NOT_ENOUGH_REPLICAS_AFTER_APPEND for acks=all short of min.insync.replicas); on a single broker that
 * error means it is shutting down. v10 (KIP-951, otherwise v9) answers such a partition with its current
 * leader and lists those leaders' endpoints in nodeEndpoints, as Fetch v16 does (`currentLeaders` in
 * metadata.ts: best effort, -1/-1 when not known and always on a single broker).
 *
 * Order: the server runs a connection's requests concurrently, but Kafka appends a connection's produce
 * requests in the order they were sent, and producers count on it. So appends to one partition take turns
 * in the order their requests arrived (`takeTurn`): each starts once the previous one was taken by the
 * engine (not finished: appends still overlap, and group commit still batches their fsyncs).
 *
 * acks=0 sends no response at all. As Kafka does, a failure under acks=0 closes the connection (the handler
 * throws), which is the only way such a producer learns of it and refreshes its metadata.
 *
 * Idempotence and transactions are not implemented yet (InitProducerId is not advertised, so real clients
 * never get a producer id from this broker). A batch that carries one anyway (producerId >= 0 or the
 * transactional bit), or a request with a transactionalId, is refused per partition with
 * UNSUPPORTED_FOR_MESSAGE_FORMAT: what Kafka answers when its log format cannot hold producer state
 * (idempotent/transactional batches on a pre-0.11 message format). It is non-retriable, so clients fail
 * the send at once with a clear error instead of retrying; appending such batches without the sequence
 * checks would silently break the exactly-once promise the client believes it has.
 */
import type { Acks, Engine, ProduceResult } from '../../ipc/engine.ts';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  batchSizeAt,
  CompressionType,
  MAGIC_V2,
  readBatchHeader,
} from '../../records/batch-header.ts';
import { BrokerError, ERRORS } from '../../shared/errors.ts';
import { partitionKey } from '../../shared/partition-key.ts';
import { errorCode, errorMessage, type KafkaApi, type KafkaContext } from '../api.ts';
import type { ProduceRequest, ProduceResponse } from '../generated/messages.ts';
import { currentLeaders } from './metadata.ts';

/** zstd batches need Produce v7+ (Kafka answers older versions UNSUPPORTED_COMPRESSION_TYPE). */
const ZSTD_MIN_VERSION = 7;
/** First wait before retrying an append the worker queue refused (it doubles up to the cap). */
const BACKPRESSURE_FIRST_DELAY_MS = 1;
const BACKPRESSURE_MAX_DELAY_MS = 50;

type PartitionResponse = ProduceResponse.PartitionProduceResponse;

export const produceApi: KafkaApi<0> = {
  apiKey: 0,
  // Advertised from v0 although only RecordBatch v2 (v3+) is stored: librdkafka compresses with gzip,
  // snappy or lz4 only if the broker's Produce range reaches down to v0 (zstd: v7), and otherwise sends
  // uncompressed without a word. A v0-2 request (magic 0/1 message sets) is answered per partition with
  // UNSUPPORTED_FOR_MESSAGE_FORMAT (see checkProduceBatch).
  minVersion: 0,
  maxVersion: 10,
  async handle(request, version, ctx) {
    const acks = request.acks;
    const valid = acks === 0 || acks === 1 || acks === -1;
    const responses = await Promise.all(
      request.topicData.map(async (topic): Promise<ProduceResponse.TopicProduceResponse> => {
        if (!valid) {
          const err = new BrokerError('INVALID_REQUIRED_ACKS', `acks must be 0, 1 or -1, not ${acks}`);
          return {
            name: topic.name,
            partitionResponses: topic.partitionData.map((p) => failed(p.index, err)),
          };
        }
        return produceTopic(request, topic, acks as Acks, version, ctx);
      }),
    );
    if (acks === 0) {
      const failures = responses.flatMap((t) =>
        t.partitionResponses
          .filter((p) => p.errorCode !== 0)
          .map((p) => `${t.name}-${p.index}: ${p.errorMessage}`),
      );
      if (failures.length > 0) {
        ctx.logger.warn('acks=0 produce failed; closing the connection', { client: ctx.clientId, failures });
        throw new BrokerError('UNKNOWN_SERVER_ERROR', `acks=0 produce failed: ${failures.join('; ')}`);
      }
      return null;
    }
    return { responses, throttleTimeMs: 0, nodeEndpoints: await nameLeaders(responses, version, ctx) };
  },
};

/** The first version that names the current leader of a partition refused as not led here (KIP-951). */
const CURRENT_LEADER_VERSION = 10;

/** Fills the currentLeader of refused partitions (v10+) and answers the leaders' endpoints. */
async function nameLeaders(
  responses: ProduceResponse.TopicProduceResponse[],
  version: number,
  ctx: KafkaContext,
): Promise<ProduceResponse.NodeEndpoint[]> {
  if (version < CURRENT_LEADER_VERSION) return [];
  const refused = responses.flatMap((t) =>
    t.partitionResponses
      .filter((p) => p.errorCode === ERRORS.NOT_LEADER_OR_FOLLOWER.code)
      .map((p) => ({ topic: t.name, partition: p.index, response: p })),
  );
  if (refused.length === 0) return [];
  const found = await currentLeaders(ctx, refused);
  for (const [n, r] of refused.entries()) r.response.currentLeader = found.leaders[n]!;
  return found.nodeEndpoints;
}

async function produceTopic(
  request: ProduceRequest,
  topic: ProduceRequest.TopicProduceData,
  acks: Acks,
  version: number,
  ctx: KafkaContext,
): Promise<ProduceResponse.TopicProduceResponse> {
  // Turns are taken before the first await: handlers start in request order, so turns follow it.
  const turns = topic.partitionData.map((p) => takeTurn(ctx.engine, topic.name, p.index));
  try {
    await ctx.engine.partitionsForProduce(topic.name);
  } catch (err) {
    for (const turn of turns) turn.done();
    return { name: topic.name, partitionResponses: topic.partitionData.map((p) => failed(p.index, err)) };
  }
  const deadline = Date.now() + Math.max(0, request.timeoutMs);
  const partitionResponses = await Promise.all(
    topic.partitionData.map(async (p, i): Promise<PartitionResponse> => {
      const turn = turns[i]!;
      try {
        const batch = checkProduceBatch(p.records, version, request.transactionalId ?? null);
        await turn.ready;
        const result = await appendInTurn(
          () => ctx.engine.produce({ topic: topic.name, partition: p.index, batches: batch, acks }),
          deadline,
          turn.done,
        );
        return {
          index: p.index,
          errorCode: 0,
          baseOffset: result.baseOffset,
          logAppendTimeMs: -1,
          logStartOffset: result.logStartOffset,
        };
      } catch (err) {
        return failed(p.index, err);
      } finally {
        turn.done();
      }
    }),
  );
  return { name: topic.name, partitionResponses };
}

/** A place in a partition's queue of appends: `ready` when every earlier one was taken; `done` lets the next go. */
interface Turn {
  ready: Promise<void>;
  done: () => void;
}

/** The last turn taken per partition, per engine. */
const lastTurns = new WeakMap<Engine, Map<string, Promise<void>>>();

function takeTurn(engine: Engine, topic: string, partition: number): Turn {
  let tails = lastTurns.get(engine);
  if (!tails) {
    tails = new Map();
    lastTurns.set(engine, tails);
  }
  const key = partitionKey(topic, partition);
  const previous = tails.get(key);
  let done!: () => void;
  const mine = new Promise<void>((resolve) => {
    done = resolve;
  });
  tails.set(key, mine);
  void mine.then(() => {
    if (tails.get(key) === mine) tails.delete(key);
  });
  return { ready: previous ?? Promise.resolve(), done };
}

const STILL_RUNNING = Symbol('still running');

/**
 * Starts the append and calls `accepted` once the engine has taken it, so the partition's next append may
 * start. Taken means: it did not fail at once with THROTTLING_QUOTA_EXCEEDED (the worker's queue refuses
 * synchronously, so such a refusal settles before the event loop turns; a taken append is still running
 * then, or finished). A refused append is retried after a short wait, keeping its turn, until the request's
 * timeoutMs (then REQUEST_TIMED_OUT): Kafka producers do not retry that error on produce, so the broker holds
 * the request instead, which is the back-pressure a Kafka broker applies.
 */
async function appendInTurn(
  append: () => Promise<ProduceResult>,
  deadline: number,
  accepted: () => void,
): Promise<ProduceResult> {
  let delay = BACKPRESSURE_FIRST_DELAY_MS;
  for (;;) {
    const attempt = append();
    const early = await Promise.race([
      attempt.then(
        () => STILL_RUNNING,
        (err: unknown) => err,
      ),
      new Promise<typeof STILL_RUNNING>((resolve) => setImmediate(() => resolve(STILL_RUNNING))),
    ]);
    if (!(early instanceof BrokerError) || early.code !== 'THROTTLING_QUOTA_EXCEEDED') {
      accepted();
      return attempt;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new BrokerError(
        'REQUEST_TIMED_OUT',
        `the partition's worker stayed busy past timeoutMs: ${early.message}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
    delay = Math.min(delay * 2, BACKPRESSURE_MAX_DELAY_MS);
  }
}

/**
 * The checks Kafka makes on a produce v3+ partition before its log sees it (`ProduceRequest.validateRecords`
 * and the client-origin rules of `LogValidator`); structure, CRC and records are the log's to check.
 */
function checkProduceBatch(
  records: Uint8Array | null,
  version: number,
  transactionalId: string | null,
): Uint8Array {
  if (records === null || records.length === 0) {
    throw new BrokerError(
      'INVALID_RECORD',
      `produce v${version} needs exactly one record batch per partition`,
    );
  }
  if (transactionalId !== null) {
    throw new BrokerError(
      'UNSUPPORTED_FOR_MESSAGE_FORMAT',
      `transactional produce (transactionalId '${transactionalId}') is not supported by this broker yet`,
    );
  }
  // A shorter buffer cannot hold a header: the log refuses it as CORRUPT_MESSAGE with the reason.
  if (records.length < BATCH_HEADER_SIZE) return records;
  const header = readBatchHeader(records);
  if (header.magic !== MAGIC_V2) {
    throw new BrokerError(
      header.magic < MAGIC_V2 ? 'UNSUPPORTED_FOR_MESSAGE_FORMAT' : 'INVALID_RECORD',
      `produce v${version} takes record batches of magic 2 only, not magic ${header.magic}`,
    );
  }
  const size = batchSizeAt(records);
  if (size >= BATCH_HEADER_SIZE && size < records.length) {
    throw new BrokerError(
      'INVALID_RECORD',
      `produce v${version} takes exactly one record batch per partition`,
    );
  }
  if ((header.attributes & ATTR_CONTROL) !== 0) {
    throw new BrokerError('INVALID_RECORD', 'clients may not write control batches');
  }
  if (header.producerId >= 0 || (header.attributes & ATTR_TRANSACTIONAL) !== 0) {
    throw new BrokerError(
      'UNSUPPORTED_FOR_MESSAGE_FORMAT',
      `idempotent and transactional batches (producerId ${header.producerId}) are not supported by this ` +
        'broker yet; produce with enable.idempotence=false',
    );
  }
  if ((header.attributes & ATTR_COMPRESSION_MASK) === CompressionType.Zstd && version < ZSTD_MIN_VERSION) {
    throw new BrokerError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `zstd batches need produce v${ZSTD_MIN_VERSION} or later, not v${version}`,
    );
  }
  return records;
}

/** A partition's answer to a failure; errorMessage travels from v8 (older versions drop it: ignorable). */
function failed(index: number, err: unknown): PartitionResponse {
  return {
    index,
    errorCode: errorCode(err),
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    errorMessage: errorMessage(err),
  };
}
