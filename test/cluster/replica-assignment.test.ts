/**
 * @module
 * Replica placement (`src/cluster/replica-assignment.ts`) as tables: the rack-alternating broker order, and
 * assignments checked for what the controller relies on: RF distinct brokers per partition, preferred
 * leaders spread evenly, each partition across min(RF, racks) racks, and a stable per-topic start.
 */
import { describe, expect, it } from 'vitest';
import {
  type AssignableBroker,
  assignReplicas,
  rackAlternatingOrder,
  startFor,
} from '../../src/cluster/replica-assignment.ts';

/** Brokers from `{ rack: [ids] }`; the key `-` means no rack. */
function brokersIn(racks: Record<string, number[]>): AssignableBroker[] {
  return Object.entries(racks).flatMap(([rack, ids]) =>
    ids.map((nodeId) => ({ nodeId, rack: rack === '-' ? null : rack })),
  );
}

function noRacks(...ids: number[]): AssignableBroker[] {
  return ids.map((nodeId) => ({ nodeId, rack: null }));
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** True when there are no racks, or every rack holds the same number of brokers. */
function racksOfOneSize(brokers: readonly AssignableBroker[]): boolean {
  const sizes = new Map<string | null, number>();
  for (const b of brokers) sizes.set(b.rack, (sizes.get(b.rack) ?? 0) + 1);
  return brokers.every((b) => b.rack === null) || new Set(sizes.values()).size <= 1;
}

describe('rackAlternatingOrder', () => {
  it.each([
    { name: 'no racks: every broker once, by node id', brokers: noRacks(3, 1, 2, 4), order: [1, 2, 3, 4] },
    { name: 'one broker', brokers: noRacks(7), order: [7] },
    { name: 'no brokers', brokers: [], order: [] },
    {
      name: 'two racks of two: alternate',
      brokers: brokersIn({ a: [1, 3], b: [2, 4] }),
      order: [1, 2, 3, 4],
    },
    {
      name: 'racks in name order, brokers by id within a rack',
      brokers: brokersIn({ z: [2, 1], a: [4, 3] }),
      order: [3, 1, 4, 2],
    },
    {
      name: 'racks of unequal sizes: the first of each rack, then the second of each, ...',
      brokers: brokersIn({ rA: [1, 2, 3], rB: [4], rC: [5, 6] }),
      order: [1, 4, 5, 2, 6, 3],
    },
    {
      name: 'one rack holds all but one broker',
      brokers: brokersIn({ big: [10, 11, 12, 13], small: [20] }),
      order: [10, 20, 11, 12, 13],
    },
    {
      name: 'brokers without a rack count as a rack each',
      // Named racks first (by name), then the rackless brokers by node id, one per round.
      brokers: brokersIn({ '-': [5, 6], r: [1, 2] }),
      order: [1, 5, 6, 2],
    },
  ])('$name', ({ brokers, order }) => {
    expect(rackAlternatingOrder(brokers)).toEqual(order);
    expect(rackAlternatingOrder([...brokers].reverse())).toEqual(order);
  });

  it('no racks, multi-digit ids: every broker exactly once, whatever order they are given in', () => {
    const ids = [10, 2, 1, 33, 4];
    const order = rackAlternatingOrder(noRacks(...ids));
    expect([...order].sort((a, b) => a - b)).toEqual([1, 2, 4, 10, 33]);
    expect(rackAlternatingOrder(noRacks(...[...ids].reverse()))).toEqual(order);
  });

  it('with racks, neighbours stand in different racks while more than one rack has brokers left', () => {
    const brokers = brokersIn({ a: [1, 2, 3, 4], b: [5, 6], c: [7, 8, 9] });
    const rackOf = new Map(brokers.map((b) => [b.nodeId, b.rack]));
    const order = rackAlternatingOrder(brokers);
    expect(order.map((id) => rackOf.get(id))).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'c', 'a']);
  });
});

describe('assignReplicas', () => {
  const layouts: Array<{ name: string; brokers: AssignableBroker[]; rf: number }> = [
    { name: '1 broker, RF 1', brokers: noRacks(1), rf: 1 },
    { name: '3 brokers, RF 1', brokers: noRacks(1, 2, 3), rf: 1 },
    { name: '3 brokers, RF 3', brokers: noRacks(1, 2, 3), rf: 3 },
    { name: '5 brokers, RF 3', brokers: noRacks(4, 8, 15, 16, 23), rf: 3 },
    { name: '4 brokers in 2 racks, RF 2', brokers: brokersIn({ a: [1, 2], b: [3, 4] }), rf: 2 },
    { name: '6 brokers in 3 racks, RF 3', brokers: brokersIn({ a: [1, 2], b: [3, 4], c: [5, 6] }), rf: 3 },
    { name: '6 brokers in 3 racks, RF 2', brokers: brokersIn({ a: [1, 2], b: [3, 4], c: [5, 6] }), rf: 2 },
    { name: '6 brokers in 2 racks, RF 3', brokers: brokersIn({ a: [1, 2, 3], b: [4, 5, 6] }), rf: 3 },
    {
      name: '6 brokers in unequal racks 3/1/2, RF 2',
      brokers: brokersIn({ rA: [1, 2, 3], rB: [4], rC: [5, 6] }),
      rf: 2,
    },
    {
      name: '6 brokers in unequal racks 3/1/2, RF 3',
      brokers: brokersIn({ rA: [1, 2, 3], rB: [4], rC: [5, 6] }),
      rf: 3,
    },
    { name: '3 brokers in unequal racks 2/1, RF 2', brokers: brokersIn({ a: [1, 2], b: [3] }), rf: 2 },
  ];
  const starts = [0, 1, 5, startFor('orders')];

  it.each(layouts)('$name: every partition gets RF distinct live brokers', ({ brokers, rf }) => {
    const ids = new Set(brokers.map((b) => b.nodeId));
    for (const start of starts) {
      const partitions = range(2 * brokers.length + 1);
      const assignment = assignReplicas(brokers, partitions, rf, start);
      expect([...assignment.keys()]).toEqual(partitions);
      for (const [p, replicas] of assignment) {
        expect(replicas, `partition ${p}, start ${start}`).toHaveLength(rf);
        expect(new Set(replicas).size, `partition ${p}, start ${start}`).toBe(rf);
        for (const id of replicas) expect(ids.has(id)).toBe(true);
      }
    }
  });

  it.each(layouts)(
    '$name: k × brokers partitions give every broker k preferred leaderships',
    ({ brokers, rf }) => {
      for (const start of starts) {
        for (const k of [1, 3]) {
          const assignment = assignReplicas(brokers, range(k * brokers.length), rf, start);
          const leaderships = new Map<number, number>(brokers.map((b) => [b.nodeId, 0]));
          for (const replicas of assignment.values()) {
            leaderships.set(replicas[0]!, leaderships.get(replicas[0]!)! + 1);
          }
          expect([...leaderships.values()], `start ${start}, k ${k}`).toEqual(brokers.map(() => k));
        }
      }
    },
  );

  // Only where racks are of one size: with unequal racks, spanning the racks must come first (a rack with
  // one broker gets a replica of most partitions), so equal replica counts are not promised there.
  it.each(layouts.filter((l) => racksOfOneSize(l.brokers)))(
    '$name: with k × brokers partitions every broker holds the same number of replicas',
    ({ brokers, rf }) => {
      const assignment = assignReplicas(brokers, range(2 * brokers.length), rf, 3);
      const held = new Map<number, number>();
      for (const replicas of assignment.values())
        for (const id of replicas) held.set(id, (held.get(id) ?? 0) + 1);
      expect(new Set(held.values())).toEqual(new Set([2 * rf]));
    },
  );

  it.each(layouts.filter((l) => l.brokers.some((b) => b.rack !== null)))(
    '$name: each partition spans min(RF, racks) racks',
    ({ brokers, rf }) => {
      const rackOf = new Map(brokers.map((b) => [b.nodeId, b.rack]));
      const racks = new Set(brokers.map((b) => b.rack)).size;
      for (const start of starts) {
        const assignment = assignReplicas(brokers, range(2 * brokers.length), rf, start);
        for (const [p, replicas] of assignment) {
          const spanned = new Set(replicas.map((id) => rackOf.get(id))).size;
          expect(spanned, `partition ${p} → ${replicas.join(',')}, start ${start}`).toBe(Math.min(rf, racks));
        }
      }
    },
  );

  it('exact placement: partition p takes RF consecutive brokers of the rack-alternating order from start + p', () => {
    const brokers = brokersIn({ a: [1, 2], b: [3, 4], c: [5, 6] }); // order 1 3 5 2 4 6
    expect(Object.fromEntries(assignReplicas(brokers, range(7), 3, 0))).toEqual({
      0: [1, 3, 5],
      1: [3, 5, 2],
      2: [5, 2, 4],
      3: [2, 4, 6],
      4: [4, 6, 1],
      5: [6, 1, 3],
      6: [1, 3, 5],
    });
    expect(assignReplicas(brokers, [0], 3, 2).get(0)).toEqual([5, 2, 4]);
    expect(assignReplicas(brokers, [0], 3, 6 * 1_000_000 + 1).get(0)).toEqual([3, 5, 2]);
  });

  it('partitions added later land where they would have in one assignment (CreatePartitions)', () => {
    const brokers = brokersIn({ a: [1, 2], b: [3, 4], c: [5] });
    const start = startFor('payments');
    const all = assignReplicas(brokers, range(8), 3, start);
    const added = assignReplicas(brokers, [5, 6, 7], 3, start);
    expect([...added]).toEqual([5, 6, 7].map((p) => [p, all.get(p)]));
  });

  it('different starts put the first partition of small topics on different leaders', () => {
    const brokers = noRacks(1, 2, 3, 4, 5);
    const leaders = new Set(range(5).map((start) => assignReplicas(brokers, [0], 2, start).get(0)![0]));
    expect(leaders.size).toBe(5);
  });

  it.each([
    { brokers: noRacks(1, 2), rf: 3 },
    { brokers: noRacks(), rf: 1 },
    { brokers: noRacks(1, 2, 3), rf: 0 },
    { brokers: noRacks(1, 2, 3), rf: -1 },
  ])('throws for RF $rf on $brokers.length brokers', ({ brokers, rf }) => {
    expect(() => assignReplicas(brokers, [0, 1], rf, 0)).toThrow(/cannot place/);
  });

  it('RF equal to the broker count puts every broker on every partition', () => {
    const assignment = assignReplicas(noRacks(1, 2, 3), range(3), 3, 0);
    for (const replicas of assignment.values()) expect([...replicas].sort()).toEqual([1, 2, 3]);
  });

  it('no partitions: an empty assignment', () => {
    expect(assignReplicas(noRacks(1, 2), [], 2, 0).size).toBe(0);
  });
});

describe('startFor', () => {
  it('is FNV-1a 32 of the topic name: the same number in every process and version', () => {
    expect(startFor('')).toBe(0x811c9dc5);
    expect(startFor('a')).toBe(0xe40c292c);
    expect(startFor('foobar')).toBe(0xbf9cf968);
  });

  it('is stable across calls and a non-negative integer', () => {
    for (const topic of ['orders', 'payments', '__consumer_offsets', 'a.b-c_d', 'ü']) {
      const start = startFor(topic);
      expect(Number.isSafeInteger(start) && start >= 0, topic).toBe(true);
      expect(startFor(topic)).toBe(start);
    }
  });

  it('spreads topic names over the brokers', () => {
    const brokers = 5;
    const hits = new Array<number>(brokers).fill(0);
    for (let i = 0; i < 500; i++) hits[startFor(`topic-${i}`) % brokers]!++;
    for (const count of hits) expect(count).toBeGreaterThan(60);
  });
});
