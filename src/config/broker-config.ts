/**
 * @module
 * The broker's settings, each declared once with its default and unit. `load-config.ts` fills them from
 * flags, `FRESHET_*` environment variables and an optional config file, validates them once at start-up
 * and freezes the result; the rest of the broker receives slices of it and never reads `process.env`.
 */
import type { LogLevel } from '../shared/logger.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.ts';

export interface BrokerConfig {
  /** `--data-dir`: where partition logs and metadata live. */
  dataDir: string;
  /** `--host`: address the listeners bind to. */
  host: string;
  /** `--http-port`: the HTTP API's port (0 picks a free one). */
  httpPort: number;
  /** `--kafka-port`: the Kafka protocol's port (0 picks a free one; -1: no Kafka listener). */
  kafkaPort: number;
  /**
   * `--kafka-advertised-host` (Kafka's advertised.listeners): the host Metadata tells Kafka clients to connect
   * to. null: `--host`, or 127.0.0.1 when that is a wildcard (0.0.0.0, ::), which no client can connect to.
   */
  kafkaAdvertisedHost: string | null;
  /** `--kafka-advertised-port`: the port Metadata tells Kafka clients to connect to. null: the port bound. */
  kafkaAdvertisedPort: number | null;
  /** `--workers`: partition worker threads (default: one per core). */
  workers: number;
  /** `--default-partitions`: partitions of a topic created without a count (and by auto-creation). */
  defaultPartitions: number;
  /** `--auto-create-topics` (Kafka's auto.create.topics.enable): create unknown topics on produce. */
  autoCreateTopics: boolean;
  /** `--max-request-bytes`: the largest HTTP request body, or Kafka request frame, accepted. */
  maxRequestBytes: number;
  /** `--max-in-flight-bytes`: produce bytes queued to one worker before the broker answers 503 (its ring size). */
  maxInFlightBytes: number;
  /** `--retention-check-interval-ms` (Kafka's log.retention.check.interval.ms). */
  retentionCheckIntervalMs: number;
  /** `--max-wait-ms`: the longest a long-polled fetch may wait. */
  maxFetchWaitMs: number;
  /** `--log-level`. */
  logLevel: LogLevel;
  /** `--group-min-session-timeout-ms` (Kafka's group.min.session.timeout.ms): the shortest session a member may ask for. */
  groupMinSessionTimeoutMs: number;
  /** `--group-max-session-timeout-ms`: the longest session (and, here, rebalance timeout) a member may ask for. */
  groupMaxSessionTimeoutMs: number;
  /** `--group-initial-rebalance-delay-ms`: how long the first rebalance of an empty group waits for more members. */
  groupInitialRebalanceDelayMs: number;
  /** `--group-max-size`: members one group may have. */
  groupMaxSize: number;
  /** `--offsets-retention-minutes`: committed offsets of a group that stayed empty this long expire. */
  offsetsRetentionMinutes: number;
  /** `--offsets-retention-check-interval-ms`: how often expired offsets are looked for. */
  offsetsRetentionCheckIntervalMs: number;
  /** `--offset-metadata-max-bytes`: the longest metadata string kept with a committed offset. */
  offsetMetadataMaxBytes: number;
  /**
   * `--node-id` (Kafka's node.id / broker.id): this broker's id in its cluster, and the node id its Kafka door
   * announces. Unique per cluster: a second broker registering a live broker's id is refused.
   */
  nodeId: number;
  /**
   * `--etcd`: the etcd endpoints (`http://host:port`) holding the cluster's metadata. null: no cluster, the
   * single-node broker, which needs nothing else.
   */
  etcdEndpoints: readonly string[] | null;
  /**
   * `--cluster`: the cluster's name, which makes its etcd key prefix `/freshet/<cluster>/` (so several
   * clusters may share one etcd).
   */
  cluster: string;
  /** `--broker-rack` (Kafka's broker.rack): where this broker stands, for spreading replicas. null: no rack. */
  brokerRack: string | null;
  /**
   * `--etcd-lease-ttl-seconds`: the TTL of the lease the broker's registration (and, on the controller, the
   * controller key) lives under: a broker that dies leaves the cluster, and a dead controller is replaced,
   * this many seconds after its last keep-alive.
   */
  etcdLeaseTtlSeconds: number;
  /**
   * `--default-replication-factor` (Kafka's default.replication.factor): replicas of a topic created without
   * a factor (and by auto-creation), in a cluster. A single-node broker only takes 1.
   */
  defaultReplicationFactor: number;
  /**
   * `--replica-lag-time-max-ms` (Kafka's replica.lag.time.max.ms): a follower that has not caught up with its
   * leader's log end for this long leaves the ISR.
   */
  replicaLagTimeMaxMs: number;
  /**
   * `--replica-ack-timeout-ms`: the longest an acks=all produce waits for the ISR (Kafka's request timeout);
   * then REQUEST_TIMED_OUT (the records may still become committed).
   */
  replicaAckTimeoutMs: number;
  /**
   * `--leader-imbalance-check-interval-ms` (Kafka's leader.imbalance.check.interval.seconds, with
   * auto.leader.rebalance.enable): how often the controller hands partitions back to their preferred leader
   * (the first replica) when it is alive and in sync; 0 never does.
   */
  leaderImbalanceCheckIntervalMs: number;
  /** Topic defaults (`--segment-bytes`, `--retention-ms`, `--flush-policy`, ...), overridable per topic. */
  logDefaults: Readonly<LogConfig>;
}

export const DEFAULT_BROKER_CONFIG: Readonly<Omit<BrokerConfig, 'workers'>> = Object.freeze({
  dataDir: './data',
  host: '127.0.0.1',
  httpPort: 8080,
  kafkaPort: 9092,
  kafkaAdvertisedHost: null,
  kafkaAdvertisedPort: null,
  defaultPartitions: 1,
  autoCreateTopics: true,
  maxRequestBytes: 64 * 1024 * 1024,
  maxInFlightBytes: 64 * 1024 * 1024,
  retentionCheckIntervalMs: 5 * 60 * 1000,
  maxFetchWaitMs: 30_000,
  logLevel: 'info',
  groupMinSessionTimeoutMs: 6_000,
  groupMaxSessionTimeoutMs: 300_000,
  groupInitialRebalanceDelayMs: 3_000,
  groupMaxSize: 1_000,
  offsetsRetentionMinutes: 7 * 24 * 60,
  offsetsRetentionCheckIntervalMs: 10 * 60 * 1000,
  offsetMetadataMaxBytes: 4096,
  nodeId: 0,
  etcdEndpoints: null,
  cluster: 'freshet',
  brokerRack: null,
  etcdLeaseTtlSeconds: 5,
  defaultReplicationFactor: 1,
  replicaLagTimeMaxMs: 30_000,
  replicaAckTimeoutMs: 30_000,
  leaderImbalanceCheckIntervalMs: 30_000,
  logDefaults: DEFAULT_LOG_CONFIG,
});
