/**
 * @module
 * Per-log (per-topic) storage settings, each declared once with its Kafka name, default and unit.
 * The broker validates topic configs against these; the storage engine receives a frozen `LogConfig`.
 */

export type FlushPolicy = 'interval' | 'always';

export interface LogConfig {
  /** `segment.bytes`: roll to a new segment when the active one would exceed this size. */
  segmentBytes: number;
  /**
   * `segment.ms`: roll when the active segment's first append is older than this, by the broker's clock
   * (Kafka measures from the first batch's timestamp, which a producer's clock can push anywhere).
   */
  segmentMs: number;
  /** `retention.ms`: delete closed segments whose newest timestamp is older than this; -1 keeps forever. */
  retentionMs: number;
  /** `retention.bytes`: delete the oldest closed segments while the log is larger than this; -1 = no limit. */
  retentionBytes: number;
  /** `index.interval.bytes`: write one sparse index entry per this many bytes of log. */
  indexIntervalBytes: number;
  /** `flush.messages`: fsync after this many records appended since the last fsync. */
  flushMessages: number;
  /** `flush.ms`: fsync when the oldest unflushed append is this old. */
  flushMs: number;
  /**
   * `flush.policy` (Freshet): `interval` acknowledges appends once written to the page cache and fsyncs by
   * `flush.messages`/`flush.ms`; `always` acknowledges an append only after an fsync that covers it
   * (concurrent appends share one fsync: group commit).
   */
  flushPolicy: FlushPolicy;
  /** `max.message.bytes`: the largest record batch accepted, in bytes. */
  maxMessageBytes: number;
  /**
   * `min.insync.replicas` (cluster): an acks=all produce needs at least this many replicas in sync, else
   * NOT_ENOUGH_REPLICAS. A single broker is its own ISR of one.
   */
  minInsyncReplicas: number;
  /**
   * `unclean.leader.election.enable` (cluster): when no in-sync replica is alive, elect an out-of-sync one
   * (available again, acknowledged records may be lost). Off: the partition waits for an in-sync replica.
   */
  uncleanLeaderElectionEnable: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  indexIntervalBytes: 4096,
  flushMessages: Number.MAX_SAFE_INTEGER,
  flushMs: Number.MAX_SAFE_INTEGER,
  flushPolicy: 'interval',
  maxMessageBytes: 1024 * 1024 + 12,
  minInsyncReplicas: 1,
  uncleanLeaderElectionEnable: false,
});

/** Kafka's dotted names for each setting, used by topic configs in the API. */
export const LOG_CONFIG_NAMES: Readonly<Record<keyof LogConfig, string>> = Object.freeze({
  segmentBytes: 'segment.bytes',
  segmentMs: 'segment.ms',
  retentionMs: 'retention.ms',
  retentionBytes: 'retention.bytes',
  indexIntervalBytes: 'index.interval.bytes',
  flushMessages: 'flush.messages',
  flushMs: 'flush.ms',
  flushPolicy: 'flush.policy',
  maxMessageBytes: 'max.message.bytes',
  minInsyncReplicas: 'min.insync.replicas',
  uncleanLeaderElectionEnable: 'unclean.leader.election.enable',
});

export function logConfig(overrides: Partial<LogConfig> = {}): Readonly<LogConfig> {
  return Object.freeze({ ...DEFAULT_LOG_CONFIG, ...overrides });
}
