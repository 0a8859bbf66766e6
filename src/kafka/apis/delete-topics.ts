/**
 * @module
 * DeleteTopics (API key 20), versions 0–6 (flexible from 4): deletes topics by name, or by id (v6+).
 *
 * Message shape (versions served):
 *   request   topicNames [string] (v0–5) | topics [name string|null, topicId uuid] (v6+), timeoutMs
 *   response  throttleTimeMs (v1+), responses [name (null from v6), topicId (v6+), errorCode,
 *             errorMessage (v5+)]
 *
 * A v6 entry names its topic by name (topicId the zero uuid) or by id (name null): an id no topic has is
 * UNKNOWN_TOPIC_ID, and the answer to an id carries the name it resolved to. An entry with both a name and
 * an id is INVALID_REQUEST (Kafka refuses it too). A topic listed twice, by name or id, is INVALID_REQUEST
 * for each listing, as Kafka answers. Deletion is complete when the engine answers, so timeoutMs is not
 * needed.
 */
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi } from '../api.ts';
import { ZERO_UUID } from '../codec/index.ts';
import type { DeleteTopicsResponse } from '../generated/messages.ts';

export const deleteTopicsApi: KafkaApi<20> = {
  apiKey: 20,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, version, ctx) {
    const entries =
      version >= 6
        ? (request.topics ?? []).map((t) => ({ name: t.name, topicId: t.topicId }))
        : (request.topicNames ?? []).map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
    // By id, the name is what the id resolves to now (undefined: no topic has it).
    const resolved = entries.map((e) =>
      e.name === null ? { ...e, target: ctx.engine.topicName(e.topicId) } : { ...e, target: e.name },
    );
    const counts = new Map<string, number>();
    for (const { target } of resolved)
      if (target !== undefined) counts.set(target, (counts.get(target) ?? 0) + 1);
    const responses = await Promise.all(
      resolved.map(async ({ name, topicId, target }): Promise<DeleteTopicsResponse.DeletableTopicResult> => {
        const answer = { name: target ?? name, topicId: version >= 6 ? topicId : undefined };
        try {
          if (name !== null && topicId !== ZERO_UUID) {
            throw new BrokerError(
              'INVALID_REQUEST',
              `topic '${name}' is given by both name and id ${topicId}`,
            );
          }
          if (target === undefined) throw new BrokerError('UNKNOWN_TOPIC_ID', `no topic has id ${topicId}`);
          if ((counts.get(target) ?? 0) > 1) {
            throw new BrokerError('INVALID_REQUEST', `topic '${target}' is listed more than once`);
          }
          await ctx.engine.deleteTopic(target);
          return { ...answer, errorCode: 0, errorMessage: null };
        } catch (err) {
          return { ...answer, errorCode: errorCode(err), errorMessage: errorMessage(err) };
        }
      }),
    );
    return { throttleTimeMs: 0, responses };
  },
};
