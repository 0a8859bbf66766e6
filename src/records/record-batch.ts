/**
 * @module
 * Encode and decode whole RecordBatch v2 with their records. (Placeholder types; implementation in progress.)
 */
import type { BatchHeader } from './batch-header.ts';

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** A record as a producer hands it over; offsets are assigned by the log. */
export interface RecordInput {
  key?: Uint8Array | null;
  value: Uint8Array | null;
  headers?: RecordHeader[];
  /** CreateTime in epoch ms; defaults to the batch's `now`. */
  timestamp?: number;
}

/** A record as read back from the log. */
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
}

export interface DecodedBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}
