/**
 * @module
 * The shapes the client exchanges with the broker's HTTP API v1 (docs/http-api.md) and hands to callers.
 * Declared here rather than imported, because the client never imports server code.
 */

/** Bytes, or a string sent as its UTF-8 encoding. */
export type Bytes = Uint8Array | string;

export interface Header {
  key: string;
  value: Uint8Array | null;
}

/** A header as a producer gives it: the value may be a string (UTF-8). */
export interface HeaderInput {
  key: string;
  value: Bytes | null;
}

export interface ProducerRecord {
  key?: Bytes | null;
  value: Bytes | null;
  /** An ordered list (Kafka allows repeated keys), or an object for unique keys. */
  headers?: HeaderInput[] | Record<string, Bytes | null>;
  /** Pins the record to a partition; otherwise the key's murmur2 hash, else a sticky partition, picks it. */
  partition?: number;
  /** CreateTime, epoch ms; defaults to the time the batch is built. */
  timestamp?: number | Date;
}

/** Where a record landed. With acks=0 the offset is -1 (the broker does not say). */
export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

export interface ConsumerRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Header[];
}

export type TopicConfig = Record<string, string | number>;

/** Changes to a topic's overrides (`Admin.alterTopicConfig`): a value sets one, `null` removes one. */
export type TopicConfigChanges = Record<string, string | number | null>;

export interface PartitionState {
  partition: number;
  logStartOffset: number;
  highWatermark: number;
  /** The partition worker that owns it (on the broker that answered). */
  worker: number;
  /**
   * In a cluster only (absent on a single broker): the leader's node id (-1 while none is elected), its
   * epoch, the assigned replicas (preferred leader first) and the in-sync replicas, by node id.
   */
  leader?: number;
  leaderEpoch?: number;
  replicas?: number[];
  isr?: number[];
  /** While a reassignment is in progress: the replicas the partition is moving to. */
  targetReplicas?: number[];
}

export interface TopicDescription {
  name: string;
  /**
   * The topic's Kafka id (`8-4-4-4-12` hex UUID), given at creation and new when a topic is created again
   * under the same name. Absent from brokers older than topic ids.
   */
  topicId?: string;
  partitions: PartitionState[];
  /** Every setting by its Kafka name, the topic's overrides merged over the broker defaults. */
  config: TopicConfig;
}

export interface TopicSummary {
  name: string;
  partitions: number;
}

/** `earliest`, `latest`, or a time (Date or epoch ms): the first offset whose timestamp is at or after it. */
export type OffsetSpec = 'earliest' | 'latest' | Date | number;

export interface OffsetAnswer {
  /** -1 when no record has a timestamp at or after the time asked for. */
  offset: number;
  timestamp?: number;
}

/** Kafka's acks: 0 (fire and forget), 1 or 'all' (-1). One broker: 1 and 'all' wait for the same thing. */
export type Acks = 0 | 1 | -1 | 'all';

/** A consumer group's lifecycle state, as Kafka names it. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** One group in `GET /v1/groups`. */
export interface GroupOverview {
  groupId: string;
  /** `consumer` for consumer groups. */
  protocolType: string;
  state: GroupState;
  /** Member count. */
  members: number;
}

export interface GroupTopicPartitions {
  topic: string;
  /** Ascending. */
  partitions: number[];
}

export interface GroupMemberDescription {
  memberId: string;
  /** Static membership (`group.instance.id`); null for a dynamic member. */
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** The topics it subscribed to. */
  topics: string[];
  /** Its partitions in the current generation. */
  assignment: GroupTopicPartitions[];
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
  /** Epoch ms; -1 when nothing is committed. */
  commitTimestamp: number;
}

/** `GET /v1/groups/{group}`. */
export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  /** The assignor of the current generation ('' while none). */
  assignor: string;
  generationId: number;
  /** The leader's memberId ('' while none). */
  leader: string;
  /** Rebalances completed since the broker started. */
  rebalances: number;
  members: GroupMemberDescription[];
  /** Every partition the group has an offset for or a member owns. */
  partitions: GroupPartitionLag[];
}

/** An offset a group committed (`GET /v1/groups/{group}/offsets`). */
export interface CommittedOffset {
  topic: string;
  partition: number;
  /** The next offset the group will read. */
  offset: number;
  metadata: string;
  /** When the commit was written, epoch ms. */
  commitTimestamp: number;
}

/** An offset to commit. */
export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: number;
  /** Free text kept with the offset (at most the broker's `--offset-metadata-max-bytes`). */
  metadata?: string;
}

/**
 * Where `Admin.resetOffsets` moves a group: the log start or end, an offset (clamped into the log's range),
 * or the first offset whose timestamp is at or after a time (epoch ms; the log end when there is none).
 */
export type OffsetResetTarget = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

/** An offset `Admin.resolveOffsets` resolved (and `Admin.resetOffsets` committed). */
export interface ResolvedOffset {
  topic: string;
  partition: number;
  offset: number;
}
