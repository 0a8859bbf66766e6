/**
 * @module
 * FindCoordinator (key 10), versions 0–4. The answer is always this broker's advertised address: a single
 * broker coordinates every group (and would every transactional id). In a cluster each broker coordinates
 * the groups whose members talk to it, so a group's members must all use the same broker; a group does not
 * move to another broker when its coordinator fails (group coordinator failover is not done yet).
 *
 *   request  v0–3: key, keyType (v1+)        v4: keyType, coordinatorKeys[]
 *   response v0–3: errorCode, errorMessage (v1+), nodeId, host, port
 *            v4:   coordinators[{key, nodeId, host, port, errorCode, errorMessage}]
 */
import type { KafkaApi } from '../api.ts';

export const findCoordinatorApi: KafkaApi<10> = {
  apiKey: 10,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, version, ctx) {
    const { nodeId, advertisedHost: host, advertisedPort: port } = ctx.config;
    if (version >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: (request.coordinatorKeys ?? []).map((key) => ({
          key,
          nodeId,
          host,
          port,
          errorCode: 0,
          errorMessage: null,
        })),
      };
    }
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId, host, port };
  },
};
