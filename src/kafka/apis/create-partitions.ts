/**
 * @module
 * CreatePartitions (API key 37), versions 0–3 (flexible from 2): grows topics to a new partition count.
 *
 * Message shape (versions served):
 *   request   topics [name, count int32, assignments [brokerIds [int32]] | null], timeoutMs, validateOnly
 *   response  throttleTimeMs, results [name, errorCode, errorMessage]
 *
 * A count not above the current one is INVALID_PARTITIONS (the engine's check). Freshet places partitions
 * itself on its one broker, so a manual assignment is INVALID_REQUEST, as CreateTopics answers it. A topic
 * listed twice is INVALID_REQUEST for each listing (Kafka's rule). validateOnly checks the topic and the
 * count without adding anything.
 */
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi, type KafkaContext } from '../api.ts';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../generated/messages.ts';
import { MAX_PARTITIONS_PER_TOPIC } from './create-topics.ts';

export const createPartitionsApi: KafkaApi<37> = {
  apiKey: 37,
  minVersion: 0,
  maxVersion: 3,
  async handle(request, _version, ctx) {
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const results = await Promise.all(
      request.topics.map(async (topic): Promise<CreatePartitionsResponse.CreatePartitionsTopicResult> => {
        try {
          if ((counts.get(topic.name) ?? 0) > 1) {
            throw new BrokerError('INVALID_REQUEST', `topic '${topic.name}' is listed more than once`);
          }
          await grow(topic, request.validateOnly, ctx);
          return { name: topic.name, errorCode: 0, errorMessage: null };
        } catch (err) {
          return { name: topic.name, errorCode: errorCode(err), errorMessage: errorMessage(err) };
        }
      }),
    );
    return { throttleTimeMs: 0, results };
  },
};

async function grow(
  topic: CreatePartitionsRequest.CreatePartitionsTopic,
  validateOnly: boolean,
  ctx: KafkaContext,
): Promise<void> {
  if (topic.assignments !== null && topic.assignments.length > 0) {
    throw new BrokerError(
      'INVALID_REQUEST',
      'manual partition assignment is not supported: Freshet places partitions on its one broker itself',
    );
  }
  if (!validateOnly) {
    await ctx.engine.createPartitions(topic.name, topic.count);
    return;
  }
  const current = (await ctx.engine.describeTopic(topic.name)).partitions.length;
  if (!Number.isInteger(topic.count) || topic.count > MAX_PARTITIONS_PER_TOPIC) {
    throw new BrokerError(
      'INVALID_PARTITIONS',
      `partition count must be an integer from 1 to ${MAX_PARTITIONS_PER_TOPIC}, not ${topic.count}`,
    );
  }
  if (topic.count <= current) {
    throw new BrokerError(
      'INVALID_PARTITIONS',
      `topic '${topic.name}' has ${current} partitions; the new count must be larger, not ${topic.count}`,
    );
  }
}
