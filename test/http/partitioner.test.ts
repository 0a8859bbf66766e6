/**
 * @module
 * Explicit, keyed (murmur2) and sticky partition choice for {records} produce.
 */
import { describe, expect, it } from 'vitest';
import { createPartitioner } from '../../src/http/partitioner.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { utf8 } from './support.ts';

describe('createPartitioner', () => {
  it('uses an explicit partition first, even over a key', () => {
    const partitionOf = createPartitioner('t', 4);
    expect(partitionOf({ partition: 3, key: utf8('k') })).toBe(3);
    expect(partitionOf({ partition: 0 })).toBe(0);
  });

  it('refuses a partition out of range with UNKNOWN_TOPIC_OR_PARTITION', () => {
    const partitionOf = createPartitioner('t', 4);
    for (const partition of [4, -1, 1.5]) {
      expect(() => partitionOf({ partition })).toThrow(BrokerError);
      try {
        partitionOf({ partition });
      } catch (err) {
        expect((err as BrokerError).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
      }
    }
  });

  it("hashes keys as Java's DefaultPartitioner", () => {
    // murmur2 values from Kafka's UtilsTest: toPositive(murmur2(key)) % partitions.
    const partitionOf = createPartitioner('t', 1000, () => 0);
    expect(partitionOf({ key: utf8('21') })).toBe((-973932308 & 0x7fffffff) % 1000);
    expect(partitionOf({ key: utf8('foobar') })).toBe((-790332482 & 0x7fffffff) % 1000);
    expect(partitionOf({ key: utf8('abc') })).toBe(479470107 % 1000);
    // An empty key is a key (murmur2 of no bytes), not "no key": it does not take the sticky partition 0.
    expect(partitionOf({ key: new Uint8Array(0) })).toBe(
      createPartitioner('t', 1000, () => 0.5)({ key: new Uint8Array(0) }),
    );
    expect(partitionOf({ key: new Uint8Array(0) })).not.toBe(0);
  });

  it('puts keyless records on one random partition per partitioner', () => {
    const first = createPartitioner('t', 10, () => 0.35);
    expect([first({}), first({ key: null }), first({})]).toEqual([3, 3, 3]);
    const second = createPartitioner('t', 10, () => 0.99);
    expect(second({})).toBe(9);
    // A random() of exactly 1 - epsilon or a bad source never escapes the range.
    expect(createPartitioner('t', 3, () => 1)({})).toBe(2);
  });
});
