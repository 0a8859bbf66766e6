/**
 * @module
 * ListOffsets (API key 2), versions 1–7 (flexible from 6): an offset per partition by timestamp.
 *
 * Message shape (versions served):
 *   request   replicaId int32, isolationLevel int8 (v2+),
 *             topics [name, partitions [partitionIndex, currentLeaderEpoch (v4+), timestamp int64]]
 *   response  throttleTimeMs (v2+), topics [name, partitions [partitionIndex, errorCode,
 *             timestamp int64, offset int64, leaderEpoch int32 (v4+)]]
 *
 * Timestamps: -2 earliest (logStartOffset), -1 latest (the high watermark; read_committed would ask for the
 * last stable offset, which is the same without transactions), -3 the record with the largest timestamp
 * (KIP-734, v7), anything else the first record whose timestamp is at or after it (offset and timestamp -1
 * when there is none). v0 (several "old style" offsets per partition) is not served; every client listed in
 * kafka-wire.md uses v1 or later.
 *
 * The engine answers "the first record at or after a time", not "the largest timestamp", so -3 is found by
 * searching timestamps with it: the largest timestamp T is the one for which a record at or after T exists
 * and none after T does, and the first record at or after T is then the first record carrying T. The search
 * costs about two lookups per bit of the timestamps' spread (a few dozen, each skipping whole segments by
 * their max timestamp); it serves an admin query, not a hot path.
 *
 * leaderEpoch (the epoch of the record at the offset returned) is 0 on a single broker, which never changes
 * leader. In a cluster it is the epoch of the batch holding the offset (the leader's own epoch for latest),
 * which consumers keep to validate their position after a leader change (KIP-320). There the engine refuses
 * a partition this broker does not lead with NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE while none is
 * elected), and a currentLeaderEpoch (v4+) other than the leader's with FENCED_LEADER_EPOCH (older) or
 * UNKNOWN_LEADER_EPOCH (newer), as Fetch does; the client refreshes its metadata and asks again.
 */
import type { Engine, OffsetResult } from '../../ipc/engine.ts';
import { errorCode, type KafkaApi } from '../api.ts';
import type { ListOffsetsResponse } from '../generated/messages.ts';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

export const listOffsetsApi: KafkaApi<2> = {
  apiKey: 2,
  minVersion: 1,
  maxVersion: 7,
  async handle(request, version, ctx) {
    const single = ctx.engine.brokers() === null;
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map(async (p): Promise<ListOffsetsResponse.ListOffsetsPartitionResponse> => {
            try {
              const known = p.currentLeaderEpoch ?? -1;
              const found = await lookup(
                ctx.engine,
                topic.name,
                p.partitionIndex,
                p.timestamp,
                known >= 0 ? { leaderEpoch: known } : {},
              );
              return {
                partitionIndex: p.partitionIndex,
                errorCode: 0,
                timestamp: found.timestamp ?? -1,
                offset: found.offset,
                // leaderEpoch exists from v4 (and is not ignorable): left out before.
                leaderEpoch:
                  version >= 4 && found.offset >= 0 ? (single ? 0 : (found.leaderEpoch ?? -1)) : undefined,
              };
            } catch (err) {
              return {
                partitionIndex: p.partitionIndex,
                errorCode: errorCode(err),
                timestamp: -1,
                offset: -1,
              };
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
};

type Known = { leaderEpoch?: number };

function lookup(
  engine: Engine,
  topic: string,
  partition: number,
  timestamp: number,
  known: Known,
): Promise<OffsetResult> {
  if (timestamp === EARLIEST) return engine.listOffset(topic, partition, 'earliest', known);
  if (timestamp === LATEST) return engine.listOffset(topic, partition, 'latest', known);
  if (timestamp === MAX_TIMESTAMP) return maxTimestampOffset(engine, topic, partition, known);
  return engine.listOffset(topic, partition, { timestamp }, known);
}

/**
 * The first record carrying the largest timestamp of the partition (offset -1 when it is empty), by a
 * search over "first record at or after t". Invariant: a record at or after `low` exists (and `low` is a
 * timestamp some record has); none at or after `high`.
 */
async function maxTimestampOffset(
  engine: Engine,
  topic: string,
  partition: number,
  known: Known,
): Promise<OffsetResult> {
  const at = (timestamp: number) => engine.listOffset(topic, partition, { timestamp }, known);
  const first = await at(Number.MIN_SAFE_INTEGER);
  if (first.offset < 0 || first.timestamp === undefined) return { offset: -1 };
  let low = first.timestamp;
  // Gallop up from the lowest timestamp until nothing is at or after `high`.
  let step = 1;
  let high = low + step;
  for (;;) {
    const found = await at(high);
    if (found.offset < 0 || found.timestamp === undefined) break;
    low = found.timestamp;
    step *= 2;
    if (low + step >= Number.MAX_SAFE_INTEGER) {
      high = Number.MAX_SAFE_INTEGER;
      const last = await at(high);
      if (last.offset >= 0 && last.timestamp !== undefined) return last;
      break;
    }
    high = low + step;
  }
  while (high - low > 1) {
    const middle = low + Math.floor((high - low) / 2);
    const found = await at(middle);
    if (found.offset < 0 || found.timestamp === undefined) high = middle;
    else low = found.timestamp;
  }
  return at(low);
}
