/**
 * @module
 * ListGroups (key 16), versions 0–4: every group the coordinator knows, with its state (v4+, which may
 * filter by state).
 *
 *   request  statesFilter (v4+)
 *   response throttleTimeMs (v1+), errorCode, groups[{groupId, protocolType, groupState (v4+)}]
 */
import type { KafkaApi } from '../api.ts';

export const listGroupsApi: KafkaApi<16> = {
  apiKey: 16,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, _version, ctx) {
    const states = new Set((request.statesFilter ?? []).map((s) => s.toLowerCase()));
    const groups = (await ctx.engine.listGroups())
      .filter((g) => states.size === 0 || states.has(g.state.toLowerCase()))
      .map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: g.state,
        groupType: 'classic',
      }));
    return { throttleTimeMs: 0, errorCode: 0, groups };
  },
};
