/**
 * @module
 * Heartbeat (key 12), versions 0–4: keeps a member in its group; REBALANCE_IN_PROGRESS tells it to join.
 *
 *   request  groupId, generationId, memberId, groupInstanceId (v3+)
 *   response throttleTimeMs (v1+), errorCode
 */
import { errorCode, type KafkaApi } from '../api.ts';

export const heartbeatApi: KafkaApi<12> = {
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, _version, ctx) {
    try {
      await ctx.engine.heartbeat({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId ?? null,
      });
      return { throttleTimeMs: 0, errorCode: 0 };
    } catch (err) {
      return { throttleTimeMs: 0, errorCode: errorCode(err) };
    }
  },
};
