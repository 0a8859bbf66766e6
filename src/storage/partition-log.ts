/**
 * @module
 * The one interface of a partition log, with a file implementation (`file-log.ts`) and a memory
 * implementation (`memory-log.ts`) that pass the same contract suite (`test/storage/partition-log.contract.ts`).
 *
 * Offsets are named by how durable they are:
 *   logStartOffset  first offset still readable (moves up with retention and deleteRecordsBefore)
 *   flushedOffset   every offset below it has been fsynced (the recovery point)
 *   logEndOffset    the offset the next appended record will get
 * Offsets and timestamps are JavaScript safe integers (< 2^53).
 */
import type { LogConfig } from '../config/log-config.ts';
import type { DecodedRecord } from '../records/record-batch.ts';
import type { Logger } from '../shared/logger.ts';

export interface AppendResult {
  /** Offset assigned to the first record of the first batch. */
  baseOffset: number;
  /** Offset of the last record of the last batch. */
  lastOffset: number;
  /** Records appended (sum over batches). */
  recordCount: number;
  /** Batches appended. */
  batchCount: number;
}

export interface AppendOptions {
  /** Written into each batch's partitionLeaderEpoch (replication uses it); default: left as sent. */
  leaderEpoch?: number;
  /**
   * A follower's append: the batches already carry the leader's offsets (and epochs), which are kept. The
   * first batch must start at logEndOffset and each must follow the one before, else OFFSET_OUT_OF_RANGE
   * and nothing is written.
   */
  keepOffsets?: boolean;
}

/**
 * A piece of the log to send as it is. `file` slices are handed to a socket sendfile-style (for example
 * `Bun.file(path).slice(position, position + length)`) and are valid until the segment is deleted.
 */
export type LogSlice =
  | { kind: 'file'; path: string; position: number; length: number }
  | { kind: 'bytes'; bytes: Uint8Array };

export interface ReadResult {
  /** Whole batches, in offset order, starting with the batch that contains the requested offset. */
  slices: LogSlice[];
  /** Total bytes over all slices. */
  sizeInBytes: number;
  /** Offset just past the last batch returned (the requested offset when nothing was returned). */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface RecordsReadResult {
  /** Records with offset >= the requested offset, in order. */
  records: DecodedRecord[];
  /** Offset to read from next. */
  nextOffset: number;
  logStartOffset: number;
  logEndOffset: number;
}

export interface TimestampOffset {
  offset: number;
  timestamp: number;
}

export interface RecoveryReport {
  /** Segments that were scanned and revalidated on open. */
  segmentsRecovered: number;
  /** Bytes cut from the tail because they were torn or corrupt. */
  bytesTruncated: number;
  /** Index files rebuilt because they were missing, short or inconsistent. */
  indexesRebuilt: number;
  /**
   * Corruption found below the recovery point: data that had been fsynced and yet was invalid. The log
   * keeps everything before it; each entry names the file, byte position and offsets lost, and is logged
   * at error level: it is never dropped silently.
   */
  flushedCorruption: Array<{ file: string; position: number; reason: string; offsetsLost: number }>;
}

export interface PartitionLog {
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly flushedOffset: number;
  /** Bytes of batches held (all segments). */
  readonly sizeInBytes: number;
  readonly segmentCount: number;
  /** What `open` found and mended; all zeros for a clean open. */
  readonly recoveryReport: RecoveryReport;

  /**
   * Validates one or more concatenated RecordBatch v2 (structure, CRC, record count, size against
   * max.message.bytes), assigns consecutive offsets by rewriting each baseOffset in place, and appends
   * them: all or nothing. `batches` is mutated (baseOffset) and read only during the call: when the promise
   * is returned, the bytes have been written or copied, so the caller may reuse the buffer. Resolves when the append is as durable as the flush policy promises; rejects with
   * CORRUPT_MESSAGE / INVALID_RECORD / MESSAGE_TOO_LARGE and nothing written for a bad batch.
   */
  append(batches: Uint8Array, options?: AppendOptions): Promise<AppendResult>;

  /**
   * Raw read: whole stored batches from the one containing `fromOffset`, up to `maxBytes` (at least one
   * batch). With `maxOffset`, only batches that end below it (a replicated partition's high watermark).
   */
  read(fromOffset: number, maxBytes: number, maxOffset?: number): Promise<ReadResult>;

  /**
   * Decoding read: the records at or after `fromOffset`, from batches totalling at most `maxBytes` (at least
   * one), and with `maxOffset` only from batches that end below it.
   */
  readRecords(fromOffset: number, maxBytes: number, maxOffset?: number): Promise<RecordsReadResult>;

  /** The first record whose timestamp is >= `timestamp`, or null when there is none. */
  offsetForTimestamp(timestamp: number): Promise<TimestampOffset | null>;

  /**
   * Removes every batch that holds an offset >= `offset` (batches are kept or removed whole, so the new
   * logEndOffset is the base of the batch containing `offset`, or `offset` itself at a batch boundary).
   * At or below logStartOffset the log is emptied and starts again at `offset`. Appends still waiting for
   * an fsync of truncated records fail with KAFKA_STORAGE_ERROR.
   */
  truncateTo(offset: number): Promise<void>;

  /**
   * Empties the log and starts it again at `offset`, whatever it held (Kafka's truncateFullyAndStartAt): a
   * follower whose log ends below its leader's log start begins again where the leader's log begins.
   * Appends still waiting for an fsync fail with KAFKA_STORAGE_ERROR.
   */
  truncateFullyAndStartAt(offset: number): Promise<void>;

  /**
   * Moves logStartOffset up to `offset`, deleting whole segments below it, and returns the new
   * logStartOffset (unchanged when `offset` is below it). Past logEndOffset: OFFSET_OUT_OF_RANGE, as Kafka.
   */
  deleteRecordsBefore(offset: number): Promise<number>;

  /** Applies retention.ms and retention.bytes to closed segments; returns how many segments it deleted. */
  enforceRetention(now?: number): Promise<number>;

  /** Rolls to a new segment if segment.ms has passed (appends also check on their way in). */
  maybeRoll(now?: number): Promise<void>;

  /** Fsyncs everything appended so far. */
  flush(): Promise<void>;

  /** Flushes, writes the checkpoints and closes files. The log cannot be used after. */
  close(): Promise<void>;
}

/** What both implementations are opened with. */
export interface LogOptions {
  config: Readonly<LogConfig>;
  /** Epoch-ms clock; injectable so tests can drive segment.ms and retention.ms. */
  clock?: () => number;
  logger?: Logger;
}
