/**
 * @module
 * How the group coordinator persists its state: `GroupLog`, an append-only log of group records
 * (`group-records.ts`) that a restart replays, with `MemoryGroupLog` for memory-mode brokers and tests.
 * The file implementation (`src/partition/group-log-file.ts`) keeps it in `__consumer_offsets-0`.
 *
 * Reading a replay: apply the records in order; a later record of the same identity (group, or group +
 * topic + partition) replaces the earlier one, a tombstone removes it (`foldGroupRecords` does exactly
 * that). A group tombstone removes the group record only: deleting a group's offsets takes a tombstone
 * for each of them, as in Kafka.
 */
import { BrokerError } from '../shared/errors.ts';
import { decodeGroupRecord, encodeGroupRecord, type GroupRecord } from './group-records.ts';

export interface GroupLog {
  /** Appends the records as one batch; resolves once they are as durable as the log's flush policy says. */
  append(records: readonly GroupRecord[]): Promise<void>;
  /**
   * Every record from the log start, in log order (start-up replay), tombstones included; records of a
   * key version this broker does not know are skipped. Not to be run while `compact` is.
   */
  replay(): Promise<GroupRecord[]>;
  /** Bytes the log holds now (the coordinator compacts when it grows well past its live state). */
  readonly sizeInBytes: number;
  /**
   * Appends `live` (the whole current state, as records), then drops everything before it. After a crash
   * anywhere in between, replay still yields the same final state.
   *
   * Precondition: `live` is the fold (`foldGroupRecords`) of every record appended before the call, so
   * every removal since the last compaction must have been appended as a tombstone (a state dropped from
   * memory alone would come back if a crash kept the older records). Appends made after the call land
   * after the snapshot and are kept.
   */
  compact(live: readonly GroupRecord[]): Promise<void>;
  close(): Promise<void>;
}

interface StoredRecord {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** Bytes a MemoryGroupLog counts per record on top of key and value: about a RecordBatch v2 record's. */
const MEMORY_RECORD_OVERHEAD = 8;

function storedSize(record: StoredRecord): number {
  return MEMORY_RECORD_OVERHEAD + record.key.length + (record.value?.length ?? 0);
}

/**
 * The in-memory GroupLog. It keeps the encoded key/value bytes, not the objects, so every append and
 * replay goes through the same codec as the file log. Every method completes before its promise settles.
 */
export class MemoryGroupLog implements GroupLog {
  private records: StoredRecord[] = [];
  private bytes = 0;
  private closed = false;

  get sizeInBytes(): number {
    return this.bytes;
  }

  async append(records: readonly GroupRecord[]): Promise<void> {
    this.ensureOpen();
    // Encode everything first: a record that cannot be encoded leaves the log unchanged.
    const encoded = records.map(encodeGroupRecord);
    for (const record of encoded) {
      this.records.push(record);
      this.bytes += storedSize(record);
    }
  }

  async replay(): Promise<GroupRecord[]> {
    this.ensureOpen();
    const out: GroupRecord[] = [];
    for (const { key, value } of this.records) {
      const record = decodeGroupRecord(key, value);
      if (record !== null) out.push(record);
    }
    return out;
  }

  async compact(live: readonly GroupRecord[]): Promise<void> {
    this.ensureOpen();
    const encoded = live.map(encodeGroupRecord);
    this.records = encoded;
    this.bytes = encoded.reduce((sum, record) => sum + storedSize(record), 0);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private ensureOpen(): void {
    if (this.closed) throw new BrokerError('KAFKA_STORAGE_ERROR', 'the group log is closed');
  }
}
