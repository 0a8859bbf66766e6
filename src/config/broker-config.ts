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
  /** `--workers`: partition worker threads (default: one per core). */
  workers: number;
  /** `--default-partitions`: partitions of a topic created without a count (and by auto-creation). */
  defaultPartitions: number;
  /** `--auto-create-topics` (Kafka's auto.create.topics.enable): create unknown topics on produce. */
  autoCreateTopics: boolean;
  /** `--max-request-bytes`: the largest HTTP request body accepted. */
  maxRequestBytes: number;
  /** `--max-in-flight-bytes`: produce bytes queued to one worker before the broker answers 503 (its ring size). */
  maxInFlightBytes: number;
  /** `--retention-check-interval-ms` (Kafka's log.retention.check.interval.ms). */
  retentionCheckIntervalMs: number;
  /** `--max-wait-ms`: the longest a long-polled fetch may wait. */
  maxFetchWaitMs: number;
  /** `--log-level`. */
  logLevel: LogLevel;
  /** Topic defaults (`--segment-bytes`, `--retention-ms`, `--flush-policy`, ...), overridable per topic. */
  logDefaults: Readonly<LogConfig>;
}

export const DEFAULT_BROKER_CONFIG: Readonly<Omit<BrokerConfig, 'workers'>> = Object.freeze({
  dataDir: './data',
  host: '127.0.0.1',
  httpPort: 8080,
  defaultPartitions: 1,
  autoCreateTopics: true,
  maxRequestBytes: 64 * 1024 * 1024,
  maxInFlightBytes: 64 * 1024 * 1024,
  retentionCheckIntervalMs: 5 * 60 * 1000,
  maxFetchWaitMs: 30_000,
  logLevel: 'info',
  logDefaults: DEFAULT_LOG_CONFIG,
});
