/**
 * @module
 * DescribeConfigs (API key 32), versions 0–4 (flexible from 4): the settings of topics (every one Freshet
 * has, as the broker applies them) and of the broker (none are exposed).
 *
 * Message shape (versions served):
 *   request   resources [resourceType int8 (2 topic, 4 broker, 8 broker logger), resourceName,
 *             configurationKeys [string] | null (all)], includeSynonyms (v1+), includeDocumentation (v3+)
 *   response  throttleTimeMs, results [errorCode, errorMessage, resourceType, resourceName,
 *             configs [name, value, readOnly, isDefault (v0), configSource (v1+), isSensitive,
 *             synonyms [name, value, source] (v1+), configType (v3+), documentation (v3+)]]
 *
 * A topic setting is DYNAMIC_TOPIC_CONFIG when the topic overrides it (set at creation or by
 * AlterConfigs) and DEFAULT_CONFIG otherwise: the engine keeps the overrides apart from the broker's
 * defaults but does not say whether a default came from a flag or from Freshet's built-in value, so
 * STATIC_BROKER_CONFIG is never reported. Synonyms list only the setting itself (Freshet has no broker-level
 * `log.*` synonyms to show). Nothing is read-only or sensitive. Kafka's Long.MAX_VALUE ("never", which
 * Freshet holds as Number.MAX_SAFE_INTEGER) is shown as Kafka shows it.
 *
 * Broker resources (this broker's id, or "" for the cluster default) and broker loggers answer an empty
 * list: Freshet's broker settings are startup flags, not Kafka configs. Another broker id, or another
 * resource type, is INVALID_REQUEST, as Kafka answers.
 */
import { LOG_SETTINGS } from '../../config/topic-config.ts';
import type { Engine, TopicConfigEntries } from '../../ipc/engine.ts';
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi, type KafkaContext } from '../api.ts';
import type { DescribeConfigsRequest, DescribeConfigsResponse } from '../generated/messages.ts';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;
export const RESOURCE_BROKER_LOGGER = 8;

/** Kafka's ConfigSource codes. */
export const CONFIG_SOURCE = { DYNAMIC_TOPIC_CONFIG: 1, DEFAULT_CONFIG: 5 } as const;

/** Kafka's ConfigType codes. */
const CONFIG_TYPE = { STRING: 2, INT: 3, LONG: 5 } as const;

const KAFKA_LONG_MAX = '9223372036854775807';

/** Settings Kafka types as int (the others that are numbers are longs). */
const INT_SETTINGS = new Set([
  'segment.bytes',
  'index.interval.bytes',
  'max.message.bytes',
  'min.insync.replicas',
]);

const DOCUMENTATION: ReadonlyMap<string, string> = new Map(LOG_SETTINGS.map((s) => [s.name, s.help]));

/** One topic setting as the describe answers show it. */
export interface ConfigEntry {
  name: string;
  value: string;
  /** Whether the topic overrides the broker default. */
  overridden: boolean;
  configType: number;
}

/** A setting's value as Kafka writes it: a string, with "never" as Long.MAX_VALUE. */
export function kafkaConfigValue(value: string | number): string {
  return value === Number.MAX_SAFE_INTEGER ? KAFKA_LONG_MAX : String(value);
}

/** Every setting of a topic (`config`: its effective settings) with whether `overrides` sets it. */
export function configEntries(config: TopicConfigEntries, overrides: TopicConfigEntries): ConfigEntry[] {
  return Object.entries(config).map(([name, value]) => ({
    name,
    value: kafkaConfigValue(value),
    overridden: Object.hasOwn(overrides, name),
    configType:
      typeof value !== 'number'
        ? CONFIG_TYPE.STRING
        : INT_SETTINGS.has(name)
          ? CONFIG_TYPE.INT
          : CONFIG_TYPE.LONG,
  }));
}

export const describeConfigsApi: KafkaApi<32> = {
  apiKey: 32,
  minVersion: 0,
  maxVersion: 4,
  async handle(request, version, ctx) {
    const results = await Promise.all(
      request.resources.map(async (resource): Promise<DescribeConfigsResponse.DescribeConfigsResult> => {
        const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
        try {
          const configs = await describe(resource, request, version, ctx);
          return { ...base, errorCode: 0, errorMessage: null, configs };
        } catch (err) {
          return { ...base, errorCode: errorCode(err), errorMessage: errorMessage(err), configs: [] };
        }
      }),
    );
    return { throttleTimeMs: 0, results };
  },
};

async function describe(
  resource: DescribeConfigsRequest.DescribeConfigsResource,
  request: DescribeConfigsRequest,
  version: number,
  ctx: KafkaContext,
): Promise<DescribeConfigsResponse.DescribeConfigsResourceResult[]> {
  switch (resource.resourceType) {
    case RESOURCE_TOPIC:
      return describeTopic(ctx.engine, resource, request, version);
    case RESOURCE_BROKER:
    case RESOURCE_BROKER_LOGGER:
      checkBrokerName(resource.resourceName, ctx);
      return [];
    default:
      throw new BrokerError('INVALID_REQUEST', `unsupported resource type ${resource.resourceType}`);
  }
}

/** A broker resource names this broker's id, or "" for the cluster-wide default. */
export function checkBrokerName(name: string, ctx: KafkaContext): void {
  if (name !== '' && name !== String(ctx.config.nodeId)) {
    throw new BrokerError(
      'INVALID_REQUEST',
      `unexpected broker id '${name}': this is broker ${ctx.config.nodeId} (or '' for the default)`,
    );
  }
}

async function describeTopic(
  engine: Engine,
  resource: DescribeConfigsRequest.DescribeConfigsResource,
  request: DescribeConfigsRequest,
  version: number,
): Promise<DescribeConfigsResponse.DescribeConfigsResourceResult[]> {
  const [description, overrides] = await Promise.all([
    engine.describeTopic(resource.resourceName),
    engine.topicConfigOverrides(resource.resourceName),
  ]);
  const keys = resource.configurationKeys === null ? null : new Set(resource.configurationKeys);
  return configEntries(description.config, overrides)
    .filter((e) => keys === null || keys.has(e.name))
    .map((e) => {
      const source = e.overridden ? CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG : CONFIG_SOURCE.DEFAULT_CONFIG;
      return {
        name: e.name,
        value: e.value,
        readOnly: false,
        isDefault: version === 0 ? !e.overridden : undefined,
        configSource: source,
        isSensitive: false,
        synonyms: request.includeSynonyms ? [{ name: e.name, value: e.value, source }] : [],
        configType: version >= 3 ? e.configType : undefined,
        documentation: request.includeDocumentation ? (DOCUMENTATION.get(e.name) ?? null) : null,
      };
    });
}
