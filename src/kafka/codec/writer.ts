/**
 * @module
 * A growable big-endian writer for the Kafka protocol's primitive types, the mirror of `reader.ts`.
 *
 * Output is a list of chunks: bytes written through the typed methods land in an internal buffer, while
 * byte strings at least `referenceThreshold` long (record batches, above all) are appended by reference,
 * so a Fetch response carries the stored batches without copying them. `finish()` hands the chunks over
 * (for a vectored socket write) and detaches the buffer, so the returned views stay valid; `toBytes()`
 * copies everything into one array and keeps the buffer for the next message.
 *
 * Values a type cannot hold (an int16 of 40000, an int64 beyond ±2^53, a 40 KiB classic string) throw
 * `BrokerError('UNKNOWN_SERVER_ERROR')`: encoding one is a bug in the caller, not in the peer.
 */
import { BrokerError } from '../../shared/errors.ts';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface WriterOptions {
  /** The first buffer's size; it doubles as needed. Default 1 KiB. */
  initialCapacity?: number;
  /** Byte strings at least this long are appended by reference instead of copied. Default 1 KiB. */
  referenceThreshold?: number;
}

export class Writer {
  private readonly initialCapacity: number;
  private readonly referenceThreshold: number;
  private buf: Uint8Array = EMPTY;
  private view: DataView = new DataView(EMPTY.buffer);
  private pos = 0;
  /** Where the bytes not yet moved into `chunks` start in `buf`. */
  private segmentStart = 0;
  private chunks: Uint8Array[] = [];
  private chunkedLength = 0;

  constructor(options: WriterOptions = {}) {
    this.initialCapacity = Math.max(16, options.initialCapacity ?? 1024);
    this.referenceThreshold = Math.max(1, options.referenceThreshold ?? 1024);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunkedLength + this.pos - this.segmentStart;
  }

  bool(value: boolean): void {
    if (typeof value !== 'boolean') throw bad('bool', value);
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  int8(value: number): void {
    if ((value << 24) >> 24 !== value) throw bad('int8', value);
    this.ensure(1);
    this.view.setInt8(this.pos++, value);
  }

  int16(value: number): void {
    if ((value << 16) >> 16 !== value) throw bad('int16', value);
    this.ensure(2);
    this.view.setInt16(this.pos, value);
    this.pos += 2;
  }

  uint16(value: number): void {
    if ((value & 0xffff) !== value) throw bad('uint16', value);
    this.ensure(2);
    this.view.setUint16(this.pos, value);
    this.pos += 2;
  }

  int32(value: number): void {
    if ((value | 0) !== value) throw bad('int32', value);
    this.ensure(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  uint32(value: number): void {
    if (value >>> 0 !== value) throw bad('uint32', value);
    this.ensure(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  /** A signed 64-bit integer from a safe-integer number (see reader.ts for why numbers). */
  int64(value: number): void {
    if (!Number.isSafeInteger(value)) throw bad('int64', value);
    this.ensure(8);
    const high = Math.floor(value / 0x1_0000_0000);
    this.view.setInt32(this.pos, high);
    this.view.setUint32(this.pos + 4, value - high * 0x1_0000_0000);
    this.pos += 8;
  }

  float64(value: number): void {
    if (typeof value !== 'number') throw bad('float64', value);
    this.ensure(8);
    this.view.setFloat64(this.pos, value);
    this.pos += 8;
  }

  /** An unsigned varint (uint32). */
  uvarint(value: number): void {
    if (value >>> 0 !== value) throw bad('unsigned varint', value);
    this.ensure(5);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.pos++] = v;
  }

  /** A zigzag-encoded signed varint (int32). */
  varint(value: number): void {
    if ((value | 0) !== value) throw bad('varint', value);
    this.uvarint(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** A UUID string (`8-4-4-4-12` hex) as 16 raw bytes. */
  uuid(value: string): void {
    if (typeof value !== 'string' || !UUID_PATTERN.test(value)) throw bad('uuid', value);
    this.ensure(16);
    const hex = value.replaceAll('-', '');
    for (let i = 0; i < 16; i++) this.buf[this.pos++] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }

  /** An int16-length string; null is written as length -1. */
  nullableString(value: string | null): void {
    if (value === null) {
      this.int16(-1);
      return;
    }
    if (typeof value !== 'string') throw bad('string', value);
    const length = utf8Length(value);
    if (length > 0x7fff) throw bad('string (at most 32767 UTF-8 bytes)', `${length} bytes`);
    this.int16(length);
    this.utf8(value, length);
  }

  /** A compact string (uvarint length + 1); null is written as 0. */
  compactNullableString(value: string | null): void {
    if (value === null) {
      this.uvarint(0);
      return;
    }
    if (typeof value !== 'string') throw bad('string', value);
    const length = utf8Length(value);
    this.uvarint(length + 1);
    this.utf8(value, length);
  }

  /** An int32-length byte string; null is written as length -1. */
  nullableBytes(value: Uint8Array | null): void {
    if (value === null) {
      this.int32(-1);
      return;
    }
    if (!(value instanceof Uint8Array)) throw bad('bytes', value);
    this.int32(value.length);
    this.raw(value);
  }

  /** A compact byte string (uvarint length + 1); null is written as 0. */
  compactNullableBytes(value: Uint8Array | null): void {
    if (value === null) {
      this.uvarint(0);
      return;
    }
    if (!(value instanceof Uint8Array)) throw bad('bytes', value);
    this.uvarint(value.length + 1);
    this.raw(value);
  }

  /** An int32 array count; -1 for null. */
  arrayLength(count: number): void {
    this.int32(count);
  }

  /** A compact array count (uvarint count + 1); -1 for null. */
  compactArrayLength(count: number): void {
    this.uvarint(count + 1);
  }

  /** Appends bytes as they are: copied when short, referenced (not copied) from `referenceThreshold` on. */
  raw(bytes: Uint8Array): void {
    if (bytes.length >= this.referenceThreshold) {
      this.cutSegment();
      this.chunks.push(bytes);
      this.chunkedLength += bytes.length;
      return;
    }
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Writes a placeholder int32 and returns its offset, for `patchInt32` (frame sizes). */
  reserveInt32(): number {
    const at = this.length;
    this.int32(0);
    return at;
  }

  /** Overwrites the int32 at `at` (an offset returned by `reserveInt32`). */
  patchInt32(at: number, value: number): void {
    if ((value | 0) !== value) throw bad('int32', value);
    let offset = 0;
    for (const chunk of this.chunks) {
      if (at < offset + chunk.length) {
        new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength).setInt32(at - offset, value);
        return;
      }
      offset += chunk.length;
    }
    this.view.setInt32(this.segmentStart + at - offset, value);
  }

  /**
   * Hands over everything written as chunks (views: referenced byte strings and parts of the buffer),
   * and starts over with a new buffer so the views stay valid.
   */
  finish(): Uint8Array[] {
    this.cutSegment();
    const chunks = this.chunks;
    this.chunks = [];
    this.chunkedLength = 0;
    this.buf = EMPTY;
    this.view = new DataView(EMPTY.buffer);
    this.pos = 0;
    this.segmentStart = 0;
    return chunks;
  }

  /** Copies everything written into one new array and starts over, keeping the buffer. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    out.set(this.buf.subarray(this.segmentStart, this.pos), offset);
    this.reset();
    return out;
  }

  /** Discards everything written, keeping the buffer (nothing handed out by `finish` refers to it). */
  reset(): void {
    this.chunks = [];
    this.chunkedLength = 0;
    this.pos = 0;
    this.segmentStart = 0;
  }

  private cutSegment(): void {
    if (this.pos > this.segmentStart) {
      this.chunks.push(this.buf.subarray(this.segmentStart, this.pos));
      this.chunkedLength += this.pos - this.segmentStart;
      this.segmentStart = this.pos;
    }
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Only the live segment moves: earlier chunks may be views of the old buffer, which is never written again.
    const live = this.pos - this.segmentStart;
    const capacity = Math.max(this.initialCapacity, this.buf.length * 2, live + n);
    const next = new Uint8Array(capacity);
    next.set(this.buf.subarray(this.segmentStart, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
    this.pos = live;
    this.segmentStart = 0;
  }

  private utf8(value: string, length: number): void {
    this.ensure(length);
    if (length === value.length) {
      for (let i = 0; i < length; i++) this.buf[this.pos + i] = value.charCodeAt(i);
    } else {
      encoder.encodeInto(value, this.buf.subarray(this.pos, this.pos + length));
    }
    this.pos += length;
  }
}

/** The UTF-8 size of a string, as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8Length(value: string): number {
  let length = value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) length += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 2;
        i++;
      } else length += 2;
    } else length += 2;
  }
  return length;
}

function bad(type: string, value: unknown): BrokerError {
  const shown = typeof value === 'string' ? `'${value.slice(0, 40)}'` : String(value);
  return new BrokerError('UNKNOWN_SERVER_ERROR', `cannot encode ${shown} as ${type}`);
}
