/**
 * @module
 * One segment of a partition log: `<baseOffset>.log` (RecordBatch v2 byte for byte, exactly as Kafka
 * stores them), with its sparse `.index` and `.timeindex`. File names are the baseOffset in 20 digits.
 *
 * A segment is either active (the last one, which appends go to) or closed. The active segment keeps its
 * indexes in memory and writes them out whole when it is flushed, rolled or closed; a closed segment loads
 * its indexes only when first used, checks them against the `.log`, and rebuilds them if they disagree.
 * Opening a segment reads nothing: only recovery and reads touch the `.log`.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  BATCH_HEADER_SIZE,
  type BatchHeader,
  batchSizeAt,
  checkBatch,
  lastOffsetOf,
  readBatchHeader,
} from '../records/batch-header.ts';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';

/** Relative offsets are int32 in the index files, so a segment spans at most this many offsets. */
export const MAX_RELATIVE_OFFSET = 0x7fffffff;

/** Chunk read at a time when a segment is scanned. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

export function segmentFileName(baseOffset: number, suffix: string): string {
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** Why a scan stopped before the end of the file. */
export interface ScanStop {
  position: number;
  reason: string;
}

export interface ScanResult {
  /** Bytes of valid batches from the start of the file. */
  validBytes: number;
  /** Offset after the last valid batch (the segment's baseOffset when there is none). */
  nextOffset: number;
  stop: ScanStop | null;
}

export class Segment {
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  /** Bytes of batches in the `.log`. */
  size: number;
  /** Offset after the last batch (only tracked for the active segment and after a scan). */
  nextOffset: number;
  /** Clock time of the first append (segment.ms rolls measure from here). */
  rollStartMs: number;
  /** The segment's largest record timestamp, -1 when unknown or empty. */
  maxTimestamp = -1;
  private offsetOfMaxTimestamp = -1;
  private bytesSinceLastIndexEntry = 0;
  private offsetIndex: OffsetIndex | null = null;
  private timeIndex: TimeIndex | null = null;
  private fd: number | null = null;
  /** Bumped whenever the in-memory indexes change; compared to skip rewriting or re-syncing unchanged files. */
  private indexVersion = 0;
  private writtenIndexVersion = -1;
  private syncedIndexVersion = -1;
  private readonly indexIntervalBytes: number;

  private constructor(
    dir: string,
    baseOffset: number,
    size: number,
    indexIntervalBytes: number,
    now: number,
  ) {
    this.baseOffset = baseOffset;
    this.logPath = path.join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    this.indexPath = path.join(dir, segmentFileName(baseOffset, INDEX_SUFFIX));
    this.timeIndexPath = path.join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX));
    this.size = size;
    this.nextOffset = baseOffset;
    this.rollStartMs = now;
    this.indexIntervalBytes = indexIntervalBytes;
  }

  /** Creates a new, empty segment on disk. */
  static create(dir: string, baseOffset: number, indexIntervalBytes: number, now: number): Segment {
    const segment = new Segment(dir, baseOffset, 0, indexIntervalBytes, now);
    segment.fd = fs.openSync(segment.logPath, 'w+');
    segment.offsetIndex = new OffsetIndex();
    segment.timeIndex = new TimeIndex();
    fs.writeFileSync(segment.indexPath, new Uint8Array(0));
    fs.writeFileSync(segment.timeIndexPath, new Uint8Array(0));
    return segment;
  }

  /** Opens an existing segment of `size` bytes without reading it. */
  static open(
    dir: string,
    baseOffset: number,
    size: number,
    indexIntervalBytes: number,
    now: number,
  ): Segment {
    return new Segment(dir, baseOffset, size, indexIntervalBytes, now);
  }

  /** Set once the files are removed; the segment must not be used after. */
  deleted = false;

  get file(): number {
    if (this.deleted) throw new Error(`segment ${this.logPath} was deleted`);
    if (this.fd === null) this.fd = fs.openSync(this.logPath, 'r+');
    return this.fd;
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /** Records a batch written at `position` in the indexes (appends and rebuilds both come here). */
  indexBatch(position: number, sizeInBytes: number, lastOffset: number, maxTimestamp: number): void {
    const offsetIndex = this.offsetIndex!;
    const timeIndex = this.timeIndex!;
    this.indexVersion++;
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes) {
      offsetIndex.append(lastOffset - this.baseOffset, position);
      if (this.maxTimestamp >= 0)
        timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += sizeInBytes;
    this.nextOffset = lastOffset + 1;
  }

  /** Called when the segment stops being active: the time index gets its final (largest) entry. */
  seal(): void {
    this.ensureIndexes();
    if (this.maxTimestamp >= 0)
      this.timeIndex!.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp - this.baseOffset);
  }

  /** Writes both index files whole (they are small: one entry per index.interval.bytes). */
  writeIndexes(): void {
    if (!this.offsetIndex || !this.timeIndex || this.writtenIndexVersion === this.indexVersion) return;
    fs.writeFileSync(this.indexPath, this.offsetIndex.encode());
    fs.writeFileSync(this.timeIndexPath, this.timeIndex.encode());
    this.writtenIndexVersion = this.indexVersion;
  }

  /** Fsyncs the index files (after `writeIndexes`). */
  syncIndexes(): void {
    if (this.syncedIndexVersion === this.writtenIndexVersion) return;
    this.syncedIndexVersion = this.writtenIndexVersion;
    for (const p of [this.indexPath, this.timeIndexPath]) {
      const fd = fs.openSync(p, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
  }

  /**
   * Loads the indexes of a closed segment on first use. They are trusted only if well formed and the
   * last offset-index entry points at a batch with the offset it claims; otherwise they are rebuilt from
   * the `.log`. Returns true when a rebuild happened.
   */
  ensureIndexes(): boolean {
    if (this.offsetIndex && this.timeIndex) return false;
    const offsetIndex = OffsetIndex.decode(readFileOrEmpty(this.indexPath), this.size);
    const timeIndex = TimeIndex.decode(readFileOrEmpty(this.timeIndexPath));
    if (
      offsetIndex &&
      timeIndex &&
      this.indexAgreesWithLog(offsetIndex) &&
      (timeIndex.entries > 0 || this.size === 0)
    ) {
      this.offsetIndex = offsetIndex;
      this.timeIndex = timeIndex;
      const last = timeIndex.last();
      if (last) {
        this.maxTimestamp = last.timestamp;
        this.offsetOfMaxTimestamp = this.baseOffset + last.relativeOffset;
      }
      return false;
    }
    this.rebuildIndexes(false);
    return true;
  }

  private indexAgreesWithLog(index: OffsetIndex): boolean {
    const last = index.last();
    if (!last) return this.size < this.indexIntervalBytes * 2 || this.size === 0;
    try {
      const header = this.headerAt(last.position);
      return header !== null && lastOffsetOf(header) === this.baseOffset + last.relativeOffset;
    } catch {
      return false;
    }
  }

  /**
   * Scans the `.log` from the start, rebuilding the indexes. With `validate`, each batch's structure, CRC
   * and offset continuity are checked and the scan stops at the first bad one (recovery); without it only
   * headers are read (an index rebuild of a flushed segment).
   */
  rebuildIndexes(validate: boolean): ScanResult {
    this.offsetIndex = new OffsetIndex();
    this.timeIndex = new TimeIndex();
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    const fileSize = fs.fstatSync(this.file).size;
    const result = validate ? this.scanValidating(fileSize) : this.scanHeaders(fileSize);
    this.size = result.validBytes;
    this.nextOffset = result.nextOffset;
    return result;
  }

  private scanHeaders(fileSize: number): ScanResult {
    let position = 0;
    let expected = this.baseOffset;
    while (position < fileSize) {
      const header = this.headerAt(position, fileSize);
      if (!header)
        return {
          validBytes: position,
          nextOffset: expected,
          stop: { position, reason: 'torn batch header' },
        };
      if (header.sizeInBytes < BATCH_HEADER_SIZE || position + header.sizeInBytes > fileSize) {
        return { validBytes: position, nextOffset: expected, stop: { position, reason: 'bad batch length' } };
      }
      if (header.baseOffset !== expected) {
        return {
          validBytes: position,
          nextOffset: expected,
          stop: { position, reason: `unexpected baseOffset ${header.baseOffset}, expected ${expected}` },
        };
      }
      this.indexBatch(position, header.sizeInBytes, lastOffsetOf(header), header.maxTimestamp);
      expected = lastOffsetOf(header) + 1;
      position += header.sizeInBytes;
    }
    return { validBytes: position, nextOffset: expected, stop: null };
  }

  private scanValidating(fileSize: number): ScanResult {
    let position = 0;
    let expected = this.baseOffset;
    let chunk: Uint8Array = new Uint8Array(0);
    let chunkStart = 0;
    while (position < fileSize) {
      let rel = position - chunkStart;
      let size = batchSizeAt(chunk, rel);
      if (size < 0 || size > chunk.length - rel) {
        // Refill so the chunk starts at this batch and holds it whole (if the file does).
        const want = Math.min(fileSize - position, Math.max(SCAN_CHUNK_BYTES, size));
        chunk = this.readAt(position, want);
        chunkStart = position;
        rel = 0;
        size = batchSizeAt(chunk, 0);
      }
      const stop = (reason: string): ScanResult => ({
        validBytes: position,
        nextOffset: expected,
        stop: { position, reason },
      });
      if (size < 0) return stop('torn batch header');
      if (size < BATCH_HEADER_SIZE) return stop(`bad batch length ${size}`);
      if (size > fileSize - position)
        return stop(`torn batch: ${size} bytes declared, ${fileSize - position} on disk`);
      let header: BatchHeader;
      try {
        header = checkBatch(chunk, rel);
      } catch (err) {
        return stop((err as Error).message);
      }
      if (header.baseOffset !== expected)
        return stop(`unexpected baseOffset ${header.baseOffset}, expected ${expected}`);
      if (lastOffsetOf(header) - this.baseOffset > MAX_RELATIVE_OFFSET)
        return stop('offset beyond the segment range');
      this.indexBatch(position, size, lastOffsetOf(header), header.maxTimestamp);
      expected = lastOffsetOf(header) + 1;
      position += size;
    }
    return { validBytes: position, nextOffset: expected, stop: null };
  }

  /**
   * After a clean shutdown: trusts the indexes (checked by `ensureIndexes`) and reads only the batch
   * headers after the last index entry to find the end. Returns false when those headers are not a clean
   * continuation, so the caller recovers the segment instead.
   */
  resumeAfterCleanShutdown(): boolean {
    this.ensureIndexes();
    const fileSize = fs.fstatSync(this.file).size;
    this.size = fileSize;
    const last = this.offsetIndex!.last();
    let position = last ? last.position : 0;
    const first = this.headerAt(position, fileSize);
    let expected = first ? first.baseOffset : this.baseOffset;
    if (!last) expected = this.baseOffset;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = expected;
    const entriesBefore = this.offsetIndex!.entries + this.timeIndex!.entries;
    while (position < fileSize) {
      const header = this.headerAt(position, fileSize);
      if (!header || header.baseOffset !== expected || header.sizeInBytes < BATCH_HEADER_SIZE) return false;
      if (position + header.sizeInBytes > fileSize) return false;
      this.indexBatch(position, header.sizeInBytes, lastOffsetOf(header), header.maxTimestamp);
      expected = lastOffsetOf(header) + 1;
      position += header.sizeInBytes;
    }
    // The clean close wrote and synced these indexes; unless the tail scan added entries, they are on disk.
    if (this.offsetIndex!.entries + this.timeIndex!.entries === entriesBefore) {
      this.writtenIndexVersion = this.syncedIndexVersion = this.indexVersion;
    }
    return true;
  }

  /** Reads the batch header at `position`, or null when the file holds fewer than a header's bytes there. */
  headerAt(position: number, limit = this.size): BatchHeader | null {
    if (limit - position < BATCH_HEADER_SIZE) return null;
    return readBatchHeader(this.readAt(position, BATCH_HEADER_SIZE), 0);
  }

  /** Reads `length` bytes at `position` (fewer at end of file). */
  readAt(position: number, length: number): Uint8Array {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.file, buf, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buf : buf.subarray(0, done);
  }

  /**
   * Finds the first batch whose last offset is >= `offset`, scanning from the nearest index entry.
   * Returns its position and header, or null when no such batch has been written.
   */
  findBatch(offset: number): { position: number; header: BatchHeader } | null {
    this.ensureIndexes();
    let position = this.offsetIndex!.lookup(offset - this.baseOffset);
    for (;;) {
      const header = this.headerAt(position);
      if (!header) return null;
      if (lastOffsetOf(header) >= offset) return { position, header };
      position += header.sizeInBytes;
    }
  }

  /** Relative offset at which to start looking for `timestamp` (see TimeIndex.lookup). */
  timeLookup(timestamp: number): number {
    this.ensureIndexes();
    return this.baseOffset + this.timeIndex!.lookup(timestamp);
  }

  /** Cuts the `.log` at `position` and rebuilds the indexes from what remains. */
  truncateToPosition(position: number): void {
    fs.ftruncateSync(this.file, position);
    fs.fsyncSync(this.file);
    this.rebuildIndexes(false);
  }

  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Closes and removes the segment's three files. */
  delete(): void {
    this.deleted = true;
    this.close();
    for (const p of [this.logPath, this.indexPath, this.timeIndexPath]) fs.rmSync(p, { force: true });
  }
}

function readFileOrEmpty(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch {
    return new Uint8Array(0);
  }
}
