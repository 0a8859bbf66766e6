/**
 * @module
 * IncrementalAlterConfigs (API key 44), versions 0–1 (flexible from 1): changes some topic settings,
 * leaving the others as they are.
 *
 * Message shape (versions served):
 *   request   resources [resourceType int8, resourceName,
 *             configs [name, configOperation int8 (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT), value | null]],
 *             validateOnly
 *   response  throttleTimeMs, responses [errorCode, errorMessage, resourceType, resourceName]
 *
 * SET sets an override (INVALID_CONFIG for an unknown setting or a bad value, the engine's check).
 * DELETE removes the topic's override, so the setting goes back to the broker default; DELETE of a setting
 * the topic does not override (known or not) is the no-op it is in Kafka. APPEND and SUBTRACT apply to list
 * settings only, and Freshet has none: INVALID_CONFIG, as Kafka answers them on a non-list setting. A
 * resource is all or nothing: any refused operation leaves it unchanged. A setting named twice is
 * INVALID_REQUEST. validateOnly checks the same and changes nothing.
 *
 * Broker resources: settings are startup flags, so any operation is INVALID_CONFIG (none is a no-op); the
 * same for broker loggers, of which Freshet has none. Other resource types are INVALID_REQUEST.
 */
import type { TopicConfigChanges } from '../../ipc/engine.ts';
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi, type KafkaContext } from '../api.ts';
import type {
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
} from '../generated/messages.ts';
import { applyTopicOverrides, checkUniqueNames, refuseBrokerConfigs, setOwn } from './alter-configs.ts';
import {
  checkBrokerName,
  RESOURCE_BROKER,
  RESOURCE_BROKER_LOGGER,
  RESOURCE_TOPIC,
} from './describe-configs.ts';

const OP_SET = 0;
const OP_DELETE = 1;
const OP_APPEND = 2;
const OP_SUBTRACT = 3;

export const incrementalAlterConfigsApi: KafkaApi<44> = {
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, _version, ctx) {
    const responses = await Promise.all(
      request.resources.map(
        async (resource): Promise<IncrementalAlterConfigsResponse.AlterConfigsResourceResponse> => {
          const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
          try {
            await alter(resource, request.validateOnly, ctx);
            return { ...base, errorCode: 0, errorMessage: null };
          } catch (err) {
            return { ...base, errorCode: errorCode(err), errorMessage: errorMessage(err) };
          }
        },
      ),
    );
    return { throttleTimeMs: 0, responses };
  },
};

async function alter(
  resource: IncrementalAlterConfigsRequest.AlterConfigsResource,
  validateOnly: boolean,
  ctx: KafkaContext,
): Promise<void> {
  checkUniqueNames(resource.configs.map((c) => c.name));
  for (const c of resource.configs) {
    if (c.configOperation < OP_SET || c.configOperation > OP_SUBTRACT) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `unknown config operation ${c.configOperation} for '${c.name}'`,
      );
    }
  }
  if (resource.resourceType === RESOURCE_BROKER || resource.resourceType === RESOURCE_BROKER_LOGGER) {
    checkBrokerName(resource.resourceName, ctx);
    refuseBrokerConfigs(resource.configs.map((c) => c.name));
    return;
  }
  if (resource.resourceType !== RESOURCE_TOPIC) {
    throw new BrokerError(
      'INVALID_REQUEST',
      `IncrementalAlterConfigs does not take resource type ${resource.resourceType}`,
    );
  }
  const topic = resource.resourceName;
  const current = await ctx.engine.topicConfigOverrides(topic);
  const changes: TopicConfigChanges = {};
  for (const { name, configOperation, value } of resource.configs) {
    switch (configOperation) {
      case OP_SET:
        if (value === null) throw new BrokerError('INVALID_CONFIG', `SET '${name}' needs a value, not null`);
        setOwn(changes, name, value);
        break;
      case OP_DELETE:
        // Nothing to remove when the topic does not override it (Kafka's no-op, also for an unknown name).
        if (Object.hasOwn(current, name)) setOwn(changes, name, null);
        break;
      default:
        throw new BrokerError(
          'INVALID_CONFIG',
          `${configOperation === OP_APPEND ? 'APPEND' : 'SUBTRACT'} applies to list settings, and '${name}' is not one`,
        );
    }
  }
  await applyTopicOverrides(ctx, topic, changes, validateOnly);
}
