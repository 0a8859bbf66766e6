/**
 * @module
 * The engine behind both front doors: what the HTTP API (and later the Kafka protocol) asks of the broker.
 * `ThreadedEngine` (threaded-engine.ts) routes each call to the worker that owns the partition or to the
 * coordinator worker; `LocalEngine` (local-engine.ts) does the same work on one thread (in-process tests,
 * embedding). Errors are BrokerErrors with Kafka error names.
 */
import type { GroupApi, GroupDescription, GroupState } from '../coordinator/group-api.ts';
import type { DecodedRecord } from '../records/record-batch.ts';
import type { LogSlice } from '../storage/partition-log.ts';

/** Topic configs by their Kafka names (`retention.ms`, `segment.bytes`, `flush.policy`, ...). */
export type TopicConfigEntries = Record<string, string | number>;

/**
 * Changes to a topic's config overrides, by Kafka name: a value sets (or replaces) that override, `null`
 * removes it, so the setting goes back to the broker default. Settings not named are left as they are.
 */
export type TopicConfigChanges = Record<string, string | number | null>;

export interface PartitionState {
  partition: number;
  logStartOffset: number;
  /**
   * Offset after the last record consumers may read: single broker, the log end offset; in a cluster, the
   * smallest log end offset over the in-sync replicas, as the leader knows it.
   */
  highWatermark: number;
  /** Index of the partition worker that owns it (on the broker that answered). */
  worker: number;
  /**
   * Replication, in a cluster only (absent on a single broker, which leads every partition alone): the
   * leader's node id (-1 while none is elected), its epoch, the assigned replicas (preferred leader first)
   * and the in-sync replicas.
   */
  leader?: number;
  leaderEpoch?: number;
  replicas?: number[];
  isr?: number[];
  /** While a reassignment is in progress: the replicas the partition is moving to. */
  targetReplicas?: number[];
}

/** A broker of the cluster, as Kafka's Metadata lists brokers. */
export interface BrokerInfo {
  nodeId: number;
  host: string;
  httpPort: number;
  /** null when the broker runs without a Kafka listener. */
  kafkaPort: number | null;
  rack: string | null;
}

export interface TopicDescription {
  name: string;
  /**
   * Kafka's topic id, given at creation and never reused (src/coordinator/topic-id.ts): a lowercase
   * `8-4-4-4-12` hex UUID, the form the Kafka codec puts on the wire as 16 bytes.
   */
  topicId: string;
  partitions: PartitionState[];
  /** The topic's overrides merged over the broker defaults, every setting listed. */
  config: TopicConfigEntries;
}

export interface TopicSummary {
  name: string;
  partitions: number;
}

/** -1 is acks=all. With one broker acks=1 and acks=all wait for the same thing: the append per the flush policy. */
export type Acks = 0 | 1 | -1;

export interface ProduceRequest {
  topic: string;
  partition: number;
  /** One or more RecordBatch v2, as a client built them. The engine may rewrite them (baseOffset). */
  batches: Uint8Array;
  acks: Acks;
  /**
   * Called once the leader has appended the batches at `baseOffset`, when acks=all then waits for the
   * in-sync replicas (in a cluster; a single broker answers right after its append and never calls it).
   */
  onAppended?: (baseOffset: number) => void;
}

export interface ProduceResult {
  baseOffset: number;
  lastOffset: number;
  recordCount: number;
  /** The partition's logStartOffset right after the append (Kafka's produce response reports it). */
  logStartOffset: number;
}

export interface DeleteRecordsResult {
  /** The partition's logStartOffset after the deletion (Kafka's low watermark). */
  lowWatermark: number;
}

export interface FetchRequest {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
  /** Long-poll: wait up to this long for `minBytes` to be available (0: answer at once). */
  maxWaitMs: number;
  minBytes: number;
  /**
   * Exclusive upper bound: only batches that end below it (a replicated partition's high watermark, set
   * by the cluster layer). Absent: up to the log end.
   */
  maxOffset?: number;
  /**
   * The leader epoch the consumer knows (Kafka's currentLeaderEpoch, KIP-320): in a cluster an older one is
   * FENCED_LEADER_EPOCH and a newer one UNKNOWN_LEADER_EPOCH; a single broker ignores it.
   */
  leaderEpoch?: number;
}

export interface RawFetchResult {
  /** Whole batches, sendfile-style slices. */
  slices: LogSlice[];
  sizeInBytes: number;
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

export interface RecordsFetchResult {
  records: DecodedRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface OffsetResult {
  /** -1 when no record has a timestamp at or after the one asked for. */
  offset: number;
  timestamp?: number;
  /**
   * In a cluster: the leader epoch of the batch holding `offset` (the leader's current epoch for 'latest';
   * -1 when unknown), which Kafka's ListOffsets returns. Absent on a single broker.
   */
  leaderEpoch?: number;
}

/** Where a group stands on one partition: what it committed against what the log holds. */
export interface GroupPartitionLag {
  topic: string;
  partition: number;
  /** The member that owns it in the current generation, null when nobody does. */
  memberId: string | null;
  /** -1 when the group has committed nothing for it. */
  committedOffset: number;
  logEndOffset: number;
  /** logEndOffset - committedOffset; null when nothing is committed. */
  lag: number | null;
  metadata: string;
  /** -1 when nothing is committed. */
  commitTimestamp: number;
}

/** A group as `GET /v1/groups/{group}` shows it: the coordinator's view plus lag per partition. */
export interface GroupLagDescription extends Omit<GroupDescription, 'offsets'> {
  partitions: GroupPartitionLag[];
}

export interface GroupStats {
  groupId: string;
  state: GroupState;
  members: number;
  rebalances: number;
  partitions: Array<{ topic: string; partition: number; lag: number | null }>;
}

export interface EngineStats {
  workers: number;
  groups: GroupStats[];
  /** Bytes of produce data waiting in IPC rings, per worker. */
  inFlightBytes: number[];
  partitions: Array<{ topic: string; partition: number; logEndOffset: number; logStartOffset: number }>;
}

export interface Engine extends Omit<GroupApi, 'describeGroup'> {
  /** The group with lag per partition (committed offsets against log end offsets). */
  describeGroup(groupId: string): Promise<GroupLagDescription>;
  /**
   * Creates a topic with `partitions` partitions (the broker's default count when omitted) and
   * `replicationFactor` replicas of each (the default replication factor when omitted; a single broker
   * refuses anything but 1 with INVALID_REPLICATION_FACTOR).
   */
  createTopic(
    name: string,
    partitions?: number,
    config?: TopicConfigEntries,
    replicationFactor?: number,
  ): Promise<TopicDescription>;
  /**
   * The live brokers of this broker's cluster, by node id, or null for a single broker (which then names
   * itself from its own config).
   */
  brokers(): BrokerInfo[] | null;
  /**
   * The broker that coordinates consumer groups (Kafka's FindCoordinator), or null when this broker does
   * (a single broker coordinates every group). Rejects with COORDINATOR_NOT_AVAILABLE while there is none.
   */
  groupCoordinator(): Promise<BrokerInfo | null>;
  /**
   * The node id of the cluster's controller when it has a Kafka listener, else null: a single broker, or no
   * controller elected right now. The Kafka door then names itself (every broker serves topic admin).
   */
  controllerId(): number | null;
  listTopics(): Promise<TopicSummary[]>;
  describeTopic(name: string): Promise<TopicDescription>;
  /** The id of an existing topic (Kafka's Metadata v10+), undefined when there is no such topic. */
  topicId(name: string): string | undefined;
  /** The name of the topic with this id (Kafka's requests by id), undefined when no topic has it. */
  topicName(topicId: string): string | undefined;
  /**
   * The config overrides set on the topic (by Kafka name, as they were given), without the broker defaults
   * that `describeTopic` merges in: what Kafka's DescribeConfigs reports as DYNAMIC_TOPIC_CONFIG.
   */
  topicConfigOverrides(name: string): Promise<TopicConfigEntries>;
  deleteTopic(name: string): Promise<void>;
  /** Applies `changes` to the topic's overrides (null removes one; see TopicConfigChanges). */
  alterTopicConfig(name: string, changes: TopicConfigChanges): Promise<TopicDescription>;
  /** Grows the topic to `count` partitions in total (never shrinks: INVALID_PARTITIONS). */
  createPartitions(name: string, count: number): Promise<TopicDescription>;
  /**
   * Moves a partition's replicas to `replicas` (a cluster: the new replicas copy the log, then the old ones
   * are dropped and leadership moves into the new set); resolves once the move is recorded, with the
   * partition as it stands. A single broker answers INVALID_REQUEST.
   */
  reassignPartition(topic: string, partition: number, replicas: number[]): Promise<PartitionState>;
  /**
   * Partition count of a topic, creating it with the default count when it does not exist and
   * auto.create.topics.enable is on (else UNKNOWN_TOPIC_OR_PARTITION).
   */
  partitionsForProduce(topic: string): Promise<number>;
  produce(request: ProduceRequest): Promise<ProduceResult>;
  /**
   * In a cluster: `produce` wherever the partition's leader is, here or forwarded to it (the HTTP
   * `{records}` door, whose records go to partitions of any leader). Absent on a single broker, which
   * leads every partition.
   */
  produceAtLeader?(request: ProduceRequest): Promise<ProduceResult>;
  /** In a cluster: the partitions of `topic` this broker leads now (keyless records go to one of them). */
  partitionsLedHere?(topic: string): number[];
  fetchRaw(request: FetchRequest): Promise<RawFetchResult>;
  fetchRecords(request: FetchRequest): Promise<RecordsFetchResult>;
  /**
   * `leaderEpoch`: the leader epoch the caller knows (Kafka's currentLeaderEpoch), checked in a cluster as
   * fetches check it (FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH); a single broker ignores it.
   */
  listOffset(
    topic: string,
    partition: number,
    spec: OffsetSpec,
    options?: { leaderEpoch?: number },
  ): Promise<OffsetResult>;
  /**
   * Moves the partition's logStartOffset up to `beforeOffset` (-1: the high watermark), deleting the
   * records below it (Kafka's DeleteRecords). Beyond the log end: OFFSET_OUT_OF_RANGE.
   */
  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult>;
  stats(): Promise<EngineStats>;
  /** Stops taking work, lets in-flight calls finish, flushes and closes every log. */
  close(): Promise<void>;
}
