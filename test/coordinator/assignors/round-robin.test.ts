/**
 * @module
 * RoundRobinAssignor as a table: members and partition counts in, the exact assignment out.
 */
import { describe, expect, it } from 'vitest';
import type { Assignment, AssignorMember } from '../../../src/coordinator/assignors/assignor.ts';
import { roundRobinAssignor } from '../../../src/coordinator/assignors/round-robin.ts';
import { counts, expectWellFormed, member, tp } from './support.ts';

interface Case {
  name: string;
  members: AssignorMember[];
  counts: Map<string, number>;
  expected: Assignment;
}

const cases: Case[] = [
  {
    name: '3 members × 6 partitions',
    members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
    counts: counts({ t: 6 }),
    expected: { a: [tp('t', 0, 3)], b: [tp('t', 1, 4)], c: [tp('t', 2, 5)] },
  },
  {
    name: '7 partitions over 3',
    members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
    counts: counts({ t: 7 }),
    expected: { a: [tp('t', 0, 3, 6)], b: [tp('t', 1, 4)], c: [tp('t', 2, 5)] },
  },
  {
    name: "two topics: the turn carries over from one topic to the next (Kafka's example)",
    members: [member('c1', ['t0', 't1']), member('c0', ['t0', 't1'])],
    counts: counts({ t0: 3, t1: 3 }),
    expected: { c0: [tp('t0', 0, 2), tp('t1', 1)], c1: [tp('t0', 1), tp('t1', 0, 2)] },
  },
  {
    name: "different subscriptions skip members not subscribed (Kafka's example)",
    members: [member('c0', ['t0']), member('c1', ['t0', 't1']), member('c2', ['t0', 't1', 't2'])],
    counts: counts({ t0: 1, t1: 2, t2: 3 }),
    expected: { c0: [tp('t0', 0)], c1: [tp('t1', 0)], c2: [tp('t1', 1), tp('t2', 0, 1, 2)] },
  },
  {
    name: 'a topic the coordinator does not know is skipped',
    members: [member('a', ['ghost', 't']), member('b', ['t']), member('c', ['ghost'])],
    counts: counts({ t: 4 }),
    expected: { a: [tp('t', 0, 2)], b: [tp('t', 1, 3)], c: [] },
  },
  {
    name: 'zero members',
    members: [],
    counts: counts({ t: 6 }),
    expected: {},
  },
  {
    name: 'more members than partitions: the last ones get nothing',
    members: [member('a', ['t']), member('b', ['t']), member('c', ['t']), member('d', ['t'])],
    counts: counts({ t: 2 }),
    expected: { a: [tp('t', 0)], b: [tp('t', 1)], c: [], d: [] },
  },
  {
    name: 'static members first, by instance id; then dynamic by member id',
    members: [
      member('a-dynamic', ['t']),
      member('z-member', ['t'], { instance: 'instance-1' }),
      member('b-member', ['t'], { instance: 'instance-2' }),
    ],
    counts: counts({ t: 5 }),
    expected: { 'z-member': [tp('t', 0, 3)], 'b-member': [tp('t', 1, 4)], 'a-dynamic': [tp('t', 2)] },
  },
  {
    name: 'ownedPartitions is ignored (eager)',
    members: [member('a', ['t'], { owned: [tp('t', 1, 3)] }), member('b', ['t'], { owned: [tp('t', 0, 2)] })],
    counts: counts({ t: 4 }),
    expected: { a: [tp('t', 0, 2)], b: [tp('t', 1, 3)] },
  },
];

describe('roundRobinAssignor', () => {
  it('is named roundrobin and eager', () => {
    expect(roundRobinAssignor.name).toBe('roundrobin');
    expect(roundRobinAssignor.rebalanceProtocol).toBe('eager');
  });

  it.each(cases)('$name', ({ members, counts: partitionCounts, expected }) => {
    const assignment = roundRobinAssignor.assign(members, partitionCounts);
    expect(assignment).toEqual(expected);
    expectWellFormed(assignment, members, partitionCounts);
    expect(roundRobinAssignor.assign([...members].reverse(), partitionCounts)).toEqual(expected);
  });
});
