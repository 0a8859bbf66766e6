/**
 * @module
 * DeleteTopics (API key 20), versions 0–6 (flexible from 4): deletes topics by name.
 *
 * Message shape (versions served):
 *   request   topicNames [string] (v0–5) | topics [name string|null, topicId uuid] (v6+), timeoutMs
 *   response  throttleTimeMs (v1+), responses [name (null from v6), topicId (v6+), errorCode,
 *             errorMessage (v5+)]
 *
 * Freshet topics have no ids (Metadata reports the zero uuid), so a v6 entry that names a topic by id
 * only is UNKNOWN_TOPIC_ID. A topic listed twice is INVALID_REQUEST for each listing, as Kafka answers.
 * Deletion is complete when the engine answers, so timeoutMs is not needed.
 */
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi } from '../api.ts';
import type { DeleteTopicsResponse } from '../generated/messages.ts';
import { ZERO_UUID } from './metadata.ts';

export const deleteTopicsApi: KafkaApi<20> = {
  apiKey: 20,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, version, ctx) {
    const entries =
      version >= 6
        ? (request.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
        : (request.topicNames ?? []).map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
    const counts = new Map<string, number>();
    for (const e of entries) if (e.name !== null) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
    const responses = await Promise.all(
      entries.map(async ({ name, topicId }): Promise<DeleteTopicsResponse.DeletableTopicResult> => {
        const answer = { name, topicId: version >= 6 ? topicId : undefined };
        try {
          if (name === null) {
            throw new BrokerError(
              'UNKNOWN_TOPIC_ID',
              `no topic has id ${topicId}: Freshet topics have no ids`,
            );
          }
          if ((counts.get(name) ?? 0) > 1) {
            throw new BrokerError('INVALID_REQUEST', `topic '${name}' is listed more than once`);
          }
          await ctx.engine.deleteTopic(name);
          return { ...answer, errorCode: 0, errorMessage: null };
        } catch (err) {
          return { ...answer, errorCode: errorCode(err), errorMessage: errorMessage(err) };
        }
      }),
    );
    return { throttleTimeMs: 0, responses };
  },
};
