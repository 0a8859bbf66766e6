/**
 * @module
 * The fast reader of raw-batch produce answers agrees with a full msgpack decode, for every integer width,
 * extra fields in any order, and falls back (undefined) on anything else.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { pack } from '../../src/client/codec.ts';
import { readProduceRange } from '../../src/client/produce-answer.ts';

function answer(partition: number, baseOffset: number, count: number) {
  return { results: Array.from({ length: count }, (_, i) => ({ partition, offset: baseOffset + i })) };
}

describe('readProduceRange', () => {
  it('reads the first result and the count for every integer width', () => {
    for (const base of [0, 5, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31, 2 ** 32 + 7, 2 ** 52]) {
      for (const count of [1, 15, 16, 70_000]) {
        if (count === 70_000 && base !== 0 && base !== 2 ** 32 + 7) continue;
        expect(readProduceRange(pack(answer(3, base, count))), `${base}/${count}`).toEqual({
          count,
          partition: 3,
          baseOffset: base,
        });
      }
    }
  });

  it('reads int64 as another encoder writes it, and skips unknown fields of every type', () => {
    const int64 = new Packr({ useRecords: false, largeBigIntToFloat: false, useBigIntExtension: false });
    const bytes = int64.pack({
      note: 'x'.repeat(300),
      meta: { a: [1, -1, 1.5, null, true, new Uint8Array(70)], b: 'é' },
      results: [{ extra: -200, offset: 2n ** 40n, partition: 1 }],
      after: [1, 2, 3],
    });
    expect(readProduceRange(bytes)).toEqual({ count: 1, partition: 1, baseOffset: 2 ** 40 });
  });

  it('returns undefined for other shapes', () => {
    expect(readProduceRange(pack({}))).toBeUndefined();
    expect(readProduceRange(pack({ results: [] }))).toBeUndefined();
    expect(readProduceRange(pack({ results: [{ partition: 1 }] }))).toBeUndefined();
    expect(readProduceRange(pack({ results: ['x'] }))).toBeUndefined();
    expect(readProduceRange(pack([1, 2]))).toBeUndefined();
    expect(readProduceRange(new Uint8Array([0x81, 0xa7]))).toBeUndefined();
    expect(readProduceRange(new Uint8Array(0))).toBeUndefined();
  });
});
