import { describe, expect, it } from 'vitest';
import { parsePartitionKey, partitionKey } from '../../src/shared/partition-key.ts';

describe('partitionKey', () => {
  it('keeps partitions of topics whose names run into each other apart, and parses back', () => {
    expect(partitionKey('a1', 2)).not.toBe(partitionKey('a', 12));
    for (const [topic, partition] of [
      ['orders', 0],
      ['a.b-c_d', 9_999],
      ['__consumer_offsets', 49],
    ] as const) {
      expect(parsePartitionKey(partitionKey(topic, partition))).toEqual({ topic, partition });
    }
  });
});
