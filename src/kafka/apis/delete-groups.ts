/**
 * @module
 * DeleteGroups (key 42), versions 0–2: removes empty groups and their committed offsets
 * (NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for an unknown group).
 *
 *   request  groupsNames[]
 *   response throttleTimeMs, results[{groupId, errorCode}]
 */
import { errorCode, type KafkaApi } from '../api.ts';

export const deleteGroupsApi: KafkaApi<42> = {
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, _version, ctx) {
    const results = [];
    for (const groupId of request.groupsNames) {
      try {
        await ctx.engine.deleteGroup(groupId);
        results.push({ groupId, errorCode: 0 });
      } catch (err) {
        results.push({ groupId, errorCode: errorCode(err) });
      }
    }
    return { throttleTimeMs: 0, results };
  },
};
