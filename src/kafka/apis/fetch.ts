/**
 * @module
 * Fetch (API key 1), versions 4–16 (flexible from 12; topics by name up to v12, by topic id from v13): the
 * stored batches of each partition, as they are on disk, with long-poll.
 *
 * Message shape (versions served):
 *   request   clusterId (tagged 0, v12+), replicaId int32 (v4-14) | replicaState (tagged 1, v15+:
 *             replicaId, replicaEpoch), maxWaitMs int32, minBytes int32, maxBytes int32, isolationLevel int8,
 *             sessionId int32 (v7+), sessionEpoch int32 (v7+),
 *             topics [topic (v4-12) | topicId uuid (v13+), partitions [partition, currentLeaderEpoch (v9+),
 *             fetchOffset int64, lastFetchedEpoch (v12+), logStartOffset int64 (v5+), partitionMaxBytes int32]],
 *             forgottenTopicsData [topic (v7-12) | topicId (v13+), partitions []] (v7+), rackId (v11+)
 *   response  throttleTimeMs, errorCode (v7+), sessionId (v7+), responses [topic (v4-12) | topicId (v13+),
 *             partitions [partitionIndex, errorCode, highWatermark, lastStableOffset, logStartOffset (v5+),
 *             divergingEpoch (tagged 0, v12+), currentLeader (tagged 1, v12+), snapshotId (tagged 2, v12+),
 *             abortedTransactions [producerId, firstOffset] | null, preferredReadReplica (v11+), records]],
 *             nodeEndpoints [nodeId, host, port, rack] (tagged 0, v16+)
 *
 * Topic ids (v13+): each topic is looked up by its id (`engine.topicName`); an id no topic has (deleted, or
 * deleted and created again under the same name, which gives a new id) is UNKNOWN_TOPIC_ID on each of its
 * partitions, and answered at once, so the client refreshes its metadata. The answer names topics by the
 * ids they were asked by. If the id stops resolving to the same topic while the request is served (the
 * topic is deleted meanwhile), its partitions are answered UNKNOWN_TOPIC_ID rather than with data read
 * from another topic of that name.
 *
 * What the other versions add: v14 only allows OFFSET_MOVED_TO_TIERED_STORAGE (no tiered storage here).
 * v15 moves replicaId into the tagged replicaState (KIP-903); a consumer leaves it out (replicaId -1). The
 * replica id is not looked at: followers replicate through the cluster layer, not through this door.
 *
 * Leadership: in a cluster the engine refuses a partition this broker does not lead with
 * NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE while none is elected); on a single broker that error means
 * it is shutting down. A partition refused with NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carries its
 * current leader in currentLeader (tagged, v12+), and v16 (KIP-951) lists those leaders' endpoints in
 * nodeEndpoints (empty when no partition has such an error): best effort, from `engine.describeTopic`
 * (`currentLeaders` in metadata.ts); -1/-1 when not known, and always on a single broker, which knows no
 * other leader. currentLeaderEpoch (v9+) goes to the engine, which answers FENCED_LEADER_EPOCH for an older
 * epoch and UNKNOWN_LEADER_EPOCH for a newer one (KIP-320); lastFetchedEpoch is not checked (consumers'
 * truncation detection), so divergingEpoch and snapshotId are left out.
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
import { INT32_MAX } from '../../config/topic-config.ts';
import type { Engine } from '../../ipc/engine.ts';
import { readSlices } from '../../ipc/read-slices.ts';
import { BATCH_HEADER_SIZE, batchSizeAt } from '../../records/batch-header.ts';
import { BrokerError, ERRORS } from '../../shared/errors.ts';
import { errorCode, type KafkaApi, type KafkaContext } from '../api.ts';
import { ZERO_UUID } from '../codec/index.ts';
import type { FetchRequest, FetchResponse } from '../generated/messages.ts';
import { currentLeaders } from './metadata.ts';

const EMPTY = new Uint8Array(0);

/** One partition asked for, in request order. */
interface Target {
  /** The topic's name; null when it was asked for by an id that no topic has (v13+). */
  topic: string | null;
  topicId: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  /** The leader epoch the client knows (v9+), -1 when it does not say. */
  currentLeaderEpoch: number;
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

/** The first version that names topics by id rather than by name. */
const TOPIC_ID_VERSION = 13;
/** The first version with a partition's currentLeader (tagged). */
const CURRENT_LEADER_VERSION = 12;
/** The first version that lists the current leaders' endpoints (KIP-951). */
const NODE_ENDPOINTS_VERSION = 16;

export const fetchApi: KafkaApi<1> = {
  apiKey: 1,
  minVersion: 4,
  maxVersion: 16,
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
    const byId = version >= TOPIC_ID_VERSION;
    const topics = request.topics.map((t) => {
      const topicId = t.topicId ?? ZERO_UUID;
      return { topicId, name: byId ? (ctx.engine.topicName(topicId) ?? null) : (t.topic ?? '') };
    });
    const targets: Target[] = request.topics.flatMap((t, i) =>
      t.partitions.map((p) => ({
        topic: topics[i]!.name,
        topicId: topics[i]!.topicId,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: p.partitionMaxBytes,
        currentLeaderEpoch: p.currentLeaderEpoch ?? -1,
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
    // Partitions refused as not led here, to be answered with their current leader.
    const refused: Array<{ topic: string; partition: number; data: FetchResponse.PartitionData }> = [];
    const responses = request.topics.map((t, index): FetchResponse.FetchableTopicResponse => {
      const { topicId, name } = topics[index]!;
      // By id: still the same topic now that its data was read (see the top of the file)?
      const gone = byId && (name === null || ctx.engine.topicName(topicId) !== name);
      const partitions = t.partitions.map((p) => {
        const outcome = pass.outcomes[i++]!;
        const data = partitionData(p, gone ? { ...outcome, error: unknownTopicId(topicId) } : outcome);
        if (name !== null && isNotLeader(data)) refused.push({ topic: name, partition: p.partition, data });
        return data;
      });
      return byId ? { topicId, partitions } : { topic: name ?? '', partitions };
    });
    let nodeEndpoints: FetchResponse.NodeEndpoint[] = [];
    if (version >= CURRENT_LEADER_VERSION && refused.length > 0) {
      const found = await currentLeaders(ctx, refused);
      for (const [n, r] of refused.entries()) r.data.currentLeader = found.leaders[n]!;
      if (version >= NODE_ENDPOINTS_VERSION) nodeEndpoints = found.nodeEndpoints;
    }
    return { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses, nodeEndpoints };
  },
};

function unknownTopicId(topicId: string): BrokerError {
  return new BrokerError('UNKNOWN_TOPIC_ID', `no topic has id ${topicId}`);
}

/** Errors whose answer names the partition's current leader (Kafka's rule for KIP-951). */
function isNotLeader(p: FetchResponse.PartitionData): boolean {
  return (
    p.errorCode === ERRORS.NOT_LEADER_OR_FOLLOWER.code || p.errorCode === ERRORS.FENCED_LEADER_EPOCH.code
  );
}

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
      (t.topic === null
        ? Promise.reject(unknownTopicId(t.topicId))
        : engine.fetchRaw({
            topic: t.topic,
            partition: t.partition,
            offset: t.fetchOffset,
            maxBytes: Math.max(0, Math.min(t.partitionMaxBytes, maxBytes)),
            maxWaitMs: 0,
            minBytes: 0,
            ...(t.currentLeaderEpoch >= 0 ? { leaderEpoch: t.currentLeaderEpoch } : {}),
          })
      ).then(
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
      if (waiting.has(i) || stopped.has(i) || t.topic === null) continue;
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
