/**
 * @module
 * Fetch (API key 1), versions 4–12 (flexible from 12; topics by name, never by id): the stored batches of
 * each partition, as they are on disk, with long-poll.
 *
 * Message shape (versions served):
 *   request   replicaId int32, maxWaitMs int32, minBytes int32, maxBytes int32, isolationLevel int8,
 *             sessionId int32 (v7+), sessionEpoch int32 (v7+),
 *             topics [topic, partitions [partition, currentLeaderEpoch (v9+), fetchOffset int64,
 *             lastFetchedEpoch (v12+), logStartOffset int64 (v5+), partitionMaxBytes int32]],
 *             forgottenTopicsData [topic, partitions []] (v7+), rackId (v11+)
 *   response  throttleTimeMs, errorCode (v7+), sessionId (v7+), responses [topic, partitions [
 *             partitionIndex, errorCode, highWatermark, lastStableOffset, logStartOffset (v5+),
 *             abortedTransactions [producerId, firstOffset] | null, preferredReadReplica (v11+), records]]
 *
 * Sizes (KIP-74): partitions are filled in request order within `maxBytes` overall and `partitionMaxBytes`
 * each, whole batches only, except that the first partition with data always gets at least one whole batch
 * (else a batch larger than the limits would stall the consumer). Batches may start before fetchOffset;
 * clients skip what they did not ask for. The bytes are read from the segment files into the response
 * (no decode, no re-encode), so batches come back byte for byte as stored.
 *
 * Long-poll: when the first pass has fewer than `minBytes` and no partition errored, the request waits up to
 * min(maxWaitMs, the broker's maxFetchWaitMs), never longer. It waits on every partition at once, each with
 * a waiting `fetchRaw` from that partition's high watermark (it resolves on the next append there, or when
 * its time runs out), takes whichever settles first, then reads every partition again without waiting; it
 * repeats while the answer is still short of minBytes and time is left. Waits that lose the race are
 * abandoned, not cancelled (the engine has no cancel): their results are dropped, and each ends by itself
 * at the next append to its partition or at its own timeout, never later than the deadline of the request
 * that issued it. Requests waiting at the same partition and offset share one wait (`appendWait`), so a
 * consumer polling quiet partitions leaves at most one abandoned wait per partition and offset, however
 * often it polls. A wait that ends early without data (shutdown, deleted partition) is not renewed, so a
 * draining broker answers at once instead of spinning.
 *
 * Fetch sessions (v7+, KIP-227) are not kept: every answer is a full response with sessionId 0, which
 * clients accept as "no session" and keep sending full requests. An incremental request (a sessionEpoch
 * other than 0 or -1) names a session this broker never created: FETCH_SESSION_ID_NOT_FOUND, as Kafka
 * answers for an unknown session, after which clients fall back to full fetches.
 *
 * Without transactions every record is committed: isolationLevel makes no difference, lastStableOffset is
 * the high watermark and abortedTransactions is always empty.
 */
import { open } from 'node:fs/promises';
import { INT32_MAX } from '../../config/topic-config.ts';
import type { Engine, RawFetchResult } from '../../ipc/engine.ts';
import { BATCH_HEADER_SIZE, batchSizeAt } from '../../records/batch-header.ts';
import { BrokerError, ERRORS } from '../../shared/errors.ts';
import { errorCode, type KafkaApi, type KafkaContext } from '../api.ts';
import type { FetchRequest, FetchResponse } from '../generated/messages.ts';

type LogSlice = RawFetchResult['slices'][number];

const EMPTY = new Uint8Array(0);

/** One partition asked for, in request order. */
interface Target {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}

/** What one pass found for a partition. */
interface Outcome {
  records: Uint8Array;
  highWatermark: number;
  logStartOffset: number;
  /** Set when the partition could not be read: its errorCode, and -1 for the offsets (as Kafka). */
  error: unknown;
}

interface Pass {
  outcomes: Outcome[];
  bytes: number;
  failed: boolean;
}

export const fetchApi: KafkaApi<1> = {
  apiKey: 1,
  minVersion: 4,
  maxVersion: 12,
  async handle(request, version, ctx) {
    const sessionEpoch = request.sessionEpoch ?? -1;
    if (version >= 7 && sessionEpoch !== 0 && sessionEpoch !== -1) {
      return {
        throttleTimeMs: 0,
        errorCode: ERRORS.FETCH_SESSION_ID_NOT_FOUND.code,
        sessionId: 0,
        responses: [],
      };
    }
    const targets: Target[] = request.topics.flatMap((t) =>
      t.partitions.map((p) => ({
        topic: t.topic ?? '',
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
      })),
    );
    const maxBytes = request.maxBytes ?? INT32_MAX;
    const waitMs = Math.max(0, Math.min(request.maxWaitMs, ctx.config.maxFetchWaitMs));
    const deadline = Date.now() + waitMs;
    let pass = await readPass(ctx.engine, targets, maxBytes);
    if (waitMs > 0 && needsMore(pass, request.minBytes)) {
      pass = await longPoll(ctx, targets, maxBytes, request.minBytes, deadline, pass);
    }
    let i = 0;
    const responses = request.topics.map((t) => ({
      topic: t.topic ?? '',
      partitions: t.partitions.map((p) => partitionData(p, pass.outcomes[i++]!)),
    }));
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses };
  },
};

function partitionData(p: FetchRequest.FetchPartition, outcome: Outcome): FetchResponse.PartitionData {
  if (outcome.error !== null) {
    return {
      partitionIndex: p.partition,
      errorCode: errorCode(outcome.error),
      highWatermark: -1,
      lastStableOffset: -1,
      logStartOffset: -1,
      abortedTransactions: [],
      preferredReadReplica: -1,
      records: EMPTY,
    };
  }
  return {
    partitionIndex: p.partition,
    errorCode: 0,
    highWatermark: outcome.highWatermark,
    lastStableOffset: outcome.highWatermark,
    logStartOffset: outcome.logStartOffset,
    abortedTransactions: [],
    preferredReadReplica: -1,
    records: outcome.records,
  };
}

/** Kafka answers at once when minBytes are there (minBytes <= 0: always) or a partition failed. */
function needsMore(pass: Pass, minBytes: number): boolean {
  return !pass.failed && pass.bytes < minBytes && pass.outcomes.length > 0;
}

/**
 * One non-waiting read of every partition. The engine calls go out together (they return slice
 * references, not bytes); then, in request order, each partition's batches are taken whole while they fit
 * the remaining budget, and only the bytes taken are read from the segment files.
 */
async function readPass(engine: Engine, targets: Target[], maxBytes: number): Promise<Pass> {
  const reads = await Promise.all(
    targets.map((t) =>
      engine
        .fetchRaw({
          topic: t.topic,
          partition: t.partition,
          offset: t.fetchOffset,
          maxBytes: Math.max(0, Math.min(t.partitionMaxBytes, maxBytes)),
          maxWaitMs: 0,
          minBytes: 0,
        })
        .then(
          (result) => ({ result, error: null }),
          (error: unknown) => ({ result: null, error }),
        ),
    ),
  );
  const outcomes: Outcome[] = [];
  const loads: Array<Promise<void>> = [];
  let bytes = 0;
  let failed = false;
  for (const [i, read] of reads.entries()) {
    if (read.result === null) {
      outcomes.push({ records: EMPTY, highWatermark: -1, logStartOffset: -1, error: read.error });
      failed = true;
      continue;
    }
    const { result } = read;
    const outcome: Outcome = {
      records: EMPTY,
      highWatermark: result.highWatermark,
      logStartOffset: result.logStartOffset,
      error: null,
    };
    outcomes.push(outcome);
    if (result.sizeInBytes === 0) continue;
    const limit = Math.min(targets[i]!.partitionMaxBytes, maxBytes - bytes);
    if (bytes === 0 || result.sizeInBytes <= limit) {
      // The first partition with data takes what the log gave (at least one whole batch); later ones only
      // when all of it fits.
      bytes += result.sizeInBytes;
      loads.push(
        readSlices(result.slices, result.sizeInBytes).then(
          (data) => {
            outcome.records = data;
          },
          (error: unknown) => {
            outcome.error = error;
          },
        ),
      );
    } else if (limit >= BATCH_HEADER_SIZE) {
      // Only part fits: read that much and keep the whole batches in it.
      try {
        const data = await readSlices(result.slices, limit);
        outcome.records = data.subarray(0, wholeBatchesLength(data));
        bytes += outcome.records.length;
      } catch (error) {
        outcome.error = error;
      }
    }
  }
  await Promise.all(loads);
  if (outcomes.some((o) => o.error !== null)) failed = true;
  return { outcomes, bytes, failed };
}

/** Length of the longest prefix of `data` made of whole batches. */
function wholeBatchesLength(data: Uint8Array): number {
  let position = 0;
  for (;;) {
    const size = batchSizeAt(data, position);
    if (size < BATCH_HEADER_SIZE || position + size > data.length) return position;
    position += size;
  }
}

/** The long-poll loop described at the top of the file. */
async function longPoll(
  ctx: KafkaContext,
  targets: Target[],
  maxBytes: number,
  minBytes: number,
  deadline: number,
  first: Pass,
): Promise<Pass> {
  let pass = first;
  const waiting = new Map<number, Promise<void>>();
  const stopped = new Set<number>();
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0 || !needsMore(pass, minBytes)) return pass;
    for (const [i, t] of targets.entries()) {
      if (waiting.has(i) || stopped.has(i)) continue;
      const wait = appendWait(ctx.engine, t.topic, t.partition, pass.outcomes[i]!.highWatermark, left);
      waiting.set(
        i,
        wait.then((outcome) => {
          waiting.delete(i);
          if (outcome === 'stopped') stopped.add(i);
        }),
      );
    }
    if (waiting.size === 0) return pass;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, left);
    });
    await Promise.race([...waiting.values(), timeout]);
    clearTimeout(timer);
    pass = await readPass(ctx.engine, targets, maxBytes);
  }
}

/**
 * How a wait for an append ended: data arrived; it ran out its time; or it ended early without data (the
 * broker is shutting down, the partition went away), after which waiting on that partition is pointless.
 */
type WaitOutcome = 'data' | 'timeout' | 'stopped';

interface AppendWait {
  outcome: Promise<WaitOutcome>;
}

/** Timers may fire a little early; an empty answer this close to the expiry is the expiry. */
const TIMER_SLACK_MS = 5;

/** Waits in flight per engine, by partition and offset, shared by every fetch waiting at that point. */
const appendWaits = new WeakMap<Engine, Map<string, AppendWait>>();

/**
 * A wait for the next append to `partition` at or after `offset`, for up to `ms`: a waiting `fetchRaw` of
 * one batch (only its size is looked at). Fetches waiting at the same point share one wait, so however many
 * long-polls give up on a quiet partition, it has at most one abandoned wait per offset, each ending by
 * itself at the next append there or at its timeout.
 */
function appendWait(
  engine: Engine,
  topic: string,
  partition: number,
  offset: number,
  ms: number,
): Promise<WaitOutcome> {
  let waits = appendWaits.get(engine);
  if (!waits) {
    waits = new Map();
    appendWaits.set(engine, waits);
  }
  const key = `${topic}\u0000${partition}\u0000${offset}`;
  const existing = waits.get(key);
  if (existing) return existing.outcome;
  const expiresAt = Date.now() + ms;
  const entry: AppendWait = {
    outcome: engine
      .fetchRaw({ topic, partition, offset, maxBytes: 1, maxWaitMs: ms, minBytes: 1 })
      .then(
        (result): WaitOutcome =>
          result.sizeInBytes > 0 ? 'data' : Date.now() >= expiresAt - TIMER_SLACK_MS ? 'timeout' : 'stopped',
        (): WaitOutcome => 'stopped',
      )
      .then((outcome) => {
        if (waits.get(key) === entry) waits.delete(key);
        return outcome;
      }),
  };
  waits.set(key, entry);
  return entry.outcome;
}

/** The first `length` bytes of `slices`, in one buffer (segment files are read with node:fs, Bun too). */
async function readSlices(slices: readonly LogSlice[], length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let position = 0;
  for (const slice of slices) {
    if (position >= length) break;
    if (slice.kind === 'bytes') {
      const n = Math.min(slice.bytes.length, length - position);
      out.set(slice.bytes.subarray(0, n), position);
      position += n;
      continue;
    }
    const n = Math.min(slice.length, length - position);
    await readRange(slice.path, slice.position, out.subarray(position, position + n));
    position += n;
  }
  return position === length ? out : out.subarray(0, position);
}

async function readRange(path: string, position: number, into: Uint8Array): Promise<void> {
  // The segment can shrink or vanish (retention, DeleteRecords) between the engine's answer and this read:
  // a retriable storage error for that partition; the client fetches again.
  const gone = (why: string) =>
    new BrokerError('KAFKA_STORAGE_ERROR', `log slice ${path}@${position}+${into.length} ${why}`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw gone(`cannot be opened: ${(err as Error).message}`);
  }
  try {
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
      if (bytesRead === 0) throw gone('ends early');
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
