/**
 * @module
 * OffsetFetch (key 9), versions 0–8: a group's committed offsets, per requested partition (-1 where
 * nothing is committed), or all of them (topics null, v2+). v8 asks for several groups at once.
 *
 *   request  v0–7: groupId, topics[{name, partitionIndexes}] (nullable v2+), requireStable (v7+)
 *            v8:   groups[{groupId, topics}], requireStable
 *   response v0–7: throttleTimeMs (v3+), topics[{name, partitions[{partitionIndex, committedOffset,
 *            committedLeaderEpoch (v5+), metadata, errorCode}]}], errorCode (v2+)
 *            v8:   groups[{groupId, topics[...], errorCode}]
 * `requireStable` needs no wait here: without transactions every committed offset is stable.
 */
import type { CommittedOffset, TopicPartitions } from '../../coordinator/group-api.ts';
import { errorCode, type KafkaApi, type KafkaContext } from '../api.ts';

interface TopicOffsets {
  name: string;
  partitions: Array<{
    partitionIndex: number;
    committedOffset: number;
    committedLeaderEpoch: number;
    metadata: string;
    errorCode: number;
  }>;
}

async function fetchGroup(
  ctx: KafkaContext,
  groupId: string,
  topics: Array<{ name: string; partitionIndexes: number[] }> | null,
): Promise<{ topics: TopicOffsets[]; errorCode: number }> {
  try {
    const wanted: TopicPartitions[] | null =
      topics === null ? null : topics.map((t) => ({ topic: t.name, partitions: t.partitionIndexes }));
    const offsets = await ctx.engine.fetchOffsets({ groupId, topics: wanted });
    return { topics: byTopic(offsets), errorCode: 0 };
  } catch (err) {
    return { topics: [], errorCode: errorCode(err) };
  }
}

function byTopic(offsets: CommittedOffset[]): TopicOffsets[] {
  const topics = new Map<string, TopicOffsets>();
  for (const o of offsets) {
    let topic = topics.get(o.topic);
    if (!topic) {
      topic = { name: o.topic, partitions: [] };
      topics.set(o.topic, topic);
    }
    topic.partitions.push({
      partitionIndex: o.partition,
      committedOffset: o.offset,
      committedLeaderEpoch: o.leaderEpoch,
      metadata: o.metadata,
      errorCode: 0,
    });
  }
  return [...topics.values()];
}

export const offsetFetchApi: KafkaApi<9> = {
  apiKey: 9,
  minVersion: 0,
  maxVersion: 8,
  async handle(request, version, ctx) {
    if (version >= 8) {
      const groups = [];
      for (const g of request.groups ?? []) {
        const answer = await fetchGroup(ctx, g.groupId, g.topics);
        groups.push({ groupId: g.groupId, topics: answer.topics, errorCode: answer.errorCode });
      }
      return { throttleTimeMs: 0, groups };
    }
    // v0 and v1 have no "all topics": a null list there is read as none.
    const topics = request.topics ?? (version >= 2 ? null : []);
    const answer = await fetchGroup(ctx, request.groupId ?? '', topics);
    if (answer.errorCode !== 0 && version < 2) {
      // No top-level error before v2: every requested partition carries it.
      return {
        throttleTimeMs: 0,
        topics: (request.topics ?? []).map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({
            partitionIndex,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: answer.errorCode,
          })),
        })),
      };
    }
    return { throttleTimeMs: 0, topics: answer.topics, errorCode: answer.errorCode };
  },
};
