/**
 * @module
 * DeleteRecords (API key 21), versions 0–2 (flexible from 2): moves each partition's logStartOffset up,
 * deleting the records below it (whole segments go; the rest becomes unreadable at once).
 *
 * Message shape (versions served):
 *   request   topics [name, partitions [partitionIndex, offset int64 (-1: the high watermark)]], timeoutMs
 *   response  throttleTimeMs, topics [name, partitions [partitionIndex, lowWatermark int64, errorCode]]
 *
 * Deletion is done when the engine answers, so timeoutMs is not needed. An offset past the log end is
 * OFFSET_OUT_OF_RANGE, as in Kafka; an offset at or below the current logStartOffset changes nothing and
 * answers the current one. In a cluster only the partition's leader deletes: the engine refuses a partition
 * this broker does not lead with NOT_LEADER_OR_FOLLOWER (LEADER_NOT_AVAILABLE while none is elected), and
 * the client goes to the leader Metadata names.
 */
import { errorCode, type KafkaApi } from '../api.ts';
import type { DeleteRecordsResponse } from '../generated/messages.ts';

export const deleteRecordsApi: KafkaApi<21> = {
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, _version, ctx) {
    const topics = await Promise.all(
      request.topics.map(async (topic) => ({
        name: topic.name,
        partitions: await Promise.all(
          topic.partitions.map(async (p): Promise<DeleteRecordsResponse.DeleteRecordsPartitionResult> => {
            try {
              const { lowWatermark } = await ctx.engine.deleteRecords(topic.name, p.partitionIndex, p.offset);
              return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: 0 };
            } catch (err) {
              return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: errorCode(err) };
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics };
  },
};
