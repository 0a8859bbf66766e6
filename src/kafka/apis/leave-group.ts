/**
 * @module
 * LeaveGroup (key 13), versions 0–5. v0–2 name one member; v3+ a batch (by member id or, for static
 * members, by group instance id), each answered on its own.
 *
 *   request  groupId, memberId (v0–2), members[{memberId, groupInstanceId, reason (v5+)}] (v3+)
 *   response throttleTimeMs (v1+), errorCode, members[{memberId, groupInstanceId, errorCode}] (v3+)
 */
import { errorCode, type KafkaApi } from '../api.ts';

export const leaveGroupApi: KafkaApi<13> = {
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  async handle(request, version, ctx) {
    const leave = async (memberId: string, groupInstanceId: string | null): Promise<number> => {
      try {
        await ctx.engine.leaveGroup({ groupId: request.groupId, members: [{ memberId, groupInstanceId }] });
        return 0;
      } catch (err) {
        return errorCode(err);
      }
    };
    if (version < 3) {
      return { throttleTimeMs: 0, errorCode: await leave(request.memberId ?? '', null) };
    }
    const members = [];
    for (const m of request.members ?? []) {
      members.push({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        errorCode: await leave(m.memberId, m.groupInstanceId),
      });
    }
    return { throttleTimeMs: 0, errorCode: 0, members };
  },
};
