/**
 * @module
 * The partitions one worker owns: opens their logs, appends, serves fetches (with long-poll), answers
 * offset lookups, and runs retention. Owning worker only: every call for a partition comes here, on one
 * thread, so each log has exactly one writer and needs no locks.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogConfig } from '../config/log-config.ts';
import type {
  DeleteRecordsResult,
  FetchRequest,
  OffsetResult,
  OffsetSpec,
  ProduceResult,
  RawFetchResult,
  RecordsFetchResult,
} from '../ipc/engine.ts';
import { BrokerError } from '../shared/errors.ts';
import { type Logger, silentLogger } from '../shared/logger.ts';
import { parsePartitionKey, partitionKey } from '../shared/partition-key.ts';
import { openFileLog } from '../storage/file-log.ts';
import { type EpochEnd, epochAt, epochEnd, lastEpoch } from '../storage/leader-epochs.ts';
import { MemoryLog } from '../storage/memory-log.ts';
import type { AppendOptions, PartitionLog } from '../storage/partition-log.ts';

export interface PartitionManagerOptions {
  /** Where partition directories live; ignored with `memory`. */
  dataDir: string;
  /** Keep logs in memory (tests, ephemeral brokers). */
  memory?: boolean;
  retentionCheckIntervalMs?: number;
  clock?: () => number;
  logger?: Logger;
}

export interface PartitionOffsets {
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
}

interface FetchWaiter {
  wake: () => void;
}

/** Directory of a partition: `<topic>-<partition>`, as Kafka names it. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export class PartitionManager {
  private readonly logs = new Map<string, PartitionLog>();
  private readonly waiters = new Map<string, Set<FetchWaiter>>();
  private readonly options: PartitionManagerOptions;
  private readonly logger: Logger;
  private retentionTimer: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  /** Set at shutdown: fetches answer with what they have instead of waiting. */
  private draining = false;

  constructor(options: PartitionManagerOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
    const interval = options.retentionCheckIntervalMs;
    if (interval && interval > 0) {
      this.retentionTimer = setInterval(() => {
        this.enforceRetention().catch((err) => this.logger.error('retention failed', { error: String(err) }));
      }, interval);
      this.retentionTimer.unref?.();
    }
  }

  /** Opens (creating when missing) the logs of `partitions` of `topic`. */
  async open(topic: string, partitions: number[], config: Readonly<LogConfig>): Promise<void> {
    for (const partition of partitions) {
      const k = partitionKey(topic, partition);
      if (this.logs.has(k)) continue;
      this.logs.set(k, await this.openLog(topic, partition, config));
    }
  }

  private async openLog(
    topic: string,
    partition: number,
    config: Readonly<LogConfig>,
  ): Promise<PartitionLog> {
    const options = {
      config,
      logger: this.logger,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    };
    if (this.options.memory) return new MemoryLog(options);
    const log = await openFileLog(
      path.join(this.options.dataDir, partitionDirName(topic, partition)),
      options,
    );
    const report = log.recoveryReport;
    if (report.segmentsRecovered > 0 || report.bytesTruncated > 0) {
      this.logger.info('recovered partition', { topic, partition, ...report });
    }
    return log;
  }

  /** Closes and deletes the logs of `partitions` (topic deletion). Waiting fetches fail. */
  async remove(topic: string, partitions: number[]): Promise<void> {
    for (const partition of partitions) {
      const k = partitionKey(topic, partition);
      const log = this.logs.get(k);
      this.logs.delete(k);
      this.wake(k);
      if (log) await log.close();
      if (!this.options.memory) {
        const dir = path.join(this.options.dataDir, partitionDirName(topic, partition));
        // Renamed first so a crash mid-delete never leaves a half-deleted log under the live name.
        const doomed = `${dir}.${Date.now()}-delete`;
        if (fs.existsSync(dir)) {
          fs.renameSync(dir, doomed);
          fs.rmSync(doomed, { recursive: true, force: true });
        }
      }
    }
  }

  /** Applies a changed topic config: each log is closed cleanly and reopened with it. */
  async reconfigure(topic: string, partitions: number[], config: Readonly<LogConfig>): Promise<void> {
    for (const partition of partitions) {
      const k = partitionKey(topic, partition);
      const log = this.logs.get(k);
      if (!log) continue;
      if (this.options.memory) continue; // a memory log keeps its data; new settings apply to new topics only
      await log.close();
      this.logs.set(k, await this.openLog(topic, partition, config));
    }
  }

  private log(topic: string, partition: number): PartitionLog {
    const log = this.logs.get(partitionKey(topic, partition));
    if (!log) {
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `partition ${partition} of topic '${topic}' is not hosted here`,
      );
    }
    return log;
  }

  /**
   * Appends `batches`. The log has read (written or copied) the bytes by the time this returns its promise,
   * so a caller passing a view into a shared ring may release it right after the call.
   */
  append(
    topic: string,
    partition: number,
    batches: Uint8Array,
    options: AppendOptions = {},
  ): Promise<ProduceResult> {
    if (this.closed)
      return Promise.reject(new BrokerError('NOT_LEADER_OR_FOLLOWER', 'the broker is shutting down'));
    let log: PartitionLog;
    try {
      log = this.log(topic, partition);
    } catch (err) {
      return Promise.reject(err);
    }
    const pending = log.append(batches, options);
    const k = partitionKey(topic, partition);
    return pending.then((result) => {
      this.wake(k);
      return {
        baseOffset: result.baseOffset,
        lastOffset: result.lastOffset,
        recordCount: result.recordCount,
        logStartOffset: log.logStartOffset,
      };
    });
  }

  /** Cuts the log back to `offset` (a follower dropping a suffix its leader does not have). */
  async truncate(topic: string, partition: number, offset: number): Promise<PartitionOffsets> {
    if (this.closed) throw new BrokerError('NOT_LEADER_OR_FOLLOWER', 'the broker is shutting down');
    const log = this.log(topic, partition);
    await log.truncateTo(offset);
    return { partition, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset };
  }

  /** Empties the log and starts it again at `offset` (a follower far behind its leader's log start). */
  async truncateFullyAndStartAt(topic: string, partition: number, offset: number): Promise<PartitionOffsets> {
    if (this.closed) throw new BrokerError('NOT_LEADER_OR_FOLLOWER', 'the broker is shutting down');
    const log = this.log(topic, partition);
    await log.truncateFullyAndStartAt(offset);
    return { partition, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset };
  }

  /** Where leader epoch `epoch` ends in the partition's log (leader-epochs.ts). */
  epochEnd(topic: string, partition: number, epoch: number): Promise<EpochEnd> {
    return epochEnd(this.log(topic, partition), epoch);
  }

  /** The leader epoch of the batch holding `offset`; -1 when the log does not hold it. */
  async epochAt(topic: string, partition: number, offset: number): Promise<number> {
    const log = this.log(topic, partition);
    if (offset < log.logStartOffset || offset >= log.logEndOffset) return -1;
    return epochAt(log, offset);
  }

  /** The leader epoch of the partition's last batch, -1 when it is empty. */
  lastEpoch(topic: string, partition: number): Promise<number> {
    return lastEpoch(this.log(topic, partition));
  }

  private wake(k: string): void {
    const set = this.waiters.get(k);
    if (!set) return;
    this.waiters.delete(k);
    for (const w of set) w.wake();
  }

  /** Resolves after the next append to the partition, or after `ms`. */
  private waitForAppend(k: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(k);
      if (!set) {
        set = new Set();
        this.waiters.set(k, set);
      }
      const waiter: FetchWaiter = {
        wake: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.get(k)?.delete(waiter);
        resolve();
      }, ms);
      set.add(waiter);
    });
  }

  /** Runs `attempt` until it returns at least `minBytes` or `maxWaitMs` has passed, waking on appends. */
  private async longPoll<T extends { size: number }>(
    request: FetchRequest,
    attempt: () => Promise<T>,
  ): Promise<T> {
    const deadline = Date.now() + Math.max(0, request.maxWaitMs);
    const k = partitionKey(request.topic, request.partition);
    for (;;) {
      const result = await attempt();
      const left = deadline - Date.now();
      if (result.size >= Math.max(1, request.minBytes) || left <= 0 || this.draining) return result;
      await this.waitForAppend(k, left);
      if (!this.logs.has(k)) return attempt();
    }
  }

  async fetchRaw(request: FetchRequest): Promise<RawFetchResult> {
    const { result } = await this.longPoll(request, async () => {
      const log = this.log(request.topic, request.partition);
      const read = await log.read(request.offset, request.maxBytes, request.maxOffset);
      return { size: read.sizeInBytes, result: read };
    });
    return {
      slices: result.slices,
      sizeInBytes: result.sizeInBytes,
      nextOffset: result.nextOffset,
      highWatermark: Math.min(result.logEndOffset, request.maxOffset ?? Number.MAX_SAFE_INTEGER),
      logStartOffset: result.logStartOffset,
    };
  }

  async fetchRecords(request: FetchRequest): Promise<RecordsFetchResult> {
    const { result } = await this.longPoll(request, async () => {
      const log = this.log(request.topic, request.partition);
      const read = await log.readRecords(request.offset, request.maxBytes, request.maxOffset);
      // Bytes are what minBytes counts; records are a fair stand-in once decoded (0 or more).
      return { size: read.records.length > 0 ? Number.MAX_SAFE_INTEGER : 0, result: read };
    });
    return {
      records: result.records,
      nextOffset: result.nextOffset,
      highWatermark: Math.min(result.logEndOffset, request.maxOffset ?? Number.MAX_SAFE_INTEGER),
      logStartOffset: result.logStartOffset,
    };
  }

  async listOffset(topic: string, partition: number, spec: OffsetSpec): Promise<OffsetResult> {
    const log = this.log(topic, partition);
    if (spec === 'earliest') return { offset: log.logStartOffset };
    if (spec === 'latest') return { offset: log.logEndOffset };
    const found = await log.offsetForTimestamp(spec.timestamp);
    return found ? { offset: found.offset, timestamp: found.timestamp } : { offset: -1 };
  }

  /**
   * Kafka's DeleteRecords: moves logStartOffset up to `beforeOffset` (-1: the high watermark, which on a
   * single broker is the log end offset). Past the log end, or below -1: OFFSET_OUT_OF_RANGE (the log's).
   */
  async deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult> {
    if (this.closed) throw new BrokerError('NOT_LEADER_OR_FOLLOWER', 'the broker is shutting down');
    const log = this.log(topic, partition);
    const offset = beforeOffset === -1 ? log.logEndOffset : beforeOffset;
    return { lowWatermark: await log.deleteRecordsBefore(offset) };
  }

  async offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]> {
    return partitions.map((partition) => {
      const log = this.log(topic, partition);
      return { partition, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset };
    });
  }

  /** Every hosted partition with its offsets (metrics). */
  async allOffsets(): Promise<Array<PartitionOffsets & { topic: string }>> {
    const out: Array<PartitionOffsets & { topic: string }> = [];
    for (const [k, log] of this.logs) {
      const { topic, partition } = parsePartitionKey(k);
      out.push({
        topic,
        partition,
        logStartOffset: log.logStartOffset,
        logEndOffset: log.logEndOffset,
      });
    }
    return out;
  }

  /** In-process there is no queue between the caller and the logs. */
  inFlightBytes(): number {
    return 0;
  }

  async enforceRetention(now = Date.now()): Promise<number> {
    let deleted = 0;
    for (const log of this.logs.values()) {
      await log.maybeRoll(now);
      deleted += await log.enforceRetention(now);
    }
    return deleted;
  }

  /** Shutdown, first step: waiting fetches answer now with what they have, and new ones do not wait. */
  async stopWaiting(): Promise<void> {
    this.draining = true;
    for (const k of [...this.waiters.keys()]) this.wake(k);
  }

  /** Flushes and closes every log; waiting fetches answer with what they have. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.draining = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    for (const k of [...this.waiters.keys()]) this.wake(k);
    const errors: unknown[] = [];
    for (const log of this.logs.values()) {
      try {
        await log.close();
      } catch (err) {
        errors.push(err);
      }
    }
    this.logs.clear();
    if (errors.length > 0) throw errors[0];
  }
}
