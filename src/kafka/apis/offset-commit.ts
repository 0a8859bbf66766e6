/**
 * @module
 * OffsetCommit (key 8), versions 0–8. Offsets of partitions that exist are committed together (one write
 * to `__consumer_offsets`); a partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION alone. A
 * refusal of the whole commit (fencing: ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS,
 * FENCED_INSTANCE_ID; metadata too large) is answered on every partition.
 *
 *   request  groupId, generationIdOrMemberEpoch (v1+), memberId (v1+), groupInstanceId (v7+),
 *            retentionTimeMs (v2–4, ignored: offsets.retention.minutes rules),
 *            topics[{name, partitions[{partitionIndex, committedOffset, committedLeaderEpoch (v6+),
 *            commitTimestamp (v1 only, ignored: the broker's clock), committedMetadata}]}]
 *   response throttleTimeMs (v3+), topics[{name, partitions[{partitionIndex, errorCode}]}]
 */
import type { CommitOffset } from '../../coordinator/group-api.ts';
import { ERRORS } from '../../shared/errors.ts';
import { partitionKey } from '../../shared/partition-key.ts';
import { errorCode, type KafkaApi } from '../api.ts';

export const offsetCommitApi: KafkaApi<8> = {
  apiKey: 8,
  minVersion: 0,
  maxVersion: 8,
  async handle(request, _version, ctx) {
    const counts = new Map((await ctx.engine.listTopics()).map((t) => [t.name, t.partitions]));
    const codes = new Map<string, number>();
    const offsets: CommitOffset[] = [];
    for (const topic of request.topics) {
      for (const p of topic.partitions) {
        const count = counts.get(topic.name);
        if (count === undefined || p.partitionIndex < 0 || p.partitionIndex >= count) {
          codes.set(partitionKey(topic.name, p.partitionIndex), ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
          continue;
        }
        offsets.push({
          topic: topic.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          metadata: p.committedMetadata ?? '',
          leaderEpoch: p.committedLeaderEpoch ?? -1,
        });
      }
    }
    let whole = 0;
    if (offsets.length > 0) {
      try {
        await ctx.engine.commitOffsets({
          groupId: request.groupId,
          generationId: request.generationIdOrMemberEpoch ?? -1,
          memberId: request.memberId ?? '',
          groupInstanceId: request.groupInstanceId ?? null,
          offsets,
        });
      } catch (err) {
        whole = errorCode(err);
      }
    }
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: codes.get(partitionKey(topic.name, p.partitionIndex)) ?? whole,
        })),
      })),
    };
  },
};
