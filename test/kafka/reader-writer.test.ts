import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reader } from '../../src/kafka/codec/reader.ts';
import { utf8Length, Writer } from '../../src/kafka/codec/writer.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { concat } from './arbitraries.ts';
import { fromHex, toHex } from './fixtures/golden.ts';

function written(fn: (w: Writer) => void): string {
  const w = new Writer();
  fn(w);
  return toHex(w.toBytes());
}

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(BrokerError);
  expect((caught as BrokerError).code).toBe(code);
  if (message) expect((caught as BrokerError).message).toMatch(message);
}

describe('fixed-width integers', () => {
  it('are big-endian two’s complement', () => {
    expect(written((w) => w.int8(-2))).toBe('fe');
    expect(written((w) => w.int16(-2))).toBe('fffe');
    expect(written((w) => w.uint16(65535))).toBe('ffff');
    expect(written((w) => w.int32(0x01020304))).toBe('01020304');
    expect(written((w) => w.uint32(0xfffffffe))).toBe('fffffffe');
    expect(written((w) => w.int64(-1))).toBe('ffffffffffffffff');
    expect(written((w) => w.int64(2 ** 40 + 5))).toBe('0000010000000005');
    expect(written((w) => w.float64(1.5))).toBe('3ff8000000000000');
    expect(written((w) => w.bool(true))).toBe('01');
  });

  it('round-trip across their ranges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -128, max: 127 }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.maxSafeInteger().map((n) => (n % 2 === 0 ? n : -n)),
        (a, b, c, d, e) => {
          const w = new Writer({ initialCapacity: 16 });
          w.int8(a);
          w.int16(b);
          w.int32(c);
          w.uint32(d);
          w.int64(e);
          const r = new Reader(w.toBytes());
          expect([r.int8(), r.int16(), r.int32(), r.uint32(), r.int64()]).toEqual([a, b, c, d, e]);
          expect(r.remaining).toBe(0);
        },
      ),
    );
  });

  it('int64: safe integers only, on both sides (outside ±(2^53-1) is malformed, not rounded)', () => {
    expect(new Reader(fromHex('001fffffffffffff')).int64()).toBe(Number.MAX_SAFE_INTEGER);
    expect(new Reader(fromHex('ffe0000000000001')).int64()).toBe(Number.MIN_SAFE_INTEGER);
    expectCode(() => new Reader(fromHex('0020000000000000')).int64(), 'INVALID_REQUEST', /safe-integer/);
    expectCode(() => new Reader(fromHex('ffe0000000000000')).int64(), 'INVALID_REQUEST', /safe-integer/);
    expectCode(() => new Reader(fromHex('7fffffffffffffff')).int64(), 'INVALID_REQUEST');
    expectCode(() => new Writer().int64(2 ** 53), 'UNKNOWN_SERVER_ERROR', /as int64/);
    expectCode(() => new Writer().int64(1.5), 'UNKNOWN_SERVER_ERROR');
  });

  it('the writer refuses values its type cannot hold', () => {
    expectCode(() => new Writer().int8(128), 'UNKNOWN_SERVER_ERROR', /128 as int8/);
    expectCode(() => new Writer().int16(40000), 'UNKNOWN_SERVER_ERROR');
    expectCode(() => new Writer().uint16(-1), 'UNKNOWN_SERVER_ERROR');
    expectCode(() => new Writer().int32(2 ** 31), 'UNKNOWN_SERVER_ERROR');
    expectCode(() => new Writer().uint32(-1), 'UNKNOWN_SERVER_ERROR');
    expectCode(() => new Writer().int32(undefined as unknown as number), 'UNKNOWN_SERVER_ERROR');
    expectCode(() => new Writer().bool(1 as unknown as boolean), 'UNKNOWN_SERVER_ERROR');
  });

  it('reads are bounds-checked', () => {
    expectCode(
      () => new Reader(fromHex('000000')).int32(),
      'INVALID_REQUEST',
      /truncated int32: needs 4 bytes at offset 0, 3 left/,
    );
    const r = new Reader(fromHex('0102030405'), 1, 3);
    expect(r.int16()).toBe(0x0203);
    expectCode(() => r.int8(), 'INVALID_REQUEST');
  });
});

describe('varints', () => {
  const UNSIGNED: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'],
    [128, '8001'],
    [300, 'ac02'],
    [16384, '808001'],
    [2 ** 31, '8080808008'],
    [2 ** 32 - 1, 'ffffffff0f'],
  ];
  it.each(UNSIGNED)('unsigned %i ↔ %s', (value, hex) => {
    expect(written((w) => w.uvarint(value))).toBe(hex);
    expect(new Reader(fromHex(hex)).uvarint()).toBe(value);
  });

  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-64, '7f'],
    [64, '8001'],
    [2 ** 31 - 1, 'feffffff0f'],
    [-(2 ** 31), 'ffffffff0f'],
  ] as [number, string][])('zigzag %i ↔ %s', (value, hex) => {
    expect(written((w) => w.varint(value))).toBe(hex);
    expect(new Reader(fromHex(hex)).varint()).toBe(value);
  });

  it('rejects more than 32 bits, more than 5 bytes and truncation', () => {
    expectCode(() => new Reader(fromHex('ffffffff1f')).uvarint(), 'INVALID_REQUEST', /exceeds 32 bits/);
    expectCode(() => new Reader(fromHex('8080808080')).uvarint(), 'INVALID_REQUEST');
    expectCode(() => new Reader(fromHex('8080')).uvarint(), 'INVALID_REQUEST', /truncated varint/);
    expectCode(() => new Writer().uvarint(-1), 'UNKNOWN_SERVER_ERROR');
  });
});

describe('strings, bytes and uuids', () => {
  it('classic and compact strings, null included', () => {
    expect(written((w) => w.nullableString('kcat'))).toBe('00046b636174');
    expect(written((w) => w.nullableString(null))).toBe('ffff');
    expect(written((w) => w.compactNullableString('kcat'))).toBe('056b636174');
    expect(written((w) => w.compactNullableString(null))).toBe('00');
    expect(written((w) => w.compactNullableString(''))).toBe('01');
    expect(new Reader(fromHex('ffff')).nullableString()).toBeNull();
    expect(new Reader(fromHex('00')).compactNullableString()).toBeNull();
    expectCode(
      () => new Reader(fromHex('fffe')).nullableString(),
      'INVALID_REQUEST',
      /negative string length -2/,
    );
  });

  it('UTF-8 round trip, and utf8Length agrees with the encoder', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.boolean(), (text, compact) => {
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
        const w = new Writer({ initialCapacity: 16 });
        if (compact) w.compactNullableString(text);
        else w.nullableString(text);
        const r = new Reader(w.toBytes());
        expect(compact ? r.compactNullableString() : r.nullableString()).toBe(text);
      }),
    );
    // A lone surrogate is written as U+FFFD, as TextEncoder (and Java) do.
    expect(utf8Length('a\ud800')).toBe(4);
    expect(written((w) => w.nullableString('\ud800'))).toBe('0003efbfbd');
  });

  it('classic strings are limited to 32767 bytes', () => {
    expectCode(() => new Writer().nullableString('é'.repeat(20000)), 'UNKNOWN_SERVER_ERROR', /32767/);
  });

  it('bytes decode as views of the input, not copies', () => {
    const input = fromHex('00000003aabbcc04ddeeff');
    const r = new Reader(input);
    const first = r.nullableBytes()!;
    const second = r.compactNullableBytes()!;
    expect(toHex(first)).toBe('aabbcc');
    expect(toHex(second)).toBe('ddeeff');
    expect(first.buffer).toBe(input.buffer);
    expect(second.byteOffset).toBe(input.byteOffset + 8);
    expect(new Reader(fromHex('ffffffff')).nullableBytes()).toBeNull();
    expectCode(
      () => new Reader(fromHex('80000000')).nullableBytes(),
      'INVALID_REQUEST',
      /negative bytes length/,
    );
  });

  it('uuids', () => {
    const id = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
    const hex = written((w) => w.uuid(id));
    expect(hex).toBe('0f1e2d3c4b5a69788796a5b4c3d2e1f0');
    expect(new Reader(fromHex(hex)).uuid()).toBe(id);
    expect(new Reader(fromHex(written((w) => w.uuid(id.toUpperCase())))).uuid()).toBe(id);
    expectCode(() => new Writer().uuid('not-a-uuid'), 'UNKNOWN_SERVER_ERROR');
  });

  it('array counts are checked against the bytes left before anything is allocated', () => {
    expect(new Reader(fromHex('ffffffff')).arrayLength()).toBe(-1);
    expect(new Reader(fromHex('00')).compactArrayLength()).toBe(-1);
    expect(new Reader(fromHex('00000002aaaa')).arrayLength()).toBe(2);
    expectCode(() => new Reader(fromHex('00000002aaaa')).arrayLength(2), 'INVALID_REQUEST', /cannot fit/);
    expectCode(
      () => new Reader(fromHex('7fffffff')).arrayLength(),
      'INVALID_REQUEST',
      /cannot fit in the 0 bytes/,
    );
    expectCode(
      () => new Reader(fromHex('fffffffe')).arrayLength(),
      'INVALID_REQUEST',
      /negative array length/,
    );
    expectCode(() => new Reader(fromHex('ffffffff0f')).compactArrayLength(), 'INVALID_REQUEST', /cannot fit/);
  });

  it('tagged-field sections: unknown tags are skipped, sizes are bounds-checked', () => {
    const r = new Reader(fromHex('02000301020305020a0bff'));
    const seen: number[] = [];
    r.taggedFields((tag) => {
      seen.push(tag);
      if (tag !== 5) return false;
      r.int16();
      return true;
    });
    expect(seen).toEqual([0, 5]);
    expect(r.int8()).toBe(-1);
    expectCode(
      () => new Reader(fromHex('010009aa')).skipTaggedFields(),
      'INVALID_REQUEST',
      /tagged field 0: needs 9/,
    );
    expectCode(
      () => new Reader(fromHex('01000301020300')).taggedFields(() => true),
      'INVALID_REQUEST',
      /declares 3 bytes/,
    );
  });
});

describe('Writer chunks', () => {
  it('appends long byte strings by reference and short ones by copy', () => {
    const big = new Uint8Array(2000).fill(7);
    const small = Uint8Array.of(1, 2, 3);
    const w = new Writer({ initialCapacity: 16, referenceThreshold: 1024 });
    w.int32(5);
    w.nullableBytes(big);
    w.nullableBytes(small);
    expect(w.length).toBe(4 + 4 + 2000 + 4 + 3);
    const chunks = w.finish();
    expect(chunks).toHaveLength(3);
    expect(chunks[1]).toBe(big);
    expect(toHex(chunks[0]!)).toBe('00000005000007d0');
    expect(toHex(chunks[2]!)).toBe('00000003010203');
  });

  it('keeps handed-out chunks intact while writing on, through growth, finish and patching', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ minLength: 64, maxLength: 200 })),
          {
            maxLength: 30,
          },
        ),
        (pieces) => {
          const w = new Writer({ initialCapacity: 16, referenceThreshold: 64 });
          const at = w.reserveInt32();
          for (const piece of pieces) w.nullableBytes(piece);
          w.patchInt32(at, w.length - 4);
          const expected = Buffer.concat(
            pieces.flatMap((p) => {
              const length = Buffer.alloc(4);
              length.writeInt32BE(p.length);
              return [length, p];
            }),
          );
          const chunks = w.finish();
          // Writing more after finish() must not disturb what was handed out.
          for (let i = 0; i < 50; i++) w.int32(-1);
          const out = concat(chunks);
          expect(new DataView(out.buffer).getInt32(0)).toBe(expected.length);
          expect(toHex(out.subarray(4))).toBe(expected.toString('hex'));
        },
      ),
    );
  });

  it('toBytes copies everything and reuses the buffer for the next message', () => {
    const w = new Writer({ initialCapacity: 16 });
    w.nullableString('first message');
    const first = w.toBytes();
    w.nullableString('second');
    const second = w.toBytes();
    expect(toHex(first)).toBe(`000d${Buffer.from('first message').toString('hex')}`);
    expect(toHex(second)).toBe(`0006${Buffer.from('second').toString('hex')}`);
    expect(w.length).toBe(0);
  });
});
