/**
 * @module
 * The file implementation of PartitionLog: one directory per partition (`<topic>-<partition>/`) holding
 * segments (see segment.ts), `recovery-point.checkpoint` and `log-start-offset.checkpoint` (checkpoint.ts).
 *
 * Write path. `append` validates every batch (structure, CRC-32C, records), assigns offsets by rewriting
 * baseOffset, records index entries, and writes the bytes with one positional write on the owning thread
 * (a 16 KiB write to the page cache costs less than a round trip through the I/O pool). The bytes are
 * written before `append` returns its promise, so the caller may reuse the buffer at once.
 *
 * Durability (what an acknowledged append survives):
 *   flush.policy=interval  acknowledged once written to the OS page cache: survives a crash of the broker
 *                          process (kill -9), not a crash of the machine or power loss, until the next fsync,
 *                          which runs after `flush.messages` records or `flush.ms` ms (and on roll, close).
 *   flush.policy=always    acknowledged only after an fdatasync that covers it: survives power loss. While one
 *                          fdatasync runs, later appends queue up and share the next one (group commit).
 *
 * Crash recovery. A clean close leaves `.clean-shutdown`; then open trusts the indexes and reads only the
 * headers after the last index entry of the last segment. Otherwise every segment from the one holding the
 * recovery point onwards is rescanned with full validation, its indexes rebuilt, and the log cut at the first
 * torn or corrupt batch (later segments are deleted). Corruption below the recovery point (data that had been
 * fsynced) is reported in `recoveryReport.flushedCorruption` and logged as an error. Segments wholly below the
 * recovery point are not read at open; their indexes are checked when first used and rebuilt if wrong, and a
 * decoding read that meets a corrupt batch there fails with CORRUPT_MESSAGE naming the file and position.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogConfig } from '../config/log-config.ts';
import '../records/compression.ts';
import '../records/crc32c-native.ts';
import {
  type BatchHeader,
  lastOffsetOf,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from '../records/batch-header.ts';
import { type DecodedRecord, decodeRecordBatch } from '../records/record-batch.ts';
import { BrokerError } from '../shared/errors.ts';
import { type Logger, silentLogger } from '../shared/logger.ts';
import {
  CLEAN_SHUTDOWN_FILE,
  fsyncDir,
  LOG_START_OFFSET_FILE,
  RECOVERY_POINT_FILE,
  readCheckpoint,
  writeCheckpoint,
} from './checkpoint.ts';
import type {
  AppendOptions,
  AppendResult,
  LogOptions,
  LogSlice,
  PartitionLog,
  ReadResult,
  RecordsReadResult,
  RecoveryReport,
  TimestampOffset,
} from './partition-log.ts';
import { LOG_SUFFIX, MAX_RELATIVE_OFFSET, Segment, segmentFileName } from './segment.ts';
import { checkFollowerOffsets, validateAppend } from './validate-append.ts';

/** How often the recovery point is written to disk (Kafka's log.flush.offset.checkpoint.interval.ms). */
const RECOVERY_CHECKPOINT_INTERVAL_MS = 60_000;
/** setTimeout cannot wait longer than this. */
const MAX_TIMER_MS = 0x7fffffff;

interface SyncWaiter {
  endOffset: number;
  /** An append waits for its own records; a flush for whatever the log holds (see truncateTo). */
  kind: 'append' | 'flush';
  resolve: () => void;
  reject: (err: Error) => void;
}

export async function openFileLog(dir: string, options: LogOptions): Promise<FileLog> {
  const log = new FileLog(dir, options);
  log.load();
  return log;
}

export class FileLog implements PartitionLog {
  readonly dir: string;
  private readonly config: Readonly<LogConfig>;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private segments: Segment[] = [];
  private startOffset = 0;
  /** Offset the next appended record gets. */
  private endOffset = 0;
  private syncedOffset = 0;
  private report: RecoveryReport = {
    segmentsRecovered: 0,
    bytesTruncated: 0,
    indexesRebuilt: 0,
    flushedCorruption: [],
  };

  private syncWaiters: SyncWaiter[] = [];
  private syncing = false;
  private syncAgain = false;
  private syncScheduled = false;
  /** What the running sync may claim: its start's end offset, lowered by a truncation meanwhile. */
  private syncCeiling = 0;
  /** Segments with bytes written but not yet fdatasynced (and sealed ones whose indexes need a sync). */
  private dirty = new Set<Segment>();
  private unflushedRecords = 0;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private lastCheckpointMs = 0;
  private checkpointedRecoveryPoint = -1;
  private checkpointedStart = -1;
  private failure: BrokerError | null = null;
  private closed = false;

  constructor(dir: string, options: LogOptions) {
    this.dir = dir;
    this.config = options.config;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.endOffset;
  }

  get flushedOffset(): number {
    return this.syncedOffset;
  }

  get sizeInBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get recoveryReport(): RecoveryReport {
    return this.report;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  // ---------------------------------------------------------------- open and recovery

  /** Opens the directory: lists segments, reads checkpoints, recovers what needs it. Owner only. */
  load(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const now = this.clock();
    const bases: number[] = [];
    const present = new Set(fs.readdirSync(this.dir));
    for (const name of present) {
      if (name.endsWith('.tmp') || name.endsWith('.deleted')) {
        fs.rmSync(path.join(this.dir, name), { force: true });
        continue;
      }
      const m = /^(\d{20})\.log$/.exec(name);
      if (m) bases.push(Number(m[1]));
    }
    bases.sort((a, b) => a - b);
    // Index files without their .log are leftovers of a deletion cut short.
    for (const name of present) {
      const m = /^(\d{20})\.(index|timeindex)$/.exec(name);
      if (m && !present.has(`${m[1]}${LOG_SUFFIX}`)) fs.rmSync(path.join(this.dir, name), { force: true });
    }

    const clean = present.has(CLEAN_SHUTDOWN_FILE);
    if (clean) {
      fs.rmSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE));
      fsyncDir(this.dir);
    }
    const recoveryPoint = readCheckpoint(this.dir, RECOVERY_POINT_FILE) ?? 0;
    const checkpointedStart = readCheckpoint(this.dir, LOG_START_OFFSET_FILE);

    if (bases.length === 0) {
      const base = checkpointedStart ?? 0;
      this.segments = [Segment.create(this.dir, base, this.config.indexIntervalBytes, now)];
      this.startOffset = base;
      this.endOffset = this.syncedOffset = base;
      fsyncDir(this.dir);
      this.writeRecoveryCheckpoint();
      return;
    }

    this.segments = bases.map((base) =>
      Segment.open(
        this.dir,
        base,
        fs.statSync(path.join(this.dir, segmentFileName(base, LOG_SUFFIX))).size,
        this.config.indexIntervalBytes,
        now,
      ),
    );

    const resumed = clean && this.active.resumeAfterCleanShutdown();
    if (!resumed) this.recover(recoveryPoint);

    this.endOffset = this.active.nextOffset;
    this.startOffset = Math.max(checkpointedStart ?? 0, this.segments[0]!.baseOffset);
    if (this.startOffset > this.endOffset) {
      // Everything the log start promised was lost (or truncated away): start empty at the log start.
      this.logger.warn('log start offset beyond recovered end; starting empty', {
        dir: this.dir,
        logStartOffset: this.startOffset,
        logEndOffset: this.endOffset,
      });
      for (const s of this.segments) s.delete();
      this.segments = [Segment.create(this.dir, this.startOffset, this.config.indexIntervalBytes, now)];
      this.endOffset = this.startOffset;
    }
    this.checkpointedStart = checkpointedStart ?? -1;
    if (resumed && recoveryPoint === this.endOffset) {
      // A clean close synced everything and wrote this very recovery point: nothing to redo.
      this.syncedOffset = this.checkpointedRecoveryPoint = recoveryPoint;
      return;
    }
    // Whatever recovery read back is made durable before the recovery point moves past it.
    for (const s of this.segments.slice(-2)) fs.fdatasyncSync(s.file);
    this.syncedOffset = this.endOffset;
    this.writeRecoveryCheckpoint();
  }

  private recover(recoveryPoint: number): void {
    let first = 0;
    for (let i = 0; i < this.segments.length; i++)
      if (this.segments[i]!.baseOffset <= recoveryPoint) first = i;
    let expectedBase = first > 0 ? this.segments[first]!.baseOffset : this.segments[0]!.baseOffset;
    for (let i = first; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const fileSize = segment.size;
      let stopReason: string | null = null;
      let validBytes = fileSize;
      let nextOffset: number;
      if (segment.baseOffset !== expectedBase && i > first) {
        stopReason = `segment starts at ${segment.baseOffset}, expected ${expectedBase}`;
        validBytes = 0;
        nextOffset = expectedBase;
      } else {
        const result = segment.rebuildIndexes(true);
        this.report.segmentsRecovered++;
        this.report.indexesRebuilt++;
        nextOffset = result.nextOffset;
        if (result.stop) {
          stopReason = result.stop.reason;
          validBytes = result.validBytes;
        }
      }
      if (stopReason === null) {
        segment.writeIndexes();
        expectedBase = nextOffset;
        continue;
      }
      // Cut here: the rest of this segment and every later segment go.
      const lostBytes =
        fileSize - validBytes + this.segments.slice(i + 1).reduce((sum, s) => sum + s.size, 0);
      this.report.bytesTruncated += lostBytes;
      if (nextOffset < recoveryPoint) {
        const entry = {
          file: segment.logPath,
          position: validBytes,
          reason: stopReason,
          offsetsLost: recoveryPoint - nextOffset,
        };
        this.report.flushedCorruption.push(entry);
        this.logger.error('corruption below the recovery point: fsynced records were lost', entry);
      } else if (lostBytes > 0) {
        this.logger.warn('truncated a torn or corrupt log tail', {
          file: segment.logPath,
          position: validBytes,
          reason: stopReason,
          bytes: lostBytes,
        });
      }
      for (const later of this.segments.slice(i + 1)) later.delete();
      this.segments = this.segments.slice(0, i + 1);
      if (segment.baseOffset !== expectedBase && i > first) {
        segment.delete();
        this.segments.pop();
      } else {
        segment.truncateToPosition(validBytes);
        segment.writeIndexes();
      }
      break;
    }
    if (this.segments.length === 0) {
      this.segments = [Segment.create(this.dir, expectedBase, this.config.indexIntervalBytes, this.clock())];
    }
  }

  // ---------------------------------------------------------------- append

  async append(batches: Uint8Array, options: AppendOptions = {}): Promise<AppendResult> {
    this.ensureWritable();
    const headers = validateAppend(batches, this.config.maxMessageBytes);
    if (options.keepOffsets) checkFollowerOffsets(headers, this.endOffset);
    const now = this.clock();
    if (!this.active.isEmpty && now - this.active.rollStartMs > this.config.segmentMs) this.roll(now);

    const baseOffset = this.endOffset;
    // One append goes into one segment whole (as Kafka's): roll first if it would not fit.
    let totalSize = 0;
    let totalSpan = 0;
    for (const header of headers) {
      totalSize += header.sizeInBytes;
      totalSpan += header.lastOffsetDelta + 1;
    }
    let segment = this.active;
    if (
      !segment.isEmpty &&
      (segment.size + totalSize > this.config.segmentBytes ||
        baseOffset + totalSpan - 1 - segment.baseOffset > MAX_RELATIVE_OFFSET)
    ) {
      segment = this.roll(now);
    }
    let recordCount = 0;
    let position = 0;
    if (segment.isEmpty) segment.rollStartMs = now;
    for (const header of headers) {
      const batchLast = this.endOffset + header.lastOffsetDelta;
      setBaseOffset(batches, position, this.endOffset);
      if (options.leaderEpoch !== undefined) setPartitionLeaderEpoch(batches, position, options.leaderEpoch);
      segment.indexBatch(segment.size + position, header.sizeInBytes, batchLast, header.maxTimestamp);
      this.endOffset = batchLast + 1;
      recordCount += header.recordCount;
      position += header.sizeInBytes;
    }
    const bytes = position === batches.length ? batches : batches.subarray(0, position);
    const lastOffset = this.endOffset - 1;
    this.writeSegment(segment, bytes, recordCount);
    if (this.config.flushPolicy === 'always') {
      await new Promise<void>((resolve, reject) => {
        this.syncWaiters.push({ endOffset: this.endOffset, kind: 'append', resolve, reject });
        this.requestSync();
      });
    }
    return { baseOffset, lastOffset, recordCount, batchCount: headers.length };
  }

  private roll(now: number): Segment {
    const old = this.active;
    old.seal();
    old.writeIndexes();
    this.dirty.add(old);
    const segment = Segment.create(this.dir, this.endOffset, this.config.indexIntervalBytes, now);
    segment.rollStartMs = now;
    this.segments.push(segment);
    fsyncDir(this.dir);
    if (this.config.flushPolicy === 'always') this.requestSync();
    return segment;
  }

  /**
   * Writes an append's bytes at the end of `segment`. The write is synchronous, on the owning thread:
   * a 16 KiB write to the page cache costs less than a round trip through the I/O pool, and it keeps
   * "acknowledged" and "readable" the same thing.
   */
  private writeSegment(segment: Segment, bytes: Uint8Array, records: number): void {
    const start = segment.size;
    try {
      let done = 0;
      while (done < bytes.length) {
        done += fs.writeSync(segment.file, bytes, done, bytes.length - done, start + done);
      }
    } catch (err) {
      throw this.fail(err as Error);
    }
    segment.size = start + bytes.length;
    this.dirty.add(segment);
    if (this.config.flushPolicy === 'always') return;
    this.unflushedRecords += records;
    if (this.unflushedRecords >= this.config.flushMessages) {
      this.backgroundFlush();
    } else if (this.flushTimer === null && this.config.flushMs < MAX_TIMER_MS) {
      this.flushTimer = setTimeout(() => this.backgroundFlush(), this.config.flushMs);
      this.flushTimer.unref?.();
    }
  }

  private backgroundFlush(): void {
    this.flush().catch((err) =>
      this.logger.error('background flush failed', { dir: this.dir, error: String(err) }),
    );
  }

  /**
   * Group commit: one fdatasync at a time covers everything written before it started. The sync starts
   * on the next turn of the event loop rather than at once, so appends that arrive together (the
   * producers woken by the previous sync, a burst of requests) are written first and share it.
   */
  private requestSync(): void {
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    setImmediate(() => {
      this.syncScheduled = false;
      this.startSync();
    });
  }

  private startSync(): void {
    if (this.syncing || this.closed) return;
    this.syncing = true;
    this.syncAgain = false;
    this.syncCeiling = this.endOffset;
    const segments = [...this.dirty];
    this.dirty.clear();
    const next = (i: number): void => {
      if (i === segments.length) {
        this.syncing = false;
        this.synced(this.syncCeiling);
        return;
      }
      const segment = segments[i]!;
      // Truncation or retention may have deleted it since the sync began: nothing left to make durable.
      if (segment.deleted) {
        next(i + 1);
        return;
      }
      fs.fdatasync(segment.file, (err) => {
        if (segment.deleted) {
          next(i + 1);
          return;
        }
        if (err) {
          this.syncing = false;
          this.fail(err);
          return;
        }
        if (segment !== this.active) {
          // A sealed segment's indexes were written at roll; they must be durable before the
          // recovery point passes the segment.
          try {
            segment.syncIndexes();
          } catch (e) {
            this.syncing = false;
            this.fail(e as Error);
            return;
          }
        }
        next(i + 1);
      });
    };
    next(0);
  }

  private synced(target: number): void {
    if (target > this.syncedOffset) this.syncedOffset = target;
    while (this.syncWaiters.length > 0 && this.syncWaiters[0]!.endOffset <= this.syncedOffset) {
      this.syncWaiters.shift()!.resolve();
    }
    this.maybeCheckpoint();
    if (this.syncAgain || this.syncWaiters.length > 0) this.requestSync();
  }

  private maybeCheckpoint(): void {
    const now = this.clock();
    if (now - this.lastCheckpointMs < RECOVERY_CHECKPOINT_INTERVAL_MS) return;
    this.writeRecoveryCheckpoint();
  }

  private writeStartCheckpoint(): void {
    if (this.checkpointedStart === this.startOffset) return;
    writeCheckpoint(this.dir, LOG_START_OFFSET_FILE, this.startOffset);
    this.checkpointedStart = this.startOffset;
  }

  private writeRecoveryCheckpoint(): void {
    if (this.checkpointedRecoveryPoint === this.syncedOffset) return;
    writeCheckpoint(this.dir, RECOVERY_POINT_FILE, this.syncedOffset);
    this.checkpointedRecoveryPoint = this.syncedOffset;
    this.lastCheckpointMs = this.clock();
  }

  /** An I/O error takes the log offline: every waiting append fails, later ones are refused. */
  private fail(err: Error): BrokerError {
    this.failure = new BrokerError('KAFKA_STORAGE_ERROR', `log ${this.dir} failed: ${err.message}`, {
      cause: err,
    });
    this.logger.error('log I/O failed; the log is offline', { dir: this.dir, error: err.message });
    for (const w of this.syncWaiters) w.reject(this.failure);
    this.syncWaiters = [];
    return this.failure;
  }

  private ensureOpen(): void {
    if (this.closed) throw new BrokerError('KAFKA_STORAGE_ERROR', `log ${this.dir} is closed`);
  }

  private ensureWritable(): void {
    this.ensureOpen();
    if (this.failure) throw this.failure;
  }

  // ---------------------------------------------------------------- flush and close

  async flush(): Promise<void> {
    this.ensureOpen();
    if (this.failure) throw this.failure;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    this.unflushedRecords = 0;
    const target = this.endOffset;
    if (target > this.syncedOffset || this.dirty.size > 0) {
      await new Promise<void>((resolve, reject) => {
        this.syncWaiters.push({ endOffset: target, kind: 'flush', resolve, reject });
        this.requestSync();
      });
    }
    this.active.writeIndexes();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failure) {
      await this.flush();
      this.active.syncIndexes();
      this.writeRecoveryCheckpoint();
      this.writeStartCheckpoint();
      fs.writeFileSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE), '');
      fsyncDir(this.dir);
    }
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const s of this.segments) s.close();
  }

  // ---------------------------------------------------------------- reads

  private checkRange(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < this.startOffset || offset > this.endOffset) {
      throw new BrokerError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is outside the log [${this.startOffset}, ${this.endOffset}]`,
      );
    }
  }

  /** Index of the segment that holds `offset` (the last one whose baseOffset <= offset). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  async read(fromOffset: number, maxBytes: number, maxOffset = Number.MAX_SAFE_INTEGER): Promise<ReadResult> {
    return this.readSync(fromOffset, maxBytes, maxOffset).result;
  }

  private readSync(
    fromOffset: number,
    maxBytes: number,
    maxOffset: number,
  ): { result: ReadResult; segments: Segment[] } {
    this.ensureOpen();
    this.checkRange(fromOffset);
    const slices: LogSlice[] = [];
    const used: Segment[] = [];
    let total = 0;
    let next = fromOffset;
    let full = false;
    for (let i = this.segmentIndexFor(fromOffset); i < this.segments.length && !full; i++) {
      const segment = this.segments[i]!;
      const found = segment.findBatch(next);
      if (!found) continue;
      const start = found.position;
      let position = start;
      let header: BatchHeader | null = found.header;
      while (header) {
        if ((total > 0 && total + header.sizeInBytes > maxBytes) || lastOffsetOf(header) >= maxOffset) {
          full = true;
          break;
        }
        if (position + header.sizeInBytes > segment.size) break;
        total += header.sizeInBytes;
        position += header.sizeInBytes;
        next = lastOffsetOf(header) + 1;
        header = segment.headerAt(position);
      }
      if (position > start) {
        slices.push({ kind: 'file', path: segment.logPath, position: start, length: position - start });
        used.push(segment);
      }
    }
    return {
      result: {
        slices,
        sizeInBytes: total,
        nextOffset: next,
        logStartOffset: this.startOffset,
        logEndOffset: this.endOffset,
      },
      segments: used,
    };
  }

  async readRecords(
    fromOffset: number,
    maxBytes: number,
    maxOffset = Number.MAX_SAFE_INTEGER,
  ): Promise<RecordsReadResult> {
    const { result, segments } = this.readSync(fromOffset, maxBytes, maxOffset);
    const records: DecodedRecord[] = [];
    const floor = Math.max(fromOffset, this.startOffset);
    result.slices.forEach((slice, i) => {
      if (slice.kind !== 'file') return;
      const bytes = segments[i]!.readAt(slice.position, slice.length);
      for (const record of decodeAll(bytes, slice.path, slice.position)) {
        if (record.offset >= floor) records.push(record);
      }
    });
    return {
      records,
      nextOffset: result.nextOffset,
      logStartOffset: result.logStartOffset,
      logEndOffset: result.logEndOffset,
    };
  }

  async offsetForTimestamp(timestamp: number): Promise<TimestampOffset | null> {
    this.ensureOpen();
    for (let i = this.segmentIndexFor(this.startOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.isEmpty) continue;
      if (segment.ensureIndexes()) this.report.indexesRebuilt++;
      if (segment.maxTimestamp < timestamp) continue;
      let offset = Math.max(segment.timeLookup(timestamp), this.startOffset);
      let found = segment.findBatch(offset);
      while (found) {
        const { position, header } = found;
        if (header.maxTimestamp >= timestamp) {
          const bytes = segment.readAt(position, header.sizeInBytes);
          for (const record of decodeAll(bytes, segment.logPath, position)) {
            if (record.offset >= offset && record.timestamp >= timestamp) {
              return { offset: record.offset, timestamp: record.timestamp };
            }
          }
        }
        offset = lastOffsetOf(header) + 1;
        const nextHeader = segment.headerAt(position + header.sizeInBytes);
        found = nextHeader ? { position: position + header.sizeInBytes, header: nextHeader } : null;
      }
    }
    return null;
  }

  // ---------------------------------------------------------------- truncation and retention

  async truncateTo(offset: number): Promise<void> {
    this.ensureWritable();
    if (offset >= this.endOffset) return;
    const now = this.clock();
    if (offset <= this.startOffset || offset <= this.segments[0]!.baseOffset) {
      for (const s of this.segments) s.delete();
      const start = Math.max(offset, 0);
      this.segments = [Segment.create(this.dir, start, this.config.indexIntervalBytes, now)];
      this.startOffset = start;
      this.writeStartCheckpoint();
    } else {
      const i = this.segmentIndexFor(offset);
      for (const later of this.segments.slice(i + 1)) later.delete();
      this.segments = this.segments.slice(0, i + 1);
      const segment = this.active;
      const found = segment.findBatch(offset);
      if (found) segment.truncateToPosition(found.position);
    }
    fsyncDir(this.dir);
    this.dirty.clear();
    this.endOffset = this.active.nextOffset;
    if (this.syncedOffset > this.endOffset) this.syncedOffset = this.endOffset;
    if (this.syncCeiling > this.endOffset) this.syncCeiling = this.endOffset;
    this.settleWaitersAfterTruncation();
    this.writeRecoveryCheckpoint();
    if (this.startOffset > this.endOffset) {
      // The batch holding a mid-batch log start was cut whole, so the start comes down to the new end.
      this.startOffset = this.endOffset;
      this.writeStartCheckpoint();
    }
  }

  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.ensureWritable();
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new BrokerError('OFFSET_OUT_OF_RANGE', `cannot start the log again at ${offset}`);
    }
    for (const s of this.segments) s.delete();
    this.segments = [Segment.create(this.dir, offset, this.config.indexIntervalBytes, this.clock())];
    fsyncDir(this.dir);
    this.dirty.clear();
    this.startOffset = this.endOffset = offset;
    this.writeStartCheckpoint();
    // Nothing appended before is held any more: appends waiting for its fsync fail, flushes are done.
    for (const waiter of this.syncWaiters.splice(0)) {
      if (waiter.kind === 'append') {
        waiter.reject(
          new BrokerError('KAFKA_STORAGE_ERROR', 'the log was emptied before the append was flushed'),
        );
      } else {
        waiter.resolve();
      }
    }
    this.syncedOffset = offset;
    if (this.syncCeiling > offset) this.syncCeiling = offset;
    this.writeRecoveryCheckpoint();
  }

  /**
   * Appends waiting for an fsync of records that were just truncated away fail (those records are gone);
   * flushes waiting past the new end now wait for the new end only.
   */
  private settleWaitersAfterTruncation(): void {
    const keep: SyncWaiter[] = [];
    for (const waiter of this.syncWaiters) {
      if (waiter.endOffset <= this.endOffset) {
        keep.push(waiter);
      } else if (waiter.kind === 'append') {
        waiter.reject(
          new BrokerError('KAFKA_STORAGE_ERROR', 'the log was truncated before the append was flushed'),
        );
      } else {
        waiter.endOffset = this.endOffset;
        keep.push(waiter);
      }
    }
    this.syncWaiters = keep;
    this.synced(this.syncedOffset);
  }

  async deleteRecordsBefore(offset: number): Promise<number> {
    this.ensureWritable();
    if (!Number.isSafeInteger(offset) || offset > this.endOffset || offset < 0) {
      throw new BrokerError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records before ${offset}: the log ends at ${this.endOffset}`,
      );
    }
    if (offset <= this.startOffset) return this.startOffset;
    this.startOffset = offset;
    this.writeStartCheckpoint();
    await this.deleteSegmentsWhile((_segment, next) => next.baseOffset <= this.startOffset);
    return this.startOffset;
  }

  async enforceRetention(now = this.clock()): Promise<number> {
    this.ensureWritable();
    const { retentionMs, retentionBytes } = this.config;
    let size = this.sizeInBytes;
    const deleted = await this.deleteSegmentsWhile((segment) => {
      if (segment.ensureIndexes()) this.report.indexesRebuilt++;
      const expired =
        retentionMs >= 0 && segment.maxTimestamp >= 0 && now - segment.maxTimestamp > retentionMs;
      const oversize = retentionBytes >= 0 && size - segment.size >= retentionBytes;
      if (expired || oversize) size -= segment.size;
      return expired || oversize;
    });
    if (deleted > 0 && this.segments[0]!.baseOffset > this.startOffset) {
      this.startOffset = this.segments[0]!.baseOffset;
      this.writeStartCheckpoint();
    }
    return deleted;
  }

  /** Deletes the oldest closed segments while `predicate` holds; never the active one. */
  private async deleteSegmentsWhile(
    predicate: (segment: Segment, next: Segment) => boolean,
  ): Promise<number> {
    let deleted = 0;
    while (this.segments.length > 1 && predicate(this.segments[0]!, this.segments[1]!)) {
      const segment = this.segments.shift()!;
      this.dirty.delete(segment);
      segment.delete();
      deleted++;
    }
    if (deleted > 0) fsyncDir(this.dir);
    return deleted;
  }

  async maybeRoll(now = this.clock()): Promise<void> {
    this.ensureWritable();
    if (!this.active.isEmpty && now - this.active.rollStartMs > this.config.segmentMs) this.roll(now);
  }
}

/** Decodes the whole batches in `bytes` (read from `file` at `position`), checking every CRC. */
function decodeAll(bytes: Uint8Array, file: string, position: number): DecodedRecord[] {
  const records: DecodedRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    try {
      const batch = decodeRecordBatch(bytes, at, { verifyCrc: true });
      for (const r of batch.records) records.push(r);
      at += batch.header.sizeInBytes;
    } catch (err) {
      throw new BrokerError(
        'CORRUPT_MESSAGE',
        `corrupt record batch in ${file} at position ${position + at}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  return records;
}
