/**
 * @module
 * Writes group records to the GroupLog (`__consumer_offsets`) for the coordinator: one append in flight,
 * what arrives meanwhile goes in the next (a group commit); each write's `apply` runs once its records are
 * durable, in log order, so memory never shows what the log does not hold. Between appends it compacts the
 * log (rewrites the live state, drops what came before) once the log is well past that state.
 * Owning worker only.
 */
import { BrokerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import type { GroupLog } from './group-log.ts';
import type { GroupRecord } from './group-records.ts';

interface PendingWrite {
  records: GroupRecord[];
  apply: () => void;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface GroupWriterOptions {
  /** Compact once the log is this many bytes and twice its size after the last compaction. */
  compactAfterBytes: number;
  /** The state a replay of everything written so far gives (the compaction snapshot). */
  liveRecords: () => GroupRecord[];
  logger: Logger;
}

export class GroupWriter {
  private readonly log: GroupLog;
  private readonly options: GroupWriterOptions;
  private pending: PendingWrite[] = [];
  private writing: Promise<void> | null = null;
  private sizeAfterCompaction: number;
  private closed = false;

  constructor(log: GroupLog, options: GroupWriterOptions) {
    this.log = log;
    this.options = options;
    this.sizeAfterCompaction = log.sizeInBytes;
  }

  /** Queues records for the log; `apply` runs once they are durable, in log order. */
  write(records: GroupRecord[], apply: () => void): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new BrokerError('COORDINATOR_NOT_AVAILABLE', 'the group coordinator is shutting down'),
      );
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ records, apply, resolve, reject });
      if (this.writing === null) this.writing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.log.append(batch.flatMap((w) => w.records));
        for (const w of batch) {
          w.apply();
          w.resolve();
        }
      } catch (err) {
        const error =
          err instanceof BrokerError
            ? err
            : new BrokerError('KAFKA_STORAGE_ERROR', `__consumer_offsets: ${(err as Error).message}`);
        for (const w of batch) w.reject(error);
      }
      await this.maybeCompact();
    }
    this.writing = null;
  }

  /** Runs between appends, so every write so far has been applied and the snapshot equals a replay. */
  private async maybeCompact(): Promise<void> {
    const size = this.log.sizeInBytes;
    if (size < this.options.compactAfterBytes || size < 2 * this.sizeAfterCompaction) return;
    try {
      await this.log.compact(this.options.liveRecords());
      this.sizeAfterCompaction = this.log.sizeInBytes;
      this.options.logger.debug('__consumer_offsets compacted', {
        before: size,
        after: this.sizeAfterCompaction,
      });
    } catch (err) {
      this.options.logger.error('compacting __consumer_offsets failed', { error: (err as Error).message });
      this.sizeAfterCompaction = size;
    }
  }

  /** Takes no more writes, lets the queued ones finish, closes the log. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.writing !== null) await this.writing;
    await this.log.close();
  }
}
