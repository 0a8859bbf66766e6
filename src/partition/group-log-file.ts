/**
 * @module
 * The file GroupLog: the coordinator's records in `<dataDir>/__consumer_offsets-0`, a FileLog like any
 * partition's, each record a RecordBatch v2 record whose key and value are Kafka's (`group-records.ts`).
 *
 * Layout and durability are the FileLog's (`src/storage/file-log.ts`): an append is one uncompressed batch
 * (timestamps = now), acknowledged as the flush policy of the broker's log config says; after a kill -9,
 * opening the log cuts a torn tail back to the last whole batch, so a torn append is lost whole.
 * Retention never applies: these records are the groups' state, and only `compact` may drop them.
 *
 * Compaction. `compact(live)` rolls to a new segment, appends the snapshot `live` there, fsyncs it, and then
 * moves the log start to the snapshot's first offset, which deletes every older segment. A crash at any
 * point leaves a log whose replay folds to the same state:
 *   - before the snapshot is written, or with the snapshot torn: the older records are all still there,
 *     followed by nothing or by a prefix of the snapshot, and each snapshot record only repeats the value
 *     its key already has. A large snapshot is several batches (under SNAPSHOT_BATCH_BYTES each, so no one
 *     batch is huge) and recovery may keep any whole-batch prefix of them; by the same argument that is
 *     still correct, so the snapshot need not be atomic;
 *   - after the fsync, before or during the delete: the whole snapshot is durable, and the log start
 *     checkpoint is written before any segment is unlinked, so replay sees the old records and the whole
 *     snapshot, or the snapshot alone.
 * The fsync before the delete matters for power loss: without it the old segments could be unlinked
 * while the snapshot is still only in the page cache.
 */
import path from 'node:path';
import type { LogConfig } from '../config/log-config.ts';
import type { GroupLog } from '../coordinator/group-log.ts';
import {
  decodeGroupRecord,
  encodeGroupRecord,
  type GroupRecord,
  OFFSETS_TOPIC,
} from '../coordinator/group-records.ts';
import { encodeRecordBatch, type RecordInput } from '../records/record-batch.ts';
import { BrokerError } from '../shared/errors.ts';
import { type Logger, silentLogger } from '../shared/logger.ts';
import { type FileLog, openFileLog } from '../storage/file-log.ts';
import { partitionDirName } from './partition-manager.ts';

/** The internal topic the coordinator's records live in (partition 0 only, for now). */
export const GROUP_LOG_PARTITION = 0;

/** Target size of one snapshot batch; a single record larger than this gets a batch of its own. */
export const SNAPSHOT_BATCH_BYTES = 1024 * 1024;
/**
 * The largest batch this log accepts, whatever the broker's max.message.bytes: an append is one batch (so
 * a coordinator operation is atomic), and a large group's metadata is one record.
 */
export const GROUP_LOG_MAX_BATCH_BYTES = 64 * 1024 * 1024;
/**
 * compact rolls the segment through `maybeRoll` with a clock reading of MAX_SAFE_INTEGER; that is a roll
 * only while segment.ms is below about 2^53 - now, so segment.ms is capped here (a year is plenty).
 */
const MAX_SEGMENT_MS = 365 * 24 * 60 * 60 * 1000;
const FORCE_ROLL_NOW = Number.MAX_SAFE_INTEGER;
/** Bytes read per `readRecords` call during replay. */
const REPLAY_CHUNK_BYTES = 1024 * 1024;
/** Per-record bytes a batch adds on top of key and value, at most (varints, attributes, header count). */
const RECORD_OVERHEAD_BOUND = 32;
/** RecordBatch v2 header. */
const BATCH_OVERHEAD = 61;

export interface FileGroupLogOptions {
  /** The broker's data directory; the log is `<dataDir>/__consumer_offsets-0`. */
  dataDir: string;
  /** The broker's log config: its flush policy and segment sizes apply, its retention does not. */
  logConfig: LogConfig;
  logger?: Logger;
}

/**
 * The config the group log runs with: `config` with retention.ms and retention.bytes forced to -1 (keep
 * forever), max.message.bytes raised to at least GROUP_LOG_MAX_BATCH_BYTES and segment.ms capped at a
 * year (see MAX_SEGMENT_MS). The flush policy (flushPolicy, flushMessages, flushMs) is kept.
 */
export function groupLogConfig(config: Readonly<LogConfig>): Readonly<LogConfig> {
  return Object.freeze({
    ...config,
    retentionMs: -1,
    retentionBytes: -1,
    maxMessageBytes: Math.max(config.maxMessageBytes, GROUP_LOG_MAX_BATCH_BYTES),
    segmentMs: Math.min(config.segmentMs, MAX_SEGMENT_MS),
  });
}

/** `<dataDir>/__consumer_offsets-0`. */
export function groupLogDir(dataDir: string): string {
  return path.join(dataDir, partitionDirName(OFFSETS_TOPIC, GROUP_LOG_PARTITION));
}

/**
 * `records` as concatenated RecordBatch v2 (uncompressed, timestamps = `now`), starting a new batch
 * whenever the next record would take the current one past `targetBytes`. Empty for no records.
 */
export function encodeGroupBatches(
  records: readonly GroupRecord[],
  targetBytes = SNAPSHOT_BATCH_BYTES,
  now = Date.now(),
): Uint8Array[] {
  const batches: Uint8Array[] = [];
  let pending: RecordInput[] = [];
  let pendingBytes = BATCH_OVERHEAD;
  for (const record of records) {
    const { key, value } = encodeGroupRecord(record);
    const size = RECORD_OVERHEAD_BOUND + key.length + (value?.length ?? 0);
    if (pending.length > 0 && pendingBytes + size > targetBytes) {
      batches.push(encodeRecordBatch(pending, { now }));
      pending = [];
      pendingBytes = BATCH_OVERHEAD;
    }
    pending.push({ key, value });
    pendingBytes += size;
  }
  if (pending.length > 0) batches.push(encodeRecordBatch(pending, { now }));
  return batches;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/** Opens (creating when missing, recovering after a crash) the coordinator's log under `dataDir`. */
export async function openFileGroupLog(options: FileGroupLogOptions): Promise<GroupLog> {
  const logger = options.logger ?? silentLogger;
  const dir = groupLogDir(options.dataDir);
  const log = await openFileLog(dir, { config: groupLogConfig(options.logConfig), logger });
  const report = log.recoveryReport;
  if (report.segmentsRecovered > 0 || report.bytesTruncated > 0) {
    logger.info('recovered the group log', { dir, ...report });
  }
  return new FileGroupLog(log, dir);
}

class FileGroupLog implements GroupLog {
  private readonly log: FileLog;
  private readonly dir: string;
  private closed = false;

  constructor(log: FileLog, dir: string) {
    this.log = log;
    this.dir = dir;
  }

  get sizeInBytes(): number {
    return this.log.sizeInBytes;
  }

  async append(records: readonly GroupRecord[]): Promise<void> {
    this.ensureOpen();
    if (records.length === 0) return;
    const batches = encodeGroupBatches(records, Number.POSITIVE_INFINITY);
    await this.log.append(batches[0]!);
  }

  async replay(): Promise<GroupRecord[]> {
    this.ensureOpen();
    const out: GroupRecord[] = [];
    let offset = this.log.logStartOffset;
    while (offset < this.log.logEndOffset) {
      const read = await this.log.readRecords(offset, REPLAY_CHUNK_BYTES);
      if (read.nextOffset <= offset) {
        throw new BrokerError('KAFKA_STORAGE_ERROR', `${this.dir}: replay made no progress at ${offset}`);
      }
      for (const stored of read.records) {
        // A segment can hold records below the log start (it moves by offset, segments go whole).
        if (stored.offset < offset || stored.offset < read.logStartOffset) continue;
        const record = this.decode(stored.offset, stored.key, stored.value);
        if (record !== null) out.push(record);
      }
      offset = read.nextOffset;
    }
    return out;
  }

  private decode(offset: number, key: Uint8Array | null, value: Uint8Array | null): GroupRecord | null {
    if (key === null) {
      throw new BrokerError('CORRUPT_MESSAGE', `${this.dir} offset ${offset}: a group record without a key`);
    }
    try {
      return decodeGroupRecord(key, value);
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      throw new BrokerError(err.code, `${this.dir} offset ${offset}: ${err.message}`, { cause: err });
    }
  }

  async compact(live: readonly GroupRecord[]): Promise<void> {
    this.ensureOpen();
    const batches = encodeGroupBatches(live);
    // The roll and the snapshot's append are called back to back, with no await between them: both do
    // their writing before they return, so no other append can land between the roll and the snapshot,
    // and the snapshot begins its own segment, which lets the delete below free every older one.
    const rolled = this.log.maybeRoll(FORCE_ROLL_NOW);
    const emptySnapshotBase = this.log.logEndOffset;
    const appended = batches.length > 0 ? this.log.append(concat(batches)) : Promise.resolve(null);
    const [, result] = await Promise.all([rolled, appended]);
    const snapshotBase = result === null ? emptySnapshotBase : result.baseOffset;
    await this.log.flush();
    await this.log.deleteRecordsBefore(snapshotBase);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.log.close();
  }

  private ensureOpen(): void {
    if (this.closed) throw new BrokerError('KAFKA_STORAGE_ERROR', `the group log ${this.dir} is closed`);
  }
}
