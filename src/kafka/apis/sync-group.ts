/**
 * @module
 * SyncGroup (key 14), versions 0–5. The leader brings every member's assignment (bytes of the protocol's
 * own layout); every member gets its own back once the coordinator has written them.
 *
 *   request  groupId, generationId, memberId, groupInstanceId (v3+), protocolType (v5+), protocolName (v5+),
 *            assignments[{memberId, assignment}]
 *   response throttleTimeMs (v1+), errorCode, protocolType (v5+), protocolName (v5+), assignment
 */
import { errorCode, type KafkaApi } from '../api.ts';

export const syncGroupApi: KafkaApi<14> = {
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, _version, ctx) {
    try {
      const answer = await ctx.engine.syncGroup({
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId ?? null,
        assignments: request.assignments.map((a) => ({
          memberId: a.memberId,
          assignment: a.assignment.slice(),
        })),
      });
      return {
        throttleTimeMs: 0,
        errorCode: 0,
        protocolType: answer.protocolType,
        protocolName: answer.protocolName,
        assignment: answer.assignmentBytes,
      };
    } catch (err) {
      return {
        throttleTimeMs: 0,
        errorCode: errorCode(err),
        protocolType: null,
        protocolName: null,
        assignment: new Uint8Array(0),
      };
    }
  },
};
