/**
 * @module
 * CreateTopics (API key 19), versions 0–7 (flexible from 5).
 *
 * Message shape (versions served):
 *   request   topics [name, numPartitions int32 (-1: default), replicationFactor int16 (-1: default),
 *             assignments [partitionIndex, brokerIds [int32]], configs [name, value]], timeoutMs,
 *             validateOnly (v1+)
 *   response  throttleTimeMs (v2+), topics [name, topicId (v7+), errorCode, errorMessage (v1+),
 *             topicConfigErrorCode (tagged, v5+), numPartitions (v5+), replicationFactor (v5+),
 *             configs [name, value, readOnly, configSource, isSensitive] (v5+)]
 *
 * replicationFactor goes to the engine, which decides what it accepts (a single broker: 1 only; a cluster:
 * up to its live broker count), else INVALID_REPLICATION_FACTOR; -1 asks for the default. The answer's
 * replicationFactor is the replica count of the created topic's partition 0 (1 where the engine reports
 * no replicas: a single broker). Freshet places partitions itself, so a manual assignment is INVALID_REQUEST.
 * Configs are topic configs by Kafka name; unknown names and bad values are INVALID_CONFIG (the engine's
 * check, `src/config/topic-config.ts`); a null value is INVALID_CONFIG as in Kafka. A topic listed twice
 * is INVALID_REQUEST for each listing. validateOnly runs the same checks and creates nothing; its v5+
 * answer lists only the requested overrides as configs, and -1 partitions when numPartitions is -1: the
 * broker's default settings and count (startup flags) are not known to this door until a topic exists.
 * The engine has no dry run for the replication factor, so validateOnly accepts -1 or 1 up to the number
 * of live brokers (1 for a single broker), and answers -1 for a cluster's default factor.
 * Creation is complete when the engine answers, so timeoutMs is not needed. v7 answers the new topic's id
 * (given by the broker at creation); the zero uuid when nothing was created (an error, or validateOnly).
 */
import { DEFAULT_LOG_CONFIG } from '../../config/log-config.ts';
import { parseTopicConfig, validateTopicName } from '../../config/topic-config.ts';
import type { TopicConfigEntries } from '../../ipc/engine.ts';
import { BrokerError } from '../../shared/errors.ts';
import { errorCode, errorMessage, type KafkaApi, type KafkaContext } from '../api.ts';
import { ZERO_UUID } from '../codec/index.ts';
import type { CreateTopicsRequest, CreateTopicsResponse } from '../generated/messages.ts';
import { setOwn } from './alter-configs.ts';
import { CONFIG_SOURCE, configEntries } from './describe-configs.ts';

/**
 * The topic registry's MAX_PARTITIONS_PER_TOPIC (src/coordinator, which src/kafka may not import; a test
 * keeps the two equal). Used by validateOnly, which must refuse what creation would.
 */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;
/** The coordinator's topic of committed offsets (`OFFSETS_TOPIC`; same test). */
export const OFFSETS_TOPIC = '__consumer_offsets';

type TopicResult = CreateTopicsResponse.CreatableTopicResult;

export const createTopicsApi: KafkaApi<19> = {
  apiKey: 19,
  minVersion: 0,
  maxVersion: 7,
  async handle(request, version, ctx) {
    const counts = new Map<string, number>();
    for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const validateOnly = request.validateOnly ?? false;
    const topics = await Promise.all(
      request.topics.map(async (topic): Promise<TopicResult> => {
        const base = { name: topic.name, topicId: version >= 7 ? ZERO_UUID : undefined };
        try {
          if ((counts.get(topic.name) ?? 0) > 1) {
            throw new BrokerError('INVALID_REQUEST', `topic '${topic.name}' is listed more than once`);
          }
          return { ...base, ...(await create(topic, validateOnly, version, ctx)) };
        } catch (err) {
          return {
            ...base,
            errorCode: errorCode(err),
            errorMessage: errorMessage(err),
            ...(version >= 5 ? { numPartitions: -1, replicationFactor: -1, configs: null } : {}),
          };
        }
      }),
    );
    return { throttleTimeMs: 0, topics };
  },
};

async function create(
  topic: CreateTopicsRequest.CreatableTopic,
  validateOnly: boolean,
  version: number,
  ctx: KafkaContext,
): Promise<Omit<TopicResult, 'name'>> {
  if (topic.replicationFactor !== -1 && topic.replicationFactor < 1) {
    throw new BrokerError(
      'INVALID_REPLICATION_FACTOR',
      `replication factor must be at least 1, or -1 for the default, not ${topic.replicationFactor}`,
    );
  }
  if (topic.numPartitions !== -1 && topic.numPartitions < 1) {
    throw new BrokerError(
      'INVALID_PARTITIONS',
      `number of partitions must be at least 1, or -1 for the default, not ${topic.numPartitions}`,
    );
  }
  if (topic.assignments.length > 0) {
    throw new BrokerError(
      'INVALID_REQUEST',
      'manual partition assignment is not supported: Freshet places partitions itself',
    );
  }
  const config: TopicConfigEntries = {};
  for (const { name, value } of topic.configs) {
    if (value === null) throw new BrokerError('INVALID_CONFIG', `null value for topic config '${name}'`);
    setOwn(config, name, value);
  }
  const partitions = topic.numPartitions === -1 ? undefined : topic.numPartitions;
  const replicationFactor = topic.replicationFactor === -1 ? undefined : topic.replicationFactor;
  if (validateOnly) {
    const brokers = ctx.engine.brokers();
    await validate(topic.name, partitions, replicationFactor, brokers?.length ?? 1, config, ctx);
    return {
      errorCode: 0,
      errorMessage: null,
      ...(version >= 5
        ? {
            numPartitions: partitions ?? -1,
            // A single broker's default is its one replica; a cluster's is not known to this door.
            replicationFactor: replicationFactor ?? (brokers === null ? 1 : -1),
            configs: describeCreated(config, config),
          }
        : {}),
    };
  }
  const description = await ctx.engine.createTopic(topic.name, partitions, config, replicationFactor);
  return {
    topicId: version >= 7 ? description.topicId : undefined,
    errorCode: 0,
    errorMessage: null,
    ...(version >= 5
      ? {
          numPartitions: description.partitions.length,
          replicationFactor: description.partitions[0]?.replicas?.length ?? 1,
          configs: describeCreated(description.config, config),
        }
      : {}),
  };
}

/** What creating would refuse, without creating: the engine's and topic registry's checks, in their order. */
async function validate(
  name: string,
  partitions: number | undefined,
  replicationFactor: number | undefined,
  liveBrokers: number,
  config: TopicConfigEntries,
  ctx: KafkaContext,
): Promise<void> {
  // A single broker's engine checks the replication factor first.
  if (replicationFactor !== undefined && replicationFactor > liveBrokers) {
    throw new BrokerError(
      'INVALID_REPLICATION_FACTOR',
      `replication factor ${replicationFactor} is larger than the ${liveBrokers} live broker(s)`,
    );
  }
  validateTopicName(name);
  if (name === OFFSETS_TOPIC) {
    throw new BrokerError(
      'INVALID_TOPIC_EXCEPTION',
      `'${OFFSETS_TOPIC}' is the broker's internal topic of committed offsets; pick another name`,
    );
  }
  if ((await ctx.engine.listTopics()).some((t) => t.name === name)) {
    throw new BrokerError('TOPIC_ALREADY_EXISTS', `topic '${name}' already exists`);
  }
  if (partitions !== undefined && (!Number.isInteger(partitions) || partitions > MAX_PARTITIONS_PER_TOPIC)) {
    throw new BrokerError(
      'INVALID_PARTITIONS',
      `partition count must be an integer from 1 to ${MAX_PARTITIONS_PER_TOPIC}, not ${partitions}`,
    );
  }
  parseTopicConfig(config, DEFAULT_LOG_CONFIG);
}

function describeCreated(
  effective: TopicConfigEntries,
  overrides: TopicConfigEntries,
): CreateTopicsResponse.CreatableTopicConfigs[] {
  return configEntries(effective, overrides).map((e) => ({
    name: e.name,
    value: e.value,
    readOnly: false,
    configSource: e.overridden ? CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG : CONFIG_SOURCE.DEFAULT_CONFIG,
    isSensitive: false,
  }));
}
