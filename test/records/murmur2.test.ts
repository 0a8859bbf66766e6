import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, toPositive } from '../../src/records/murmur2.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('murmur2', () => {
  // Apache Kafka's UtilsTest.testMurmur2: the Java client's results.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%j) = %d as in Kafka', (key, expected) => {
    expect(murmur2(bytes(key))).toBe(expected);
  });

  it('hashes a view by its own bytes, not its backing buffer', () => {
    const backing = bytes('xx21yy');
    expect(murmur2(backing.subarray(2, 4))).toBe(-973932308);
  });

  it('toPositive clears only the sign bit', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-(2 ** 31))).toBe(0);
    expect(toPositive(123)).toBe(123);
    expect(toPositive(-973932308)).toBe(-973932308 & 0x7fffffff);
  });

  it('partitionForKey is toPositive(murmur2) modulo the partition count', () => {
    expect(partitionForKey(bytes('21'), 7)).toBe((-973932308 & 0x7fffffff) % 7);
    for (let n = 1; n <= 16; n++) {
      const p = partitionForKey(bytes('foobar'), n);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(n);
    }
    expect(() => partitionForKey(bytes('k'), 0)).toThrow(/positive integer/);
    expect(() => partitionForKey(bytes('k'), 1.5)).toThrow(/positive integer/);
  });
});
