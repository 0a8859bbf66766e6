/**
 * @module
 * Kafka's variable-length integers: zigzag `varint` (int32, at most 5 bytes), zigzag `varlong` (int64, at
 * most 10 bytes) and `unsignedVarint` (uint32, used by the flexible protocol versions), as Kafka's
 * `ByteUtils`. Each byte carries 7 bits, least significant group first, high bit set when more follow.
 *
 * Readers advance a caller-owned {@link Cursor} instead of returning `{ value, pos }`, so decoding a
 * record allocates nothing. Writers return the position after the last byte; the caller pre-sizes the
 * buffer with the `sizeOf*` functions. Varlongs are plain numbers: values beyond ±2^53 are out of
 * Freshet's range (as in `batch-header.ts`), and a reader meeting one throws rather than round it.
 */
import { BrokerError } from '../shared/errors.ts';

/** A read position, advanced by the readers. One per decode loop; reuse it. */
export interface Cursor {
  pos: number;
}

// 2^n as doubles: varlong groups beyond bit 31 cannot use the int32 bit operators.
const P28 = 2 ** 28;
const P32 = 2 ** 32;

function truncated(what: string): BrokerError {
  return new BrokerError('CORRUPT_MESSAGE', `${what} runs past the end of the buffer`);
}

function tooLong(what: string, max: number): BrokerError {
  return new BrokerError('CORRUPT_MESSAGE', `${what} is longer than ${max} bytes`);
}

/**
 * Reads an unsigned varint (uint32). Like Kafka, a fifth byte's surplus high bits are dropped, and a
 * fifth continuation bit is malformed.
 */
export function readUnsignedVarint(buf: Uint8Array, cursor: Cursor): number {
  let pos = cursor.pos;
  const end = buf.length;
  // Unrolled: the one- and two-byte cases are nearly all lengths and small deltas.
  if (pos >= end) throw truncated('varint');
  let b = buf[pos++]!;
  if (b < 0x80) {
    cursor.pos = pos;
    return b;
  }
  let value = b & 0x7f;
  if (pos >= end) throw truncated('varint');
  b = buf[pos++]!;
  value |= (b & 0x7f) << 7;
  if (b < 0x80) {
    cursor.pos = pos;
    return value;
  }
  if (pos >= end) throw truncated('varint');
  b = buf[pos++]!;
  value |= (b & 0x7f) << 14;
  if (b < 0x80) {
    cursor.pos = pos;
    return value;
  }
  if (pos >= end) throw truncated('varint');
  b = buf[pos++]!;
  value |= (b & 0x7f) << 21;
  if (b < 0x80) {
    cursor.pos = pos;
    return value;
  }
  if (pos >= end) throw truncated('varint');
  b = buf[pos++]!;
  if (b >= 0x80) throw tooLong('varint', 5);
  cursor.pos = pos;
  return (value | (b << 28)) >>> 0;
}

/** Reads a zigzag varint (int32). */
export function readVarint(buf: Uint8Array, cursor: Cursor): number {
  const raw = readUnsignedVarint(buf, cursor);
  return (raw >>> 1) ^ -(raw & 1);
}

/**
 * Reads a zigzag varlong as a number. Throws CORRUPT_MESSAGE when it is malformed or outside the safe
 * integer range (use {@link readVarlongBigInt} for the full int64 range).
 */
export function readVarlong(buf: Uint8Array, cursor: Cursor): number {
  const start = cursor.pos;
  let pos = start;
  const end = buf.length;
  // Fast path: up to four bytes (28 bits) fit int32 arithmetic; timestamp deltas almost always do.
  let raw = 0;
  let shift = 0;
  while (shift < 28) {
    if (pos >= end) throw truncated('varlong');
    const b = buf[pos++]!;
    raw |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.pos = pos;
      return (raw >>> 1) ^ -(raw & 1);
    }
    shift += 7;
  }
  // Slow path in doubles. Zigzag's raw form needs one bit more than the value (2^54 for a 2^53
  // value), so keep the sign bit apart and accumulate magnitude = raw / 2, which is exact below 2^53.
  const negative = raw & 1;
  let magnitude = raw >>> 1;
  let scale = P28 / 2;
  for (let i = 4; i < 10; i++) {
    if (pos >= end) throw truncated('varlong');
    const b = buf[pos++]!;
    magnitude += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (magnitude > (negative ? Number.MAX_SAFE_INTEGER - 1 : Number.MAX_SAFE_INTEGER)) {
        cursor.pos = start;
        throw new BrokerError('CORRUPT_MESSAGE', 'varlong is outside the safe integer range (±2^53)');
      }
      cursor.pos = pos;
      return negative ? -magnitude - 1 : magnitude;
    }
    scale *= 128;
  }
  throw tooLong('varlong', 10);
}

/** Reads a zigzag varlong over the full int64 range. Slower; for protocol fields, not the record path. */
export function readVarlongBigInt(buf: Uint8Array, cursor: Cursor): bigint {
  let pos = cursor.pos;
  let raw = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw truncated('varlong');
    const b = buf[pos++]!;
    raw |= BigInt(b & 0x7f) << BigInt(7 * i);
    if (b < 0x80) {
      cursor.pos = pos;
      raw = BigInt.asUintN(64, raw);
      return BigInt.asIntN(64, (raw >> 1n) ^ -(raw & 1n));
    }
  }
  throw tooLong('varlong', 10);
}

/** Writes an unsigned varint (uint32) at `pos`; returns the position after it. */
export function writeUnsignedVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

/** Writes a zigzag varint (int32) at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  // Single-byte fast path: small lengths and deltas in [-64, 63].
  if (value >= -64 && value < 64) {
    buf[pos] = (value << 1) ^ (value >> 31);
    return pos + 1;
  }
  return writeUnsignedVarint(buf, pos, (value << 1) ^ (value >> 31));
}

/** Writes a zigzag varlong (a safe integer) at `pos`; returns the position after it. */
export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  // In int32 range the 64-bit zigzag form equals the 32-bit one, read as unsigned.
  if ((value | 0) === value) return writeUnsignedVarint(buf, pos, (value << 1) ^ (value >> 31));
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`varlong value ${value} is not a safe integer`);
  }
  // magnitude = raw >>> 1 with the sign as raw's low bit: exact where raw itself would not be.
  const negative = value < 0;
  let magnitude = negative ? -value - 1 : value;
  const low6 = magnitude % 64;
  magnitude = (magnitude - low6) / 64;
  buf[pos++] = (low6 << 1) | (negative ? 1 : 0) | 0x80; // at least 32 bits follow, so never the last
  while (magnitude >= 0x80) {
    buf[pos++] = (magnitude % 128) | 0x80;
    magnitude = Math.floor(magnitude / 128);
  }
  buf[pos++] = magnitude;
  return pos;
}

/** Writes a zigzag varlong over the full int64 range. */
export function writeVarlongBigInt(buf: Uint8Array, pos: number, value: bigint): number {
  let raw = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  while (raw >= 0x80n) {
    buf[pos++] = Number(raw & 0x7fn) | 0x80;
    raw >>= 7n;
  }
  buf[pos++] = Number(raw);
  return pos;
}

/** Bytes an unsigned varint of `value` (uint32) takes. */
export function sizeOfUnsignedVarint(value: number): number {
  const v = value >>> 0;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}

/** Bytes a zigzag varint of `value` (int32) takes. */
export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
}

/** Bytes a zigzag varlong of `value` (a safe integer) takes. */
export function sizeOfVarlong(value: number): number {
  if ((value | 0) === value) return sizeOfUnsignedVarint((value << 1) ^ (value >> 31));
  // Outside int32 the raw form is at least 2^32: count 7-bit groups of magnitude = raw / 2.
  let magnitude = value < 0 ? -value - 1 : value;
  let size = 5; // 2^32 <= raw < 2^35 takes five bytes
  magnitude = Math.floor(magnitude / (P32 * 4)); // magnitude / 2^34 = raw / 2^35: the groups beyond five
  while (magnitude >= 1) {
    size++;
    magnitude = Math.floor(magnitude / 128);
  }
  return size;
}
