/**
 * @module
 * Fast reading of a raw-batch produce answer, `{results:[{partition, offset}, ...]}` in msgpack. One batch
 * is appended as one contiguous offset range, so the first result and the count say everything; decoding
 * the tens of thousands of `{partition, offset}` maps of a 1 MiB batch took most of the producer's CPU.
 * Anything of another shape returns undefined and the caller decodes it in full.
 */

export interface ProduceRange {
  count: number;
  partition: number;
  /** Offset of the first record; the others follow one by one. */
  baseOffset: number;
}

/** Bytes after the type byte of msgpack's float, uint and int types. */
const NUMBER_SIZES: Record<number, number> = {
  202: 4,
  203: 8,
  204: 1,
  205: 2,
  206: 4,
  207: 8,
  208: 1,
  209: 2,
  210: 4,
  211: 8,
};

/** fixext 1/2/4/8/16: a type byte and the data. */
const FIXEXT_SIZES: Record<number, number> = { 212: 2, 213: 3, 214: 5, 215: 9, 216: 17 };

class Reader {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new RangeError('truncated msgpack');
  }

  byte(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  /** Length of a map (`map`) or array (`array`) header; -1 when the next value is something else. */
  header(kind: 'map' | 'array'): number {
    const b = this.byte();
    const [fix, mask, x16, x32] = kind === 'map' ? [0x80, 0xf0, 0xde, 0xdf] : [0x90, 0xf0, 0xdc, 0xdd];
    if ((b & mask) === fix) return b & 0x0f;
    if (b === x16) return this.uint(2);
    if (b === x32) return this.uint(4);
    return -1;
  }

  uint(size: 1 | 2 | 4): number {
    this.need(size);
    const at = this.pos;
    this.pos += size;
    return size === 1
      ? this.view.getUint8(at)
      : size === 2
        ? this.view.getUint16(at)
        : this.view.getUint32(at);
  }

  /** A string, or undefined when the next value is not one (then skipped). */
  string(): string | undefined {
    const b = this.bytes[this.pos]!;
    let length: number;
    if ((b & 0xe0) === 0xa0) {
      this.pos++;
      length = b & 0x1f;
    } else if (b === 0xd9 || b === 0xda || b === 0xdb) {
      this.pos++;
      length = this.uint(b === 0xd9 ? 1 : b === 0xda ? 2 : 4);
    } else {
      this.skip();
      return undefined;
    }
    this.need(length);
    let s = '';
    for (let i = 0; i < length; i++) s += String.fromCharCode(this.bytes[this.pos + i]!);
    this.pos += length;
    return s;
  }

  /** An integer (or a float holding one), or undefined. */
  number(): number | undefined {
    const b = this.byte();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    const size = NUMBER_SIZES[b];
    if (size === undefined) return undefined;
    this.need(size);
    const at = this.pos;
    const dv = this.view;
    this.pos += size;
    if (b === 0xca) return dv.getFloat32(at);
    if (b === 0xcb) return dv.getFloat64(at);
    switch (b) {
      case 0xcc:
        return dv.getUint8(at);
      case 0xcd:
        return dv.getUint16(at);
      case 0xce:
        return dv.getUint32(at);
      case 0xcf:
        return Number(dv.getBigUint64(at));
      case 0xd0:
        return dv.getInt8(at);
      case 0xd1:
        return dv.getInt16(at);
      case 0xd2:
        return dv.getInt32(at);
      default:
        return Number(dv.getBigInt64(at));
    }
  }

  /** Skips one value of any type. */
  skip(): void {
    const b = this.byte();
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    // Either some bytes to step over, or some nested values (map entries count twice) to skip.
    let bytes = 0;
    let values = 0;
    if ((b & 0xf0) === 0x80) values = (b & 0x0f) * 2;
    else if ((b & 0xf0) === 0x90) values = b & 0x0f;
    else if ((b & 0xe0) === 0xa0) bytes = b & 0x1f;
    else if (NUMBER_SIZES[b] !== undefined) bytes = NUMBER_SIZES[b];
    else if (FIXEXT_SIZES[b] !== undefined) bytes = FIXEXT_SIZES[b];
    else if (b === 0xc4 || b === 0xd9) bytes = this.uint(1);
    else if (b === 0xc5 || b === 0xda) bytes = this.uint(2);
    else if (b === 0xc6 || b === 0xdb) bytes = this.uint(4);
    else if (b === 0xc7) bytes = this.uint(1) + 1;
    else if (b === 0xc8) bytes = this.uint(2) + 1;
    else if (b === 0xc9) bytes = this.uint(4) + 1;
    else if (b === 0xdc) values = this.uint(2);
    else if (b === 0xdd) values = this.uint(4);
    else if (b === 0xde) values = this.uint(2) * 2;
    else if (b === 0xdf) values = this.uint(4) * 2;
    else throw new RangeError(`unknown msgpack type 0x${b.toString(16)}`);
    this.advance(bytes);
    for (let i = 0; i < values; i++) this.skip();
  }

  private advance(n: number): void {
    this.need(n);
    this.pos += n;
  }
}

/** The offset range of a raw-batch produce answer, or undefined when `bytes` is not that shape. */
export function readProduceRange(bytes: Uint8Array): ProduceRange | undefined {
  try {
    const reader = new Reader(bytes);
    const fields = reader.header('map');
    for (let i = 0; i < fields; i++) {
      if (reader.string() !== 'results') {
        reader.skip();
        continue;
      }
      const count = reader.header('array');
      if (count <= 0) return undefined;
      const entries = reader.header('map');
      let partition: number | undefined;
      let baseOffset: number | undefined;
      for (let j = 0; j < entries; j++) {
        const key = reader.string();
        if (key === 'partition') partition = reader.number();
        else if (key === 'offset') baseOffset = reader.number();
        else reader.skip();
      }
      if (partition === undefined || baseOffset === undefined) return undefined;
      return { count, partition, baseOffset };
    }
    return undefined;
  } catch {
    return undefined;
  }
}
