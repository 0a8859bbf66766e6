/**
 * @module
 * Metadata (key 3), versions 0-12: the cluster as a client must see it to route requests. Freshet is one
 * broker, so there is one node (`nodeId`, the advertised host and port, no rack), it is the controller
 * (kafkajs and kafka-python send CreateTopics/DeleteTopics and InitProducerId there), and it leads every
 * partition with replicas = isr = [nodeId], no offline replicas and leader epoch 0.
 *
 * Request  topics [name] (v10+: [topic_id uuid, name nullable]); null = every topic (v1+), empty = none,
 *          except in v0 where empty means every topic;
 *          allow_auto_topic_creation (v4+), include_cluster_authorized_operations (v8-10),
 *          include_topic_authorized_operations (v8+)
 * Response throttle_time_ms (v3+), brokers [node_id, host, port, rack (v1+)], cluster_id (v2+),
 *          controller_id (v1+), topics [error_code, name, topic_id (v10+), is_internal (v1+),
 *          partitions [error_code, partition_index, leader_id, leader_epoch (v7+), replica_nodes,
 *          isr_nodes, offline_replicas (v5+)], topic_authorized_operations (v8+)],
 *          cluster_authorized_operations (v8-10). Flexible from v9.
 *
 * A requested topic that does not exist is created when auto-creation applies: always before v4 (Kafka's
 * rule), from v4 when the client sets allow_auto_topic_creation; and only if the broker allows it
 * (`--auto-create-topics`, checked by `engine.partitionsForProduce`). Otherwise it is answered with
 * UNKNOWN_TOPIC_OR_PARTITION; a name Kafka would not accept with INVALID_TOPIC_EXCEPTION.
 *
 * Topic ids (v10+): every topic carries the id the broker gave it at creation (the engine's `topicId`); a
 * topic that could not be described carries the zero UUID, as in Kafka. A topic asked for by id (name null)
 * is looked up by that id (`engine.topicName`) and never auto-created; an id no topic has is answered
 * UNKNOWN_TOPIC_ID, with a null name from v12 (before v12 the name may not be null: ''). Kafka itself takes
 * ids in requests only from v12; Freshet accepts them from v10, where the schema first has them.
 * Authorized operations: Kafka's "not requested" value (-2147483648), as there are no ACLs.
 */
import { validateTopicName } from '../../config/topic-config.ts';
import { ERRORS } from '../../shared/errors.ts';
import type { KafkaApi, KafkaContext } from '../api.ts';
import { errorCode } from '../api.ts';
import { ZERO_UUID } from '../codec/index.ts';
import type { MetadataResponse } from '../generated/messages.ts';

export const METADATA_KEY = 3;
/** Kafka's INT32_MIN: authorized operations were not asked for (and there are no ACLs to report). */
const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
/** The first version with allow_auto_topic_creation; before it Kafka always auto-creates (if enabled). */
const ALLOW_AUTO_CREATE_VERSION = 4;
/** The first version whose response may carry a null topic name. */
const NULLABLE_NAME_VERSION = 12;

type TopicEntry = MetadataResponse.MetadataResponseTopic;

export const metadataApi: KafkaApi<3> = {
  apiKey: METADATA_KEY,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, version, ctx) {
    const { config } = ctx;
    const requested = request.topics;
    const everyTopic = requested === null || (version === 0 && requested.length === 0);
    const topics = everyTopic
      ? (await ctx.engine.listTopics()).map((t) => topicEntry(t.name, t.partitions, ctx))
      : await requestedTopics(requested, version, request.allowAutoTopicCreation !== false, ctx);
    return {
      throttleTimeMs: 0,
      brokers: [
        { nodeId: config.nodeId, host: config.advertisedHost, port: config.advertisedPort, rack: null },
      ],
      clusterId: config.clusterId,
      controllerId: config.nodeId,
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
};

async function requestedTopics(
  requested: ReadonlyArray<{ name: string | null; topicId?: string }>,
  version: number,
  allowAutoTopicCreation: boolean,
  ctx: KafkaContext,
): Promise<TopicEntry[]> {
  const autoCreate = version < ALLOW_AUTO_CREATE_VERSION || allowAutoTopicCreation;
  const known = new Map((await ctx.engine.listTopics()).map((t) => [t.name, t.partitions]));
  // A topic asked for twice (by name or by id) is answered once, as Kafka does.
  const seen = new Set<string>();
  const entries: Array<Promise<TopicEntry>> = [];
  for (const topic of requested) {
    if (topic.name === null) {
      const topicId = topic.topicId ?? ZERO_UUID;
      const name = ctx.engine.topicName(topicId);
      const partitions = name === undefined ? undefined : known.get(name);
      if (name === undefined || partitions === undefined) {
        entries.push(Promise.resolve(unknownTopicId(topicId, version)));
        continue;
      }
      if (seen.has(name)) continue;
      seen.add(name);
      entries.push(Promise.resolve(topicEntry(name, partitions, ctx)));
      continue;
    }
    if (seen.has(topic.name)) continue;
    seen.add(topic.name);
    entries.push(describeTopic(topic.name, known.get(topic.name), autoCreate, ctx));
  }
  return Promise.all(entries);
}

async function describeTopic(
  name: string,
  partitions: number | undefined,
  autoCreate: boolean,
  ctx: KafkaContext,
): Promise<TopicEntry> {
  if (partitions !== undefined) return topicEntry(name, partitions, ctx);
  try {
    validateTopicName(name);
    if (!autoCreate) return failedTopic(name, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
    // Creates it with the default partition count if the broker allows auto-creation, else throws.
    return topicEntry(name, await ctx.engine.partitionsForProduce(name), ctx);
  } catch (err) {
    return failedTopic(name, errorCode(err));
  }
}

function topicEntry(name: string, partitions: number, ctx: KafkaContext): TopicEntry {
  const { nodeId } = ctx.config;
  return {
    errorCode: 0,
    name,
    // The zero UUID only if the topic went away since it was listed.
    topicId: ctx.engine.topicId(name) ?? ZERO_UUID,
    isInternal: false,
    partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
      errorCode: 0,
      partitionIndex,
      leaderId: nodeId,
      leaderEpoch: 0,
      replicaNodes: [nodeId],
      isrNodes: [nodeId],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

function failedTopic(name: string, code: number): TopicEntry {
  return {
    errorCode: code,
    name,
    topicId: ZERO_UUID,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

/** A topic asked for by an id no topic has. */
function unknownTopicId(topicId: string, version: number): TopicEntry {
  return {
    errorCode: ERRORS.UNKNOWN_TOPIC_ID.code,
    // Before v12 the response's name may not be null.
    name: version >= NULLABLE_NAME_VERSION ? null : '',
    topicId,
    isInternal: false,
    partitions: [],
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}
