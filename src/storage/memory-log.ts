/**
 * @module
 * `MemoryLog`: the in-memory `PartitionLog`, for tests and ephemeral topics; it passes the same contract suite
 * as the file log.
 *
 * It models segments as the file log does (roll by segment.bytes and segment.ms, retention deletes whole
 * closed segments and never the active one), so retention and roll behave identically, only without files.
 * Nothing is ever written anywhere, so "flushed" is trivially everything appended: flushedOffset ==
 * logEndOffset, flush() does nothing, and the recovery report is always clean. Owning worker only: methods
 * must not be called concurrently from several threads (within one thread, each method runs to completion
 * before its promise settles, so concurrent calls are serialised for free).
 */
import type { LogConfig } from '../config/log-config.ts';
import '../records/compression.ts';
import { lastOffsetOf, setBaseOffset, setPartitionLeaderEpoch } from '../records/batch-header.ts';
import { type DecodedRecord, decodeRecordBatch } from '../records/record-batch.ts';
import { BrokerError } from '../shared/errors.ts';
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
import { checkFollowerOffsets, validateAppend } from './validate-append.ts';

interface StoredBatch {
  /** The batch as stored (offsets assigned); a view into a copy the log owns, never the caller's buffer. */
  bytes: Uint8Array;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

interface Segment {
  baseOffset: number;
  batches: StoredBatch[];
  sizeInBytes: number;
  /** Newest timestamp in the segment (retention.ms looks at it); -1 while empty. */
  maxTimestamp: number;
  /** Clock time of the first append into the segment (segment.ms measures from here); -1 while empty. */
  rollStartMs: number;
}

const CLEAN_REPORT: RecoveryReport = Object.freeze({
  segmentsRecovered: 0,
  bytesTruncated: 0,
  indexesRebuilt: 0,
  flushedCorruption: Object.freeze([]) as unknown as RecoveryReport['flushedCorruption'],
});

export class MemoryLog implements PartitionLog {
  readonly recoveryReport: RecoveryReport = CLEAN_REPORT;
  private readonly config: Readonly<LogConfig>;
  private readonly clock: () => number;
  /** Oldest first; the last one is the active segment. Never empty. */
  private segments: Segment[];
  private startOffset = 0;
  private endOffset = 0;
  private closed = false;

  constructor(options: LogOptions) {
    this.config = options.config;
    this.clock = options.clock ?? Date.now;
    this.segments = [emptySegment(0)];
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.endOffset;
  }

  /** Memory has no durability to wait for: everything appended counts as flushed. */
  get flushedOffset(): number {
    return this.endOffset;
  }

  get sizeInBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeInBytes;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  async append(batches: Uint8Array, options: AppendOptions = {}): Promise<AppendResult> {
    this.ensureOpen();
    // Validate every batch before touching anything, so a bad batch anywhere leaves the log unchanged.
    const headers = validateAppend(batches, this.config.maxMessageBytes);
    if (options.keepOffsets) checkFollowerOffsets(headers, this.endOffset);
    const now = this.clock();
    this.rollIfDue(batches.length, now);

    // One copy for the whole append: the stored batches must not change if the caller reuses its buffer,
    // while the caller still sees its offsets rewritten in place as the contract documents.
    let nextOffset = this.endOffset;
    let pos = 0;
    for (const header of headers) {
      setBaseOffset(batches, pos, nextOffset);
      if (options.leaderEpoch !== undefined) setPartitionLeaderEpoch(batches, pos, options.leaderEpoch);
      header.baseOffset = nextOffset;
      nextOffset = lastOffsetOf(header) + 1;
      pos += header.sizeInBytes;
    }
    const owned = batches.slice();
    const segment = this.active;
    if (segment.batches.length === 0) segment.rollStartMs = now;
    let recordCount = 0;
    pos = 0;
    for (const header of headers) {
      segment.batches.push({
        bytes: owned.subarray(pos, pos + header.sizeInBytes),
        baseOffset: header.baseOffset,
        lastOffset: lastOffsetOf(header),
        maxTimestamp: header.maxTimestamp,
      });
      segment.sizeInBytes += header.sizeInBytes;
      segment.maxTimestamp = Math.max(segment.maxTimestamp, header.maxTimestamp);
      recordCount += header.recordCount;
      pos += header.sizeInBytes;
    }
    const baseOffset = this.endOffset;
    this.endOffset = nextOffset;
    return { baseOffset, lastOffset: nextOffset - 1, recordCount, batchCount: headers.length };
  }

  async read(fromOffset: number, maxBytes: number, maxOffset = Number.MAX_SAFE_INTEGER): Promise<ReadResult> {
    this.ensureOpen();
    this.checkRange(fromOffset);
    const slices: LogSlice[] = [];
    let sizeInBytes = 0;
    let nextOffset = fromOffset;
    // Slices are views of the stored bytes (zero-copy, like the file log's file slices): read-only.
    for (const batch of this.batchesFrom(fromOffset)) {
      if (slices.length > 0 && sizeInBytes + batch.bytes.length > maxBytes) break;
      if (batch.lastOffset >= maxOffset) break;
      slices.push({ kind: 'bytes', bytes: batch.bytes });
      sizeInBytes += batch.bytes.length;
      nextOffset = batch.lastOffset + 1;
    }
    return {
      slices,
      sizeInBytes,
      nextOffset,
      logStartOffset: this.startOffset,
      logEndOffset: this.endOffset,
    };
  }

  async readRecords(
    fromOffset: number,
    maxBytes: number,
    maxOffset = Number.MAX_SAFE_INTEGER,
  ): Promise<RecordsReadResult> {
    const result = await this.read(fromOffset, maxBytes, maxOffset);
    const records: DecodedRecord[] = [];
    for (const slice of result.slices) {
      if (slice.kind !== 'bytes') continue;
      for (const record of decodeStored(slice.bytes)) {
        if (record.offset >= fromOffset) records.push(record);
      }
    }
    return {
      records,
      nextOffset: result.nextOffset,
      logStartOffset: result.logStartOffset,
      logEndOffset: result.logEndOffset,
    };
  }

  async offsetForTimestamp(timestamp: number): Promise<TimestampOffset | null> {
    this.ensureOpen();
    for (const segment of this.segments) {
      if (segment.maxTimestamp < timestamp) continue;
      for (const batch of segment.batches) {
        if (batch.lastOffset < this.startOffset || batch.maxTimestamp < timestamp) continue;
        for (const record of decodeStored(batch.bytes)) {
          if (record.offset >= this.startOffset && record.timestamp >= timestamp) {
            return { offset: record.offset, timestamp: record.timestamp };
          }
        }
      }
    }
    return null;
  }

  async truncateTo(offset: number): Promise<void> {
    this.ensureOpen();
    if (offset >= this.endOffset) return;
    if (offset <= this.startOffset || offset <= this.segments[0]!.baseOffset) {
      // Nothing readable survives: like Kafka's truncateFullyAndStartAt, start over empty at `offset` (so a
      // logStartOffset inside a batch does not pull the log end back below it).
      this.segments = [emptySegment(offset)];
      this.startOffset = this.endOffset = offset;
      return;
    }
    let newEnd = offset;
    for (const segment of this.segments) {
      const kept = segment.batches.filter((batch) => batch.lastOffset < offset);
      const cut = segment.batches.find((batch) => batch.lastOffset >= offset);
      if (cut !== undefined) newEnd = Math.min(newEnd, cut.baseOffset);
      segment.batches = kept;
      segment.sizeInBytes = kept.reduce((sum, batch) => sum + batch.bytes.length, 0);
      segment.maxTimestamp = kept.reduce((max, batch) => Math.max(max, batch.maxTimestamp), -1);
      if (kept.length === 0) segment.rollStartMs = -1;
    }
    // Like Kafka: segments starting above the new end go, and the one holding it becomes the (possibly
    // empty) active segment. The first segment starts below `offset`, so at least one remains.
    this.segments = this.segments.filter((segment) => segment.baseOffset <= newEnd);
    this.endOffset = newEnd;
    // When logStartOffset sits inside the cut batch the new end falls below it; records below the old start
    // are deleted and those from newEnd on are gone, so lowering the start exposes nothing.
    this.startOffset = Math.min(this.startOffset, newEnd);
  }

  async truncateFullyAndStartAt(offset: number): Promise<void> {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new BrokerError('OFFSET_OUT_OF_RANGE', `cannot start the log again at ${offset}`);
    }
    this.segments = [emptySegment(offset)];
    this.startOffset = this.endOffset = offset;
  }

  /** Moves logStartOffset up to `offset`; OFFSET_OUT_OF_RANGE past logEndOffset, as Kafka's DeleteRecords. */
  async deleteRecordsBefore(offset: number): Promise<number> {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.endOffset) {
      throw new BrokerError(
        'OFFSET_OUT_OF_RANGE',
        `cannot delete records before ${offset}: the log ends at ${this.endOffset}`,
      );
    }
    if (offset > this.startOffset) {
      this.startOffset = offset;
      this.dropSegmentsBelowStart();
    }
    return this.startOffset;
  }

  async enforceRetention(now: number = this.clock()): Promise<number> {
    this.ensureOpen();
    let deleted = 0;
    const { retentionMs, retentionBytes } = this.config;
    // Kafka's order and rules: time first, then size; both walk closed segments oldest first and stop at
    // the first one they keep, so what remains is always a suffix of the log.
    if (retentionMs >= 0) {
      while (this.segments.length > 1 && now - this.segments[0]!.maxTimestamp > retentionMs) {
        this.deleteOldestSegment();
        deleted++;
      }
    }
    if (retentionBytes >= 0) {
      let excess = this.sizeInBytes - retentionBytes;
      while (this.segments.length > 1 && excess - this.segments[0]!.sizeInBytes >= 0) {
        excess -= this.segments[0]!.sizeInBytes;
        this.deleteOldestSegment();
        deleted++;
      }
    }
    return deleted;
  }

  async maybeRoll(now: number = this.clock()): Promise<void> {
    this.ensureOpen();
    this.rollIfDue(0, now);
  }

  async flush(): Promise<void> {
    this.ensureOpen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.segments = [];
  }

  private ensureOpen(): void {
    if (this.closed) throw new BrokerError('KAFKA_STORAGE_ERROR', 'partition log is closed');
  }

  private checkRange(fromOffset: number): void {
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this.startOffset || fromOffset > this.endOffset) {
      throw new BrokerError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${fromOffset} is outside the log [${this.startOffset}, ${this.endOffset}]`,
      );
    }
  }

  /**
   * Kafka's shouldRoll: a non-empty active segment rolls when `incomingBytes` would take it past
   * segment.bytes, or when its first append is more than segment.ms before `now`. Unlike Kafka, age is
   * measured on the broker's clock, not the first batch's timestamp, so producers with skewed clocks cannot
   * force a roll per append (the file log measures the same way).
   */
  private rollIfDue(incomingBytes: number, now: number): void {
    const active = this.active;
    if (active.batches.length === 0) return;
    const full = active.sizeInBytes + incomingBytes > this.config.segmentBytes;
    const old = now - active.rollStartMs > this.config.segmentMs;
    if (full || old) this.segments.push(emptySegment(this.endOffset));
  }

  private deleteOldestSegment(): void {
    this.segments.shift();
    this.startOffset = Math.max(this.startOffset, this.segments[0]!.baseOffset);
  }

  /** Deletes closed segments that hold only offsets below logStartOffset. */
  private dropSegmentsBelowStart(): void {
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= this.startOffset) {
      this.segments.shift();
    }
  }

  /** Stored batches in offset order, from the one containing `fromOffset` (binary searches, no scan). */
  private *batchesFrom(fromOffset: number): Generator<StoredBatch> {
    const segments = this.segments;
    // Only the active segment can be empty, so "last batch ends before fromOffset" is monotonic.
    let s = firstIndex(
      segments.length,
      (i) => (segments[i]!.batches.at(-1)?.lastOffset ?? Infinity) >= fromOffset,
    );
    let b =
      s < segments.length
        ? firstIndex(segments[s]!.batches.length, (i) => segments[s]!.batches[i]!.lastOffset >= fromOffset)
        : 0;
    for (; s < segments.length; s++, b = 0) {
      const batches = segments[s]!.batches;
      for (; b < batches.length; b++) yield batches[b]!;
    }
  }
}

/** The first index in [0, length) where the monotonic `test` holds, or `length` when it never does. */
function firstIndex(length: number, test: (index: number) => boolean): number {
  let low = 0;
  let high = length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (test(mid)) high = mid;
    else low = mid + 1;
  }
  return low;
}

function emptySegment(baseOffset: number): Segment {
  return { baseOffset, batches: [], sizeInBytes: 0, maxTimestamp: -1, rollStartMs: -1 };
}

/** Decodes a stored batch (LogAppendTime batches read every record as maxTimestamp, as Kafka does). */
function decodeStored(bytes: Uint8Array): DecodedRecord[] {
  // Stored batches were CRC-checked on append and memory cannot rot, so the CRC is not recomputed.
  return decodeRecordBatch(bytes, 0, { verifyCrc: false }).records;
}
