import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  readUnsignedVarint,
  readVarint,
  readVarlong,
  readVarlongBigInt,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
  writeVarlongBigInt,
} from '../../src/records/varint.ts';
import { BrokerError } from '../../src/shared/errors.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'));

function encodeVarint(value: number): Uint8Array {
  const buf = new Uint8Array(10);
  return buf.subarray(0, writeVarint(buf, 0, value));
}

function encodeVarlong(value: number): Uint8Array {
  const buf = new Uint8Array(10);
  return buf.subarray(0, writeVarlong(buf, 0, value));
}

function encodeVarlongBig(value: bigint): Uint8Array {
  const buf = new Uint8Array(10);
  return buf.subarray(0, writeVarlongBigInt(buf, 0, value));
}

function expectCorrupt(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe('CORRUPT_MESSAGE');
    expect((err as BrokerError).message).toMatch(message);
    return;
  }
  throw new Error('expected a CORRUPT_MESSAGE error');
}

// Zigzag encodings as Kafka's ByteUtils produces them.
const VARINT_CASES: [number, string][] = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [63, '7e'],
  [-64, '7f'],
  [64, '8001'],
  [-65, '8101'],
  [8191, 'fe7f'],
  [-8192, 'ff7f'],
  [8192, '808001'],
  [2 ** 31 - 1, 'feffffff0f'],
  [-(2 ** 31), 'ffffffff0f'],
];

describe('varint (zigzag int32)', () => {
  it.each(VARINT_CASES)('%d encodes as %s and back', (value, encoded) => {
    expect(hex(encodeVarint(value))).toBe(encoded);
    expect(sizeOfVarint(value)).toBe(encoded.length / 2);
    const cursor = { pos: 0 };
    expect(readVarint(fromHex(encoded), cursor)).toBe(value);
    expect(cursor.pos).toBe(encoded.length / 2);
  });

  it('round-trips any int32 at any position', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.nat(5), (value, at) => {
        const buf = new Uint8Array(16);
        const end = writeVarint(buf, at, value);
        expect(end - at).toBe(sizeOfVarint(value));
        const cursor = { pos: at };
        expect(readVarint(buf, cursor)).toBe(value);
        expect(cursor.pos).toBe(end);
      }),
    );
  });

  it('rejects a sixth byte and a truncated varint', () => {
    expectCorrupt(() => readVarint(fromHex('ffffffff8f01'), { pos: 0 }), /longer than 5 bytes/);
    expectCorrupt(() => readVarint(fromHex('ff'), { pos: 0 }), /past the end/);
    expectCorrupt(() => readVarint(new Uint8Array(0), { pos: 0 }), /past the end/);
    expectCorrupt(() => readVarint(fromHex('0080'), { pos: 1 }), /past the end/);
  });
});

describe('unsigned varint', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [16383, 'ff7f'],
    [16384, '808001'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ])('%d encodes as %s and back', (value, encoded) => {
    const buf = new Uint8Array(8);
    expect(hex(buf.subarray(0, writeUnsignedVarint(buf, 0, value)))).toBe(encoded);
    expect(sizeOfUnsignedVarint(value)).toBe(encoded.length / 2);
    expect(readUnsignedVarint(fromHex(encoded), { pos: 0 })).toBe(value);
  });
});

describe('varlong (zigzag int64)', () => {
  const edges = [
    0,
    -1,
    1,
    63,
    -64,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    -(2 ** 32),
    2 ** 35,
    2 ** 42 - 1,
    1_700_000_000_000, // an epoch-ms timestamp
    -1_700_000_000_000,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
  ];

  it.each(edges)('%d matches the BigInt reference encoding and reads back', (value) => {
    const encoded = encodeVarlong(value);
    expect(hex(encoded)).toBe(hex(encodeVarlongBig(BigInt(value))));
    expect(sizeOfVarlong(value)).toBe(encoded.length);
    const cursor = { pos: 0 };
    expect(readVarlong(encoded, cursor)).toBe(value);
    expect(cursor.pos).toBe(encoded.length);
  });

  it('round-trips any safe integer, agreeing with the BigInt encoder', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (value) => {
        const encoded = encodeVarlong(value);
        expect(hex(encoded)).toBe(hex(encodeVarlongBig(BigInt(value))));
        expect(sizeOfVarlong(value)).toBe(encoded.length);
        expect(readVarlong(encoded, { pos: 0 })).toBe(value);
        expect(readVarlongBigInt(encoded, { pos: 0 })).toBe(BigInt(value));
      }),
    );
  });

  it('reads the full int64 range with readVarlongBigInt', () => {
    for (const value of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, -(2n ** 53n) - 1n]) {
      const encoded = encodeVarlongBig(value);
      expect(readVarlongBigInt(encoded, { pos: 0 })).toBe(value);
    }
    expect(hex(encodeVarlongBig(2n ** 63n - 1n))).toBe('feffffffffffffffff01');
    expect(hex(encodeVarlongBig(-(2n ** 63n)))).toBe('ffffffffffffffffff01');
  });

  it('refuses values outside the safe range instead of rounding them', () => {
    expectCorrupt(() => readVarlong(encodeVarlongBig(2n ** 53n), { pos: 0 }), /safe integer range/);
    expectCorrupt(() => readVarlong(encodeVarlongBig(-(2n ** 53n)), { pos: 0 }), /safe integer range/);
    expectCorrupt(() => readVarlong(encodeVarlongBig(2n ** 63n - 1n), { pos: 0 }), /safe integer range/);
    expect(() => writeVarlong(new Uint8Array(10), 0, 2 ** 53)).toThrow(RangeError);
    expect(() => writeVarlong(new Uint8Array(10), 0, 1.5)).toThrow(RangeError);
  });

  it('rejects an eleventh byte and a truncated varlong', () => {
    expectCorrupt(() => readVarlong(fromHex('ffffffffffffffffff'), { pos: 0 }), /past the end/);
    expectCorrupt(() => readVarlong(fromHex('ffffffffffffffffff81'), { pos: 0 }), /longer than 10 bytes/);
    expectCorrupt(() => readVarlong(fromHex('ffffffffffffffffff8101'), { pos: 0 }), /longer than 10 bytes/);
    expectCorrupt(() => readVarlongBigInt(fromHex('ffffffffffffffffff8101'), { pos: 0 }), /longer than 10/);
    expectCorrupt(() => readVarlong(fromHex('80'), { pos: 0 }), /past the end/);
  });

  it('accepts a non-minimal encoding, as Kafka does', () => {
    expect(readVarlong(fromHex('8280808000'), { pos: 0 })).toBe(1);
    expect(readVarint(fromHex('82808000'), { pos: 0 })).toBe(1);
  });
});
