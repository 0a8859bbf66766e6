/**
 * @module
 * Hand-built record batches for the validation tests: every field under the test's control, including
 * the wrong ones `encodeRecordBatch` would never write.
 */
import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  OFFSET_ATTRIBUTES,
  OFFSET_CRC,
} from '../../src/records/batch-header.ts';
import { crc32c } from '../../src/records/crc32c.ts';
import { writeVarint, writeVarlong } from '../../src/records/varint.ts';
import { concat, utf8 } from './fixtures.ts';

export function varint(value: number): Uint8Array {
  const buf = new Uint8Array(5);
  return buf.slice(0, writeVarint(buf, 0, value));
}

export function varlong(value: number): Uint8Array {
  const buf = new Uint8Array(10);
  return buf.slice(0, writeVarlong(buf, 0, value));
}

export interface RawRecord {
  offsetDelta: number;
  timestampDelta?: number;
  /** Bytes, null, or a raw length varint with no bytes after it (for broken lengths). */
  key?: Uint8Array | null | { rawLength: number };
  value?: Uint8Array | null;
  headers?: [string | { rawLength: number }, Uint8Array | null][];
  /** Added to the true length when writing the length prefix. */
  lengthSkew?: number;
}

function bytesField(field: Uint8Array | null | { rawLength: number } | undefined): Uint8Array {
  if (field == null) return varint(-1);
  if ('rawLength' in field) return varint(field.rawLength);
  return concat(varint(field.length), field);
}

/** One record with its length prefix. */
export function rawRecord(record: RawRecord): Uint8Array {
  const headers = record.headers ?? [];
  const body = concat(
    new Uint8Array([0]),
    varlong(record.timestampDelta ?? 0),
    varint(record.offsetDelta),
    bytesField(record.key === undefined ? null : record.key),
    bytesField(record.value === undefined ? utf8('v') : record.value),
    varint(headers.length),
    ...headers.map(([key, value]) =>
      concat(typeof key === 'string' ? bytesField(utf8(key)) : varint(key.rawLength), bytesField(value)),
    ),
  );
  return concat(varint(body.length + (record.lengthSkew ?? 0)), body);
}

export interface RawBatch {
  records: Uint8Array;
  recordCount: number;
  lastOffsetDelta: number;
  attributes?: number;
  baseTimestamp?: number;
}

/** A batch around `records` (already encoded, maybe compressed) with a correct CRC. */
export function rawBatch(batch: RawBatch): Uint8Array {
  const out = new Uint8Array(BATCH_HEADER_SIZE + batch.records.length);
  const dv = new DataView(out.buffer);
  const ts = BigInt(batch.baseTimestamp ?? 1_700_000_000_000);
  dv.setBigInt64(0, 0n);
  dv.setInt32(8, out.length - LOG_OVERHEAD);
  dv.setInt32(12, -1);
  dv.setInt8(16, 2);
  dv.setInt16(21, batch.attributes ?? 0);
  dv.setInt32(23, batch.lastOffsetDelta);
  dv.setBigInt64(27, ts);
  dv.setBigInt64(35, ts);
  dv.setBigInt64(43, -1n);
  dv.setInt16(51, -1);
  dv.setInt32(53, -1);
  dv.setInt32(57, batch.recordCount);
  out.set(batch.records, BATCH_HEADER_SIZE);
  return recrc(out);
}

/** Recomputes the CRC after a test edits bytes inside it. */
export function recrc(batch: Uint8Array): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset).setUint32(
    OFFSET_CRC,
    crc32c(batch.subarray(OFFSET_ATTRIBUTES)),
  );
  return batch;
}

/** Three well-formed records with deltas `deltas`. */
export function records(deltas: number[] = [0, 1, 2]): Uint8Array {
  return concat(...deltas.map((offsetDelta) => rawRecord({ offsetDelta, key: utf8(`k${offsetDelta}`) })));
}
