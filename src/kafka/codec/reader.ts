/**
 * @module
 * A bounds-checked big-endian reader over a Uint8Array: the primitive types of the Kafka protocol, in
 * their classic (int16/int32 length) and compact (unsigned varint length + 1) forms.
 *
 * Every read checks the bytes it needs against `end` before touching them, and every length or count is
 * checked against the bytes left before anything is allocated, so a hostile 20-byte frame announcing
 * 2^31 elements fails at once. Failures throw `BrokerError('INVALID_REQUEST')` (Kafka answers an
 * unparseable request with InvalidRequestException; CORRUPT_MESSAGE is for record batches).
 *
 * Numbers: int64 fields are returned as JS numbers. Every int64 Freshet meets (offsets, timestamps,
 * producer ids, epochs, the -1/-2 sentinels) is far inside ±2^53, so a value outside the safe-integer
 * range is treated as malformed and throws rather than being rounded silently.
 *
 * Bytes and records are returned as `subarray` views of the input, not copies: the caller must not
 * reuse the frame's memory while decoded values are alive.
 */
import { BrokerError } from '../../shared/errors.ts';

const decoder = new TextDecoder('utf-8');
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** Strings at least this long go through TextDecoder; shorter ASCII ones are built by hand. */
const SHORT_STRING = 32;

export class Reader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** The next byte to read, as an index into `bytes`. */
  pos: number;
  /** One past the last readable byte. Narrowed temporarily while a tagged field is decoded. */
  end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    if (start < 0 || end > bytes.length || start > end)
      throw new RangeError('reader range outside the buffer');
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws unless `n` more bytes are readable. */
  need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw invalid(`truncated ${what}: needs ${n} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
    }
  }

  skip(n: number): void {
    this.need(n, 'skip');
    this.pos += n;
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int8(): number {
    this.need(1, 'int8');
    return this.view.getInt8(this.pos++);
  }

  int16(): number {
    this.need(2, 'int16');
    const value = this.view.getInt16(this.pos);
    this.pos += 2;
    return value;
  }

  uint16(): number {
    this.need(2, 'uint16');
    const value = this.view.getUint16(this.pos);
    this.pos += 2;
    return value;
  }

  int32(): number {
    this.need(4, 'int32');
    const value = this.view.getInt32(this.pos);
    this.pos += 4;
    return value;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }

  /** A signed 64-bit integer as a number; throws outside ±(2^53 - 1) (see the module comment). */
  int64(): number {
    this.need(8, 'int64');
    const high = this.view.getInt32(this.pos);
    const low = this.view.getUint32(this.pos + 4);
    const value = high * 0x1_0000_0000 + low;
    if (!Number.isSafeInteger(value)) {
      throw invalid(`int64 at offset ${this.pos} is outside the safe-integer range`);
    }
    this.pos += 8;
    return value;
  }

  float64(): number {
    this.need(8, 'float64');
    const value = this.view.getFloat64(this.pos);
    this.pos += 8;
    return value;
  }

  /** An unsigned varint (uint32, at most 5 bytes), as in compact lengths and tags. */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.end) throw invalid(`truncated varint at offset ${this.pos}`);
      const b = this.bytes[this.pos++]!;
      if (shift === 28 && b > 0x0f) throw invalid(`varint at offset ${this.pos - 5} exceeds 32 bits`);
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    throw invalid(`varint at offset ${this.pos - 5} is longer than 5 bytes`);
  }

  /** A zigzag-encoded signed varint (int32), as used inside record batches. */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** 16 raw bytes as a lowercase `8-4-4-4-12` UUID string. */
  uuid(): string {
    this.need(16, 'uuid');
    const b = this.bytes;
    const p = this.pos;
    let text = '';
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) text += '-';
      text += HEX[b[p + i]!];
    }
    this.pos += 16;
    return text;
  }

  /** An int16-length string; null when the length is -1. */
  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw invalid(`negative string length ${length} at offset ${this.pos - 2}`);
    return this.utf8(length);
  }

  /** A compact string (uvarint length + 1); null when the length field is 0. */
  compactNullableString(): string | null {
    const length = this.uvarint() - 1;
    if (length === -1) return null;
    return this.utf8(length);
  }

  /** An int32-length byte string as a view; null when the length is -1. */
  nullableBytes(): Uint8Array | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < 0) throw invalid(`negative bytes length ${length} at offset ${this.pos - 4}`);
    return this.take(length);
  }

  /** A compact byte string (uvarint length + 1) as a view; null when the length field is 0. */
  compactNullableBytes(): Uint8Array | null {
    const length = this.uvarint() - 1;
    if (length === -1) return null;
    return this.take(length);
  }

  /**
   * An int32 array count; -1 means null. Throws when the elements could not fit in the bytes left, each
   * taking at least `minElementSize` bytes (and at least one, as in Kafka's own check).
   */
  arrayLength(minElementSize = 1): number {
    const count = this.int32();
    if (count === -1) return -1;
    if (count < 0) throw invalid(`negative array length ${count} at offset ${this.pos - 4}`);
    this.checkCount(count, minElementSize);
    return count;
  }

  /** A compact array count (uvarint count + 1); -1 means null. Bounds-checked as `arrayLength`. */
  compactArrayLength(minElementSize = 1): number {
    const count = this.uvarint() - 1;
    if (count === -1) return -1;
    this.checkCount(count, minElementSize);
    return count;
  }

  /** A view of the next `length` bytes. */
  raw(length: number): Uint8Array {
    return this.take(length);
  }

  /**
   * Walks a tagged-field section: `uvarint count`, then `uvarint tag, uvarint size, bytes` per field.
   * `onField` is called with `end` narrowed to the field's bytes and must consume exactly `size` bytes or
   * return false to have them skipped (unknown tags).
   */
  taggedFields(onField: (tag: number, size: number) => boolean): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      const size = this.uvarint();
      this.need(size, `tagged field ${tag}`);
      const fieldEnd = this.pos + size;
      const outerEnd = this.end;
      this.end = fieldEnd;
      const known = onField(tag, size);
      if (!known) this.pos = fieldEnd;
      else if (this.pos !== fieldEnd) {
        throw invalid(
          `tagged field ${tag} declares ${size} bytes but its value took ${this.pos - (fieldEnd - size)}`,
        );
      }
      this.end = outerEnd;
    }
  }

  /** Skips a tagged-field section entirely (all tags unknown). */
  skipTaggedFields(): void {
    this.taggedFields(() => false);
  }

  private checkCount(count: number, minElementSize: number): void {
    if (count * Math.max(1, minElementSize) > this.end - this.pos) {
      throw invalid(
        `array of ${count} elements at offset ${this.pos} cannot fit in the ${this.end - this.pos} bytes left`,
      );
    }
  }

  private take(length: number): Uint8Array {
    this.need(length, 'bytes');
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  private utf8(length: number): string {
    this.need(length, 'string');
    const b = this.bytes;
    const start = this.pos;
    this.pos += length;
    if (length < SHORT_STRING) {
      let text = '';
      for (let i = start; i < start + length; i++) {
        const c = b[i]!;
        if (c >= 0x80) return decoder.decode(b.subarray(start, start + length));
        text += String.fromCharCode(c);
      }
      return text;
    }
    return decoder.decode(b.subarray(start, start + length));
  }
}

function invalid(message: string): BrokerError {
  return new BrokerError('INVALID_REQUEST', message);
}
