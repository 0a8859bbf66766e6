/**
 * @module
 * Metadata (key 3), versions 0-12: the cluster as a client must see it to route requests.
 *
 * Brokers: a single broker (`engine.brokers()` null) is one node, named from the door's config (`nodeId`,
 * the advertised host and port, no rack), which leads every partition with replicas = isr = [nodeId], no
 * offline replicas and leader epoch 0. In a cluster the brokers are the live brokers that have a Kafka
 * listener, by node id, and each partition is as `engine.describeTopic` states it: its leader and leader
 * epoch, replicas and in-sync replicas; offline replicas are the replicas not among the live brokers. A
 * partition whose leader is -1 (none elected), not live, or live without a Kafka listener is answered
 * LEADER_NOT_AVAILABLE with leader -1 (Kafka answers LISTENER_NOT_FOUND for the last from v6; Freshet's
 * catalogue has no such code, and both make the client refresh and retry), its epoch, replicas and isr
 * still listed. controller_id is the cluster's controller (elected through etcd) when it has a Kafka
 * listener, else this broker: kafkajs and kafka-python send CreateTopics/DeleteTopics there, and every
 * broker serves those (topic changes go through etcd whichever broker is asked).
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
 *
 * `kafkaBrokers` and `currentLeaders` also serve DescribeCluster, and Fetch and Produce (KIP-951: the
 * current leader of a partition the broker refused as not its leader).
 */
import { validateTopicName } from '../../config/topic-config.ts';
import type { PartitionState } from '../../ipc/engine.ts';
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
type PartitionEntry = MetadataResponse.MetadataResponsePartition;

/** A broker as Kafka clients connect to it (Metadata, DescribeCluster, KIP-951's node endpoints). */
export interface KafkaBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** The cluster as this door tells clients about it. */
interface ClusterView {
  /** The brokers clients can connect to, by node id. */
  brokers: KafkaBroker[];
  /** Node ids of the live brokers, with a Kafka listener or not; null for a single broker. */
  live: ReadonlySet<number> | null;
}

function clusterView(ctx: KafkaContext): ClusterView {
  const { nodeId, advertisedHost, advertisedPort } = ctx.config;
  const self: KafkaBroker = { nodeId, host: advertisedHost, port: advertisedPort, rack: null };
  const cluster = ctx.engine.brokers();
  if (cluster === null) return { brokers: [self], live: null };
  const brokers = cluster
    .flatMap(({ nodeId, host, kafkaPort, rack }) =>
      kafkaPort === null ? [] : [{ nodeId, host, port: kafkaPort, rack }],
    )
    .sort((a, b) => a.nodeId - b.nodeId);
  // A broker that has not joined its cluster yet knows no live broker: it lists itself, so clients keep a
  // broker to ask again (an empty list leaves them nowhere to go).
  return { brokers: brokers.length > 0 ? brokers : [self], live: new Set(cluster.map((b) => b.nodeId)) };
}

/** The brokers clients can connect to: the live brokers with a Kafka listener, or this single broker. */
export function kafkaBrokers(ctx: KafkaContext): KafkaBroker[] {
  return clusterView(ctx).brokers;
}

/** A partition's current leader as KIP-951 hands it out; -1 for what is not known. */
export interface LeaderHint {
  leaderId: number;
  leaderEpoch: number;
}

const UNKNOWN_LEADER: LeaderHint = { leaderId: -1, leaderEpoch: -1 };

/**
 * The current leaders of partitions this broker refused as not their leader (Fetch v12+ and Produce v10+,
 * KIP-951), in the order given, and the Kafka endpoints of those leaders. Best effort, from
 * `engine.describeTopic`: -1/-1 when the topic cannot be described or the partition's leader is not
 * known. A single broker knows no other leader (it refuses only while shutting down): always -1/-1 and no
 * endpoints, so the client refreshes its metadata.
 */
export async function currentLeaders(
  ctx: KafkaContext,
  partitions: ReadonlyArray<{ topic: string; partition: number }>,
): Promise<{ leaders: LeaderHint[]; nodeEndpoints: KafkaBroker[] }> {
  const view = clusterView(ctx);
  if (view.live === null || partitions.length === 0) {
    return { leaders: partitions.map(() => UNKNOWN_LEADER), nodeEndpoints: [] };
  }
  const names = [...new Set(partitions.map((p) => p.topic))];
  const described = new Map(
    await Promise.all(
      names.map(async (name) => {
        const states = await ctx.engine.describeTopic(name).then(
          (d) => d.partitions,
          (): PartitionState[] => [],
        );
        return [name, states] as const;
      }),
    ),
  );
  const leaders = partitions.map(({ topic, partition }): LeaderHint => {
    const state = described.get(topic)?.find((s) => s.partition === partition);
    if (state?.leader === undefined) return UNKNOWN_LEADER;
    return { leaderId: state.leader, leaderEpoch: state.leaderEpoch ?? -1 };
  });
  const ids = new Set(leaders.map((l) => l.leaderId));
  return { leaders, nodeEndpoints: view.brokers.filter((b) => ids.has(b.nodeId)) };
}

export const metadataApi: KafkaApi<3> = {
  apiKey: METADATA_KEY,
  minVersion: 0,
  maxVersion: 12,
  async handle(request, version, ctx) {
    const { config } = ctx;
    const view = clusterView(ctx);
    const requested = request.topics;
    const everyTopic = requested === null || (version === 0 && requested.length === 0);
    const topics = everyTopic
      ? await everyTopicEntry(ctx, view)
      : await requestedTopics(requested, version, request.allowAutoTopicCreation !== false, ctx, view);
    return {
      throttleTimeMs: 0,
      brokers: view.brokers,
      clusterId: config.clusterId,
      controllerId: ctx.engine.controllerId() ?? config.nodeId,
      topics,
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
    };
  },
};

async function everyTopicEntry(ctx: KafkaContext, view: ClusterView): Promise<TopicEntry[]> {
  const entries = await Promise.all(
    (await ctx.engine.listTopics()).map((t) => topicEntry(t.name, t.partitions, ctx, view)),
  );
  // A topic deleted since it was listed is not listed.
  return entries.filter((t) => t.errorCode !== ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
}

async function requestedTopics(
  requested: ReadonlyArray<{ name: string | null; topicId?: string }>,
  version: number,
  allowAutoTopicCreation: boolean,
  ctx: KafkaContext,
  view: ClusterView,
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
      entries.push(topicEntry(name, partitions, ctx, view));
      continue;
    }
    if (seen.has(topic.name)) continue;
    seen.add(topic.name);
    entries.push(describeTopic(topic.name, known.get(topic.name), autoCreate, ctx, view));
  }
  return Promise.all(entries);
}

async function describeTopic(
  name: string,
  partitions: number | undefined,
  autoCreate: boolean,
  ctx: KafkaContext,
  view: ClusterView,
): Promise<TopicEntry> {
  if (partitions !== undefined) return topicEntry(name, partitions, ctx, view);
  try {
    validateTopicName(name);
    if (!autoCreate) return failedTopic(name, ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code);
    // Creates it with the default partition count if the broker allows auto-creation, else throws.
    return topicEntry(name, await ctx.engine.partitionsForProduce(name), ctx, view);
  } catch (err) {
    return failedTopic(name, errorCode(err));
  }
}

/**
 * A topic's entry. A single broker answers from the partition count alone: it leads every partition, so
 * the partitions' states (which would cost a round trip to each worker) add nothing. In a cluster the
 * partitions are as `engine.describeTopic` states them; a topic it cannot describe is answered with its
 * error.
 */
async function topicEntry(
  name: string,
  partitions: number,
  ctx: KafkaContext,
  view: ClusterView,
): Promise<TopicEntry> {
  let states: Array<Replication>;
  if (view.live === null) {
    states = Array.from({ length: partitions }, (_, partition) => ({ partition }));
  } else {
    try {
      states = (await ctx.engine.describeTopic(name)).partitions;
    } catch (err) {
      return failedTopic(name, errorCode(err));
    }
  }
  return {
    errorCode: 0,
    name,
    // The zero UUID only if the topic went away since it was listed.
    topicId: ctx.engine.topicId(name) ?? ZERO_UUID,
    isInternal: false,
    partitions: states.map((state) => partitionEntry(state, ctx.config.nodeId, view)),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  };
}

/** What a partition entry is made of; without the replication fields, this node leads alone (epoch 0). */
type Replication = Pick<PartitionState, 'partition' | 'leader' | 'leaderEpoch' | 'replicas' | 'isr'>;

function partitionEntry(s: Replication, nodeId: number, view: ClusterView): PartitionEntry {
  const leader = s.leader ?? nodeId;
  const replicas = s.replicas ?? [nodeId];
  const { live } = view;
  // Clients can only go to a leader they have an endpoint for.
  const reachable = leader >= 0 && (live === null || view.brokers.some((b) => b.nodeId === leader));
  return {
    errorCode: reachable ? 0 : ERRORS.LEADER_NOT_AVAILABLE.code,
    partitionIndex: s.partition,
    leaderId: reachable ? leader : -1,
    leaderEpoch: s.leaderEpoch ?? 0,
    replicaNodes: replicas,
    isrNodes: s.isr ?? [nodeId],
    offlineReplicas: live === null ? [] : replicas.filter((r) => !live.has(r)),
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
