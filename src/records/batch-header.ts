/**
 * @module
 * The fixed 61-byte header of a Kafka RecordBatch v2 (magic 2), and the checks every stored batch passes.
 *
 * Byte layout (big-endian), as Kafka's `DefaultRecordBatch`:
 *
 *   offset  size  field
 *        0     8  baseOffset            assigned by the broker on append (outside the CRC)
 *        8     4  batchLength           bytes after this field (total size - 12)
 *       12     4  partitionLeaderEpoch  outside the CRC
 *       16     1  magic                 always 2
 *       17     4  crc                   CRC-32C of bytes 21..end
 *       21     2  attributes            bits 0-2 codec, 3 timestampType, 4 transactional, 5 control,
 *                                       6 hasDeleteHorizonMs
 *       23     4  lastOffsetDelta
 *       27     8  baseTimestamp         (Kafka calls it firstTimestamp)
 *       35     8  maxTimestamp
 *       43     8  producerId            -1 when not idempotent
 *       51     2  producerEpoch
 *       53     4  baseSequence
 *       57     4  recordCount
 *       61     …  records (compressed as one block when the codec is not none)
 *
 * Because baseOffset and partitionLeaderEpoch are outside the CRC, the broker assigns offsets by
 * rewriting 8 bytes in place, with no re-checksum.
 */
import { BrokerError } from '../shared/errors.ts';
import { crc32c } from './crc32c.ts';

export const BATCH_HEADER_SIZE = 61;
/** Bytes before batchLength's count starts: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;
export const MAGIC_V2 = 2;

export const OFFSET_BASE_OFFSET = 0;
export const OFFSET_BATCH_LENGTH = 8;
export const OFFSET_LEADER_EPOCH = 12;
export const OFFSET_MAGIC = 16;
export const OFFSET_CRC = 17;
export const OFFSET_ATTRIBUTES = 21;
export const OFFSET_LAST_OFFSET_DELTA = 23;
export const OFFSET_BASE_TIMESTAMP = 27;
export const OFFSET_MAX_TIMESTAMP = 35;
export const OFFSET_PRODUCER_ID = 43;
export const OFFSET_PRODUCER_EPOCH = 51;
export const OFFSET_BASE_SEQUENCE = 53;
export const OFFSET_RECORD_COUNT = 57;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

export enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

export enum TimestampType {
  CreateTime = 0,
  LogAppendTime = 1,
}

export interface BatchHeader {
  baseOffset: number;
  /** Total size of the batch in bytes, header included (batchLength + 12). */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function compressionOf(attributes: number): CompressionType {
  return (attributes & ATTR_COMPRESSION_MASK) as CompressionType;
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Reads an int64 as a number (exact within ±2^53, Freshet's range for offsets and timestamps). Two 32-bit
 * reads instead of getBigInt64: this runs for every batch on the append path, and BigInt allocates.
 */
function readInt64(dv: DataView, at: number): number {
  return dv.getInt32(at) * 0x1_0000_0000 + dv.getUint32(at + 4);
}

/** Reads the header of the batch starting at `pos` (no validation beyond bounds). */
export function readBatchHeader(buf: Uint8Array, pos = 0): BatchHeader {
  if (buf.length - pos < BATCH_HEADER_SIZE) {
    throw new BrokerError('CORRUPT_MESSAGE', `record batch header truncated: ${buf.length - pos} bytes`);
  }
  const dv = view(buf);
  return {
    baseOffset: readInt64(dv, pos + OFFSET_BASE_OFFSET),
    sizeInBytes: dv.getInt32(pos + OFFSET_BATCH_LENGTH) + LOG_OVERHEAD,
    partitionLeaderEpoch: dv.getInt32(pos + OFFSET_LEADER_EPOCH),
    magic: dv.getInt8(pos + OFFSET_MAGIC),
    crc: dv.getUint32(pos + OFFSET_CRC),
    attributes: dv.getInt16(pos + OFFSET_ATTRIBUTES),
    lastOffsetDelta: dv.getInt32(pos + OFFSET_LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(dv, pos + OFFSET_BASE_TIMESTAMP),
    maxTimestamp: readInt64(dv, pos + OFFSET_MAX_TIMESTAMP),
    producerId: readInt64(dv, pos + OFFSET_PRODUCER_ID),
    producerEpoch: dv.getInt16(pos + OFFSET_PRODUCER_EPOCH),
    baseSequence: dv.getInt32(pos + OFFSET_BASE_SEQUENCE),
    recordCount: dv.getInt32(pos + OFFSET_RECORD_COUNT),
  };
}

/** Size in bytes of the batch at `pos`, or -1 when fewer than 12 bytes remain to tell. */
export function batchSizeAt(buf: Uint8Array, pos = 0): number {
  if (buf.length - pos < LOG_OVERHEAD) return -1;
  return view(buf).getInt32(pos + OFFSET_BATCH_LENGTH) + LOG_OVERHEAD;
}

export function computeBatchCrc(buf: Uint8Array, pos: number, sizeInBytes: number): number {
  return crc32c(buf.subarray(pos + OFFSET_ATTRIBUTES, pos + sizeInBytes));
}

/**
 * Checks the structure and CRC of the batch at `pos` in `buf` and returns its header. Throws
 * CORRUPT_MESSAGE (with the reason) for a truncated, malformed or mis-checksummed batch.
 */
export function checkBatch(buf: Uint8Array, pos = 0, maxSize = Number.MAX_SAFE_INTEGER): BatchHeader {
  const header = readBatchHeader(buf, pos);
  if (header.magic !== MAGIC_V2) {
    throw new BrokerError(
      'CORRUPT_MESSAGE',
      `unsupported record batch magic ${header.magic} (only v2 is stored)`,
    );
  }
  if (header.sizeInBytes < BATCH_HEADER_SIZE) {
    throw new BrokerError(
      'CORRUPT_MESSAGE',
      `record batch length ${header.sizeInBytes} is below the header size`,
    );
  }
  if (header.sizeInBytes > maxSize) {
    throw new BrokerError('CORRUPT_MESSAGE', `record batch length ${header.sizeInBytes} exceeds ${maxSize}`);
  }
  if (header.sizeInBytes > buf.length - pos) {
    throw new BrokerError(
      'CORRUPT_MESSAGE',
      `record batch truncated: header says ${header.sizeInBytes} bytes, ${buf.length - pos} present`,
    );
  }
  if (header.recordCount < 0 || header.lastOffsetDelta < 0) {
    throw new BrokerError('CORRUPT_MESSAGE', 'record batch has a negative record count or offset delta');
  }
  if (header.recordCount > header.lastOffsetDelta + 1) {
    throw new BrokerError(
      'CORRUPT_MESSAGE',
      `record batch count ${header.recordCount} exceeds its offset span ${header.lastOffsetDelta + 1}`,
    );
  }
  const actual = computeBatchCrc(buf, pos, header.sizeInBytes);
  if (actual !== header.crc) {
    throw new BrokerError(
      'CORRUPT_MESSAGE',
      `record batch CRC mismatch: stored ${header.crc.toString(16)}, computed ${actual.toString(16)}`,
    );
  }
  return header;
}

/** Assigns the batch's offsets: rewrites baseOffset in place (outside the CRC, so no re-checksum). */
export function setBaseOffset(buf: Uint8Array, pos: number, baseOffset: number): void {
  const dv = view(buf);
  // Offsets are non-negative safe integers: two 32-bit writes, no BigInt on the append path.
  dv.setUint32(pos + OFFSET_BASE_OFFSET, Math.floor(baseOffset / 0x1_0000_0000));
  dv.setUint32(pos + OFFSET_BASE_OFFSET + 4, baseOffset >>> 0);
}

/** Sets partitionLeaderEpoch in place (outside the CRC). */
export function setPartitionLeaderEpoch(buf: Uint8Array, pos: number, epoch: number): void {
  view(buf).setInt32(pos + OFFSET_LEADER_EPOCH, epoch);
}

/** Sets maxTimestamp and the LogAppendTime bit, then re-checksums (these bytes are inside the CRC). */
export function setLogAppendTime(buf: Uint8Array, pos: number, timestamp: number): void {
  const dv = view(buf);
  const size = dv.getInt32(pos + OFFSET_BATCH_LENGTH) + LOG_OVERHEAD;
  dv.setInt16(pos + OFFSET_ATTRIBUTES, dv.getInt16(pos + OFFSET_ATTRIBUTES) | ATTR_TIMESTAMP_TYPE);
  dv.setBigInt64(pos + OFFSET_MAX_TIMESTAMP, BigInt(timestamp));
  dv.setUint32(pos + OFFSET_CRC, computeBatchCrc(buf, pos, size));
}

/** Last offset of a batch: baseOffset + lastOffsetDelta. */
export function lastOffsetOf(header: BatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}
