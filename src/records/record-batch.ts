/**
 * @module
 * Encode, decode and deep-validate whole RecordBatch v2 (header in `batch-header.ts`) with their records.
 * Portable: only Uint8Array, DataView and TextEncoder/TextDecoder, so the client runs it in browsers.
 * Codecs are plugged in with `useCompression`; server code imports `compression.ts`, which does that.
 *
 * After the 61-byte header come `recordCount` records, compressed as one block when the batch's codec
 * is not none. Each record, as Kafka's `DefaultRecord`:
 *
 *   field            type      notes
 *   length           varint    bytes of the record after this field
 *   attributes       int8      unused, always 0
 *   timestampDelta   varlong   timestamp - batch baseTimestamp (may be negative)
 *   offsetDelta      varint    offset - batch baseOffset: 0..n-1 when produced, gaps after compaction
 *   keyLength        varint    -1 = null key
 *   key              bytes
 *   valueLength      varint    -1 = null value (a tombstone)
 *   value            bytes
 *   headerCount      varint
 *   headers          per header: keyLength varint + UTF-8 key (never null),
 *                                valueLength varint (-1 = null) + value bytes
 *
 * Varints are zigzag-encoded (`varint.ts`). With LogAppendTime the records keep their deltas, but every
 * record's timestamp reads as the batch's maxTimestamp.
 */
import { BrokerError } from '../shared/errors.ts';
import {
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  type BatchHeader,
  batchSizeAt,
  CompressionType,
  checkBatch,
  compressionOf,
  LOG_OVERHEAD,
  MAGIC_V2,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_OFFSET,
  OFFSET_BASE_SEQUENCE,
  OFFSET_BASE_TIMESTAMP,
  OFFSET_BATCH_LENGTH,
  OFFSET_CRC,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_LEADER_EPOCH,
  OFFSET_MAGIC,
  OFFSET_MAX_TIMESTAMP,
  OFFSET_PRODUCER_EPOCH,
  OFFSET_PRODUCER_ID,
  OFFSET_RECORD_COUNT,
  readBatchHeader,
  TimestampType,
} from './batch-header.ts';
import { crc32c } from './crc32c.ts';
import {
  type Cursor,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from './varint.ts';

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

export interface EncodeBatchOptions {
  /** Usually 0: the log assigns the real one on append (`setBaseOffset`). */
  baseOffset?: number;
  compression?: CompressionType;
  timestampType?: TimestampType;
  /** -1 (the default) when the producer is not idempotent. */
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  isControl?: boolean;
  partitionLeaderEpoch?: number;
  /** Epoch ms for records without a timestamp, and the LogAppendTime; defaults to `Date.now()`. */
  now?: number;
}

export interface DecodeBatchOptions {
  /** Check the CRC (default true). Skip it only for bytes this process validated itself. */
  verifyCrc?: boolean;
  /** Bound on the decompressed records (default: the codec's, 64 MiB). */
  maxDecompressedBytes?: number;
}

export interface ValidateRecordsOptions {
  /** Bound on the decompressed records (default: the codec's, 64 MiB). */
  maxDecompressedBytes?: number;
  /**
   * Accept offset deltas that increase with gaps (compacted batches, as recovery reads them) instead
   * of the produce-time rule: deltas exactly 0..n-1 and recordCount = lastOffsetDelta + 1.
   */
  allowOffsetGaps?: boolean;
}

/** What `record-batch.ts` needs from a codec implementation (`compression.ts` on servers). */
export interface RecordCodec {
  compress(type: CompressionType, data: Uint8Array): Uint8Array;
  decompress(type: CompressionType, data: Uint8Array, maxBytes?: number): Uint8Array;
}

let codec: RecordCodec | null = null;

/** Installs the codecs for compressed batches. Without it only uncompressed batches work. */
export function useCompression(impl: RecordCodec): void {
  codec = impl;
}

function codecFor(type: CompressionType): RecordCodec {
  if (type > CompressionType.Zstd || type < 0) {
    throw new BrokerError('UNSUPPORTED_COMPRESSION_TYPE', `unsupported compression type ${type}`);
  }
  if (codec === null) {
    throw new BrokerError(
      'UNSUPPORTED_COMPRESSION_TYPE',
      `compression type ${type} needs a codec: import src/records/compression.ts or call useCompression`,
    );
  }
  return codec;
}

// ------------------------------------------------------------------------------------------- encode

/** Minimal record: length, attributes, deltas, key/value lengths and header count, one byte each. */
const MIN_RECORD_SIZE = 7;
/** Reused for per-record sizes and uncompressed records before compression; a big batch is not kept. */
const SCRATCH_KEEP_LIMIT = 1 << 20;
let sizesScratch = new Int32Array(256);
let recordsScratch: Uint8Array = new Uint8Array(16 * 1024);

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** UTF-8 byte length of `s` as TextEncoder encodes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let size = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) size += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        size += 2; // a pair: 2 UTF-16 units, 4 bytes
        i++;
      } else size += 2;
    } else size += 2;
  }
  return size;
}

function writeUtf8(buf: Uint8Array, pos: number, s: string, byteLength: number): void {
  if (byteLength === s.length) {
    // ASCII, the usual header key: a loop beats encodeInto's call overhead for short strings.
    for (let i = 0; i < byteLength; i++) buf[pos + i] = s.charCodeAt(i);
  } else {
    textEncoder.encodeInto(s, buf.subarray(pos, pos + byteLength));
  }
}

function bytesSize(bytes: Uint8Array | null | undefined): number {
  return bytes == null ? 1 : sizeOfVarint(bytes.length) + bytes.length;
}

function writeBytes(buf: Uint8Array, pos: number, bytes: Uint8Array | null | undefined): number {
  if (bytes == null) {
    buf[pos] = 1; // zigzag(-1)
    return pos + 1;
  }
  const length = bytes.length;
  pos = writeVarint(buf, pos, length);
  // set() has a fixed cost that dominates for short keys; copy those by hand.
  if (length < 32) for (let i = 0; i < length; i++) buf[pos + i] = bytes[i]!;
  else buf.set(bytes, pos);
  return pos + length;
}

/** Writes a safe integer as int64 without BigInt: high word by division, low word by ToUint32. */
function setInt64(dv: DataView, at: number, value: number): void {
  dv.setInt32(at, Math.floor(value / 0x100000000));
  dv.setUint32(at + 4, value >>> 0);
}

/**
 * Encodes `records` as one complete RecordBatch v2, CRC included. Defaults: baseOffset 0, no
 * compression, CreateTime, producerId/epoch/baseSequence/partitionLeaderEpoch -1. The batch's
 * baseTimestamp is the first record's timestamp; maxTimestamp is the largest, or `now` for
 * LogAppendTime.
 */
export function encodeRecordBatch(records: RecordInput[], options: EncodeBatchOptions = {}): Uint8Array {
  const count = records.length;
  if (count === 0) throw new BrokerError('INVALID_RECORD', 'a record batch needs at least one record');
  const compression = options.compression ?? CompressionType.None;
  const recordCodec = compression === CompressionType.None ? null : codecFor(compression);
  const now = options.now ?? Date.now();
  const timestampType = options.timestampType ?? TimestampType.CreateTime;

  // Pass 1: every record's size, so the output is allocated once and written in place.
  if (sizesScratch.length < count) sizesScratch = new Int32Array(Math.max(count, sizesScratch.length * 2));
  const sizes = sizesScratch;
  const baseTimestamp = records[0]!.timestamp ?? now;
  let maxTimestamp = baseTimestamp;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    const timestamp = record.timestamp ?? now;
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(timestamp - baseTimestamp)) {
      throw new BrokerError(
        'INVALID_TIMESTAMP',
        `record ${i} has timestamp ${timestamp}: not an integer epoch ms`,
      );
    }
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    let size = 1 + sizeOfVarlong(timestamp - baseTimestamp) + sizeOfVarint(i);
    size += bytesSize(record.key) + bytesSize(record.value);
    const headers = record.headers;
    if (headers === undefined) size += 1;
    else {
      size += sizeOfVarint(headers.length);
      for (const header of headers) {
        const keyLength = utf8Length(header.key);
        size += sizeOfVarint(keyLength) + keyLength + bytesSize(header.value);
      }
    }
    sizes[i] = size;
    total += sizeOfVarint(size) + size;
  }

  // Pass 2: the records, straight into the batch when uncompressed, else into scratch for the codec.
  let buf: Uint8Array;
  let pos: number;
  if (recordCodec === null) {
    buf = new Uint8Array(BATCH_HEADER_SIZE + total);
    pos = BATCH_HEADER_SIZE;
  } else {
    if (recordsScratch.length < total) {
      buf = new Uint8Array(Math.max(total, recordsScratch.length * 2));
      if (buf.length <= SCRATCH_KEEP_LIMIT) recordsScratch = buf;
    } else buf = recordsScratch;
    pos = 0;
  }
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    pos = writeVarint(buf, pos, sizes[i]!);
    buf[pos++] = 0; // attributes
    pos = writeVarlong(buf, pos, (record.timestamp ?? now) - baseTimestamp);
    pos = writeVarint(buf, pos, i);
    pos = writeBytes(buf, pos, record.key);
    pos = writeBytes(buf, pos, record.value);
    const headers = record.headers;
    if (headers === undefined) buf[pos++] = 0;
    else {
      pos = writeVarint(buf, pos, headers.length);
      for (const header of headers) {
        const keyLength = utf8Length(header.key);
        pos = writeVarint(buf, pos, keyLength);
        writeUtf8(buf, pos, header.key, keyLength);
        pos = writeBytes(buf, pos + keyLength, header.value);
      }
    }
  }
  let out: Uint8Array = buf;
  if (recordCodec !== null) {
    const compressed = recordCodec.compress(compression, buf.subarray(0, total));
    out = new Uint8Array(BATCH_HEADER_SIZE + compressed.length);
    out.set(compressed, BATCH_HEADER_SIZE);
  }

  let attributes = compression;
  if (timestampType === TimestampType.LogAppendTime) attributes |= ATTR_TIMESTAMP_TYPE;
  if (options.transactional) attributes |= ATTR_TRANSACTIONAL;
  if (options.isControl) attributes |= ATTR_CONTROL;
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  setInt64(dv, OFFSET_BASE_OFFSET, options.baseOffset ?? 0);
  dv.setInt32(OFFSET_BATCH_LENGTH, out.length - LOG_OVERHEAD);
  dv.setInt32(OFFSET_LEADER_EPOCH, options.partitionLeaderEpoch ?? -1);
  dv.setInt8(OFFSET_MAGIC, MAGIC_V2);
  dv.setInt16(OFFSET_ATTRIBUTES, attributes);
  dv.setInt32(OFFSET_LAST_OFFSET_DELTA, count - 1);
  setInt64(dv, OFFSET_BASE_TIMESTAMP, baseTimestamp);
  setInt64(dv, OFFSET_MAX_TIMESTAMP, timestampType === TimestampType.LogAppendTime ? now : maxTimestamp);
  setInt64(dv, OFFSET_PRODUCER_ID, options.producerId ?? -1);
  dv.setInt16(OFFSET_PRODUCER_EPOCH, options.producerEpoch ?? -1);
  dv.setInt32(OFFSET_BASE_SEQUENCE, options.baseSequence ?? -1);
  dv.setInt32(OFFSET_RECORD_COUNT, count);
  dv.setUint32(OFFSET_CRC, crc32c(out.subarray(OFFSET_ATTRIBUTES)));
  return out;
}

// ------------------------------------------------------------------------------------------- decode

function corrupt(message: string): BrokerError {
  return new BrokerError('CORRUPT_MESSAGE', message);
}

/** Structure checks without the CRC, for `verifyCrc: false`. */
function readCheckedHeader(bytes: Uint8Array, pos: number): BatchHeader {
  const header = readBatchHeader(bytes, pos);
  if (header.magic !== MAGIC_V2) throw corrupt(`unsupported record batch magic ${header.magic}`);
  if (header.sizeInBytes < BATCH_HEADER_SIZE || header.sizeInBytes > bytes.length - pos) {
    throw corrupt(
      `record batch length ${header.sizeInBytes} is out of bounds (${bytes.length - pos} present)`,
    );
  }
  if (header.recordCount < 0) throw corrupt(`record batch count ${header.recordCount} is negative`);
  return header;
}

/** The batch's records region, decompressed when needed. */
function recordsOf(bytes: Uint8Array, pos: number, header: BatchHeader, maxBytes?: number): Uint8Array {
  const region = bytes.subarray(pos + BATCH_HEADER_SIZE, pos + header.sizeInBytes);
  const type = compressionOf(header.attributes);
  if (type === CompressionType.None) return region;
  return codecFor(type).decompress(type, region, maxBytes);
}

/** ASCII header keys (nearly all) decode faster by hand than through TextDecoder. */
function readUtf8(buf: Uint8Array, pos: number, length: number): string {
  if (length <= 32) {
    let s = '';
    for (let i = 0; i < length; i++) {
      const c = buf[pos + i]!;
      if (c >= 0x80) return textDecoder.decode(buf.subarray(pos, pos + length));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return textDecoder.decode(buf.subarray(pos, pos + length));
}

/**
 * Reads a length-prefixed byte string (null for -1) ending at or before `limit`, as a plain Uint8Array
 * view whatever `buf` is (codecs hand back Buffers; callers should not see the difference).
 */
function readBytes(buf: Uint8Array, cursor: Cursor, limit: number, what: string): Uint8Array | null {
  const length = readVarint(buf, cursor);
  if (length < 0) {
    if (length === -1) return null;
    throw corrupt(`${what} length ${length} is invalid`);
  }
  const start = cursor.pos;
  if (length > limit - start) throw corrupt(`${what} of ${length} bytes overruns its record`);
  cursor.pos = start + length;
  // Same view as subarray(), without its species lookup: measurably cheaper per record.
  return new Uint8Array(buf.buffer, buf.byteOffset + start, length);
}

function decodeRecords(records: Uint8Array, header: BatchHeader): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  const cursor: Cursor = { pos: 0 };
  const logAppendTime = (header.attributes & ATTR_TIMESTAMP_TYPE) !== 0;
  const { baseOffset, baseTimestamp, maxTimestamp, recordCount } = header;
  let index = 0;
  try {
    for (; index < recordCount; index++) {
      if (cursor.pos >= records.length) {
        throw new BrokerError(
          'INVALID_RECORD',
          `record batch declares ${recordCount} records but holds ${index}`,
        );
      }
      const length = readVarint(records, cursor);
      const end = cursor.pos + length;
      if (length < MIN_RECORD_SIZE - 1 || end > records.length) {
        throw corrupt(`length ${length} overruns the batch`);
      }
      cursor.pos++; // attributes: unused
      const timestampDelta = readVarlong(records, cursor);
      const offsetDelta = readVarint(records, cursor);
      const key = readBytes(records, cursor, end, 'key');
      const value = readBytes(records, cursor, end, 'value');
      const headerCount = readVarint(records, cursor);
      if (headerCount < 0) throw corrupt(`header count ${headerCount} is negative`);
      const headers: RecordHeader[] = [];
      for (let h = 0; h < headerCount; h++) {
        const keyLength = readVarint(records, cursor);
        if (keyLength < 0)
          throw new BrokerError('INVALID_RECORD', `header key length ${keyLength} is negative`);
        if (keyLength > end - cursor.pos) throw corrupt('header key overruns its record');
        const headerKey = readUtf8(records, cursor.pos, keyLength);
        cursor.pos += keyLength;
        headers.push({ key: headerKey, value: readBytes(records, cursor, end, 'header value') });
      }
      if (cursor.pos !== end)
        throw corrupt(`length says ${length} bytes, its fields take ${cursor.pos - end + length}`);
      out.push({
        offset: baseOffset + offsetDelta,
        timestamp: logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta,
        key,
        value,
        headers,
      });
    }
  } catch (err) {
    throw withRecordIndex(err, index);
  }
  if (cursor.pos !== records.length) {
    throw corrupt(`${records.length - cursor.pos} bytes left over after the ${recordCount} declared records`);
  }
  return out;
}

function withRecordIndex(err: unknown, index: number): unknown {
  if (!(err instanceof BrokerError) || err.message.startsWith('record batch')) return err;
  return new BrokerError(err.code, `record ${index}: ${err.message}`);
}

/**
 * Decodes the batch at `pos`: checks its structure (and CRC unless `verifyCrc: false`), decompresses,
 * and returns its records with absolute offsets and timestamps. Keys and values are views into
 * `bytes` (or into the decompressed block), not copies.
 */
export function decodeRecordBatch(
  bytes: Uint8Array,
  pos = 0,
  options: DecodeBatchOptions = {},
): DecodedBatch {
  const header = options.verifyCrc === false ? readCheckedHeader(bytes, pos) : checkBatch(bytes, pos);
  const records = recordsOf(bytes, pos, header, options.maxDecompressedBytes);
  return { header, records: decodeRecords(records, header) };
}

/**
 * Decodes a concatenation of batches (a log slice, a fetch response's records). A partial batch at
 * the end is ignored, as fetch responses may stop mid-batch.
 */
export function decodeRecordBatches(bytes: Uint8Array, options: DecodeBatchOptions = {}): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  let pos = 0;
  for (;;) {
    const size = batchSizeAt(bytes, pos);
    if (size < 0 || size > bytes.length - pos) break;
    batches.push(decodeRecordBatch(bytes, pos, options));
    pos += size;
  }
  return batches;
}

// ----------------------------------------------------------------------------------------- validate

/** Skips a length-prefixed byte string, returning false when its length is below -1. */
function skipBytes(buf: Uint8Array, cursor: Cursor): boolean {
  const length = readVarint(buf, cursor);
  if (length > 0) cursor.pos += length;
  return length >= -1;
}

/**
 * Deep check of the records of a batch that passed `checkBatch`, before the broker appends it: walks
 * every record (decompressing first if needed) without materialising keys or values. Throws
 * INVALID_RECORD when the records disagree with the header (count, offset deltas) and CORRUPT_MESSAGE
 * when the bytes are malformed (a length overruns, a varint is bad, bytes are left over).
 */
export function validateRecords(
  bytes: Uint8Array,
  pos: number,
  header: BatchHeader,
  options: ValidateRecordsOptions = {},
): void {
  const { recordCount, lastOffsetDelta } = header;
  const contiguous = !options.allowOffsetGaps;
  if (contiguous && recordCount !== lastOffsetDelta + 1) {
    throw new BrokerError(
      'INVALID_RECORD',
      `record batch count ${recordCount} does not match its offset range 0..${lastOffsetDelta}`,
    );
  }
  const records = recordsOf(bytes, pos, header, options.maxDecompressedBytes);
  const length = records.length;
  const cursor: Cursor = { pos: 0 };
  let previousDelta = -1;
  let index = 0;
  try {
    for (; index < recordCount; index++) {
      if (cursor.pos >= length) {
        throw new BrokerError(
          'INVALID_RECORD',
          `record batch declares ${recordCount} records but holds ${index}`,
        );
      }
      const size = readVarint(records, cursor);
      const end = cursor.pos + size;
      if (size < MIN_RECORD_SIZE - 1 || end > length) throw corrupt(`length ${size} overruns the batch`);
      cursor.pos++; // attributes
      readVarlong(records, cursor); // timestampDelta: only its form matters here
      const offsetDelta = readVarint(records, cursor);
      if (
        contiguous ? offsetDelta !== index : offsetDelta <= previousDelta || offsetDelta > lastOffsetDelta
      ) {
        throw new BrokerError(
          'INVALID_RECORD',
          contiguous
            ? `offset delta ${offsetDelta}, expected ${index}`
            : `offset delta ${offsetDelta} does not increase within 0..${lastOffsetDelta}`,
        );
      }
      previousDelta = offsetDelta;
      if (!skipBytes(records, cursor)) throw corrupt('key length is invalid');
      if (!skipBytes(records, cursor)) throw corrupt('value length is invalid');
      const headerCount = readVarint(records, cursor);
      if (headerCount < 0) throw corrupt(`header count ${headerCount} is negative`);
      for (let h = 0; h < headerCount && cursor.pos <= end; h++) {
        const keyLength = readVarint(records, cursor);
        if (keyLength < 0)
          throw new BrokerError('INVALID_RECORD', `header key length ${keyLength} is negative`);
        cursor.pos += keyLength;
        if (!skipBytes(records, cursor)) throw corrupt('header value length is invalid');
      }
      if (cursor.pos !== end)
        throw corrupt(`length says ${size} bytes, its fields take ${cursor.pos - end + size}`);
    }
  } catch (err) {
    throw withRecordIndex(err, index);
  }
  if (cursor.pos !== length) {
    throw corrupt(`${length - cursor.pos} bytes left over after the ${recordCount} declared records`);
  }
}
