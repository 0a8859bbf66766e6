/**
 * @module
 * FindCoordinator (key 10), versions 0–4. A single broker coordinates every group itself. In a cluster the
 * engine names the group coordinator: the leader of `__consumer_offsets` partition 0 (src/cluster/
 * cluster-groups.ts), which moves to an in-sync replica when that broker fails; clients ask again on
 * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE, as Kafka clients do. Transaction coordinators (key type 1)
 * are answered the same way (Freshet has no transactions; InitProducerId is not served).
 *
 *   request  v0–3: key, keyType (v1+)        v4: keyType, coordinatorKeys[]
 *   response v0–3: errorCode, errorMessage (v1+), nodeId, host, port
 *            v4:   coordinators[{key, nodeId, host, port, errorCode, errorMessage}]
 */
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi, type KafkaContext } from '../api.ts';

interface Answer {
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  errorMessage: string | null;
}

async function locate(ctx: KafkaContext): Promise<Answer> {
  const { nodeId, advertisedHost: host, advertisedPort: port } = ctx.config;
  try {
    const coordinator = await ctx.engine.groupCoordinator();
    if (coordinator === null) return { nodeId, host, port, errorCode: 0, errorMessage: null };
    if (coordinator.kafkaPort === null) {
      throw new BrokerError(
        'COORDINATOR_NOT_AVAILABLE',
        `the group coordinator, broker ${coordinator.nodeId}, has no Kafka listener`,
      );
    }
    return {
      nodeId: coordinator.nodeId,
      host: coordinator.host,
      port: coordinator.kafkaPort,
      errorCode: 0,
      errorMessage: null,
    };
  } catch (err) {
    return { nodeId: -1, host: '', port: -1, errorCode: errorCode(err), errorMessage: errorMessage(err) };
  }
}

export const findCoordinatorApi: KafkaApi<10> = {
  apiKey: 10,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, version, ctx) {
    const answer = await locate(ctx);
    if (version >= 4) {
      return {
        throttleTimeMs: 0,
        coordinators: (request.coordinatorKeys ?? []).map((key) => ({ key, ...answer })),
      };
    }
    return { throttleTimeMs: 0, ...answer };
  },
};
