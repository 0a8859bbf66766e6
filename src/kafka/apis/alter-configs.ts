/**
 * @module
 * AlterConfigs (API key 33), versions 0–2 (flexible from 2): replaces a topic's config overrides.
 *
 * Message shape (versions served):
 *   request   resources [resourceType int8, resourceName, configs [name, value | null]], validateOnly
 *   response  throttleTimeMs, responses [errorCode, errorMessage, resourceType, resourceName]
 *
 * Kafka's semantics: the configs given become the topic's whole set of overrides; every override left out
 * (or given a null value, which Kafka drops) goes back to the broker default. So the engine is asked to set
 * every non-null config given and to remove (null) every current override the request does not set.
 * Unknown settings and bad values are INVALID_CONFIG (the engine's check), checked before anything changes:
 * a refused resource keeps its overrides. validateOnly checks the same and changes nothing.
 *
 * Broker resources: Freshet's broker settings are startup flags, so setting one is INVALID_CONFIG (an empty
 * list is a no-op). Broker loggers and other resource types are INVALID_REQUEST, as in Kafka, whose
 * AlterConfigs does not take loggers.
 */
import { DEFAULT_LOG_CONFIG } from '../../config/log-config.ts';
import { applyTopicConfigChanges } from '../../config/topic-config.ts';
import type { TopicConfigChanges } from '../../ipc/engine.ts';
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi, type KafkaContext } from '../api.ts';
import type { AlterConfigsRequest, AlterConfigsResponse } from '../generated/messages.ts';
import { checkBrokerName, RESOURCE_BROKER, RESOURCE_TOPIC } from './describe-configs.ts';

export const alterConfigsApi: KafkaApi<33> = {
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, _version, ctx) {
    const responses = await Promise.all(
      request.resources.map(async (resource): Promise<AlterConfigsResponse.AlterConfigsResourceResponse> => {
        const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
        try {
          await alter(resource, request.validateOnly, ctx);
          return { ...base, errorCode: 0, errorMessage: null };
        } catch (err) {
          return { ...base, errorCode: errorCode(err), errorMessage: errorMessage(err) };
        }
      }),
    );
    return { throttleTimeMs: 0, responses };
  },
};

async function alter(
  resource: AlterConfigsRequest.AlterConfigsResource,
  validateOnly: boolean,
  ctx: KafkaContext,
): Promise<void> {
  if (resource.resourceType === RESOURCE_BROKER) {
    checkBrokerName(resource.resourceName, ctx);
    refuseBrokerConfigs(resource.configs.map((c) => c.name));
    return;
  }
  if (resource.resourceType !== RESOURCE_TOPIC) {
    throw new BrokerError(
      'INVALID_REQUEST',
      `AlterConfigs does not take resource type ${resource.resourceType}`,
    );
  }
  const topic = resource.resourceName;
  checkUniqueNames(resource.configs.map((c) => c.name));
  const changes: TopicConfigChanges = {};
  for (const { name, value } of resource.configs) if (value !== null) setOwn(changes, name, value);
  const current = await ctx.engine.topicConfigOverrides(topic);
  for (const name of Object.keys(current)) if (!Object.hasOwn(changes, name)) setOwn(changes, name, null);
  await applyTopicOverrides(ctx, topic, changes, validateOnly);
}

/**
 * Validates `changes` (names, and the values of those set) and, unless validateOnly, applies them to the
 * topic's overrides: a value sets one, null removes one.
 */
export async function applyTopicOverrides(
  ctx: KafkaContext,
  topic: string,
  changes: TopicConfigChanges,
  validateOnly: boolean,
): Promise<void> {
  applyTopicConfigChanges({}, changes, DEFAULT_LOG_CONFIG);
  if (validateOnly || Object.keys(changes).length === 0) return;
  await ctx.engine.alterTopicConfig(topic, changes);
}

/** Freshet's broker settings are startup flags: none can be changed at run time. */
export function refuseBrokerConfigs(names: string[]): void {
  if (names.length === 0) return;
  throw new BrokerError(
    'INVALID_CONFIG',
    `cannot update ${names.join(', ')}: Freshet's broker settings are startup flags, not dynamic configs`,
  );
}

/** Kafka refuses a request that names a setting twice for one resource. */
export function checkUniqueNames(names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new BrokerError('INVALID_REQUEST', `config '${name}' is given more than once`);
    seen.add(name);
  }
}

/** Sets an own property, so a '__proto__' name stays a (refused) config name, not a prototype. */
export function setOwn(entries: TopicConfigChanges, name: string, value: string | null): void {
  Object.defineProperty(entries, name, { value, enumerable: true, writable: true, configurable: true });
}
