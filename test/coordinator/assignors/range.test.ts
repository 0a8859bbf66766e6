/**
 * @module
 * RangeAssignor as a table: members and partition counts in, the exact assignment out.
 */
import { describe, expect, it } from 'vitest';
import type { Assignment, AssignorMember } from '../../../src/coordinator/assignors/assignor.ts';
import { rangeAssignor } from '../../../src/coordinator/assignors/range.ts';
import { counts, expectWellFormed, member, span, tp } from './support.ts';

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
    expected: { a: [tp('t', 0, 1)], b: [tp('t', 2, 3)], c: [tp('t', 4, 5)] },
  },
  {
    name: '7 partitions over 3: the first member gets the extra one',
    members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
    counts: counts({ t: 7 }),
    expected: { a: [tp('t', 0, 1, 2)], b: [tp('t', 3, 4)], c: [tp('t', 5, 6)] },
  },
  {
    name: '8 partitions over 3: the first two get one extra',
    members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
    counts: counts({ t: 8 }),
    expected: { a: [tp('t', 0, 1, 2)], b: [tp('t', 3, 4, 5)], c: [tp('t', 6, 7)] },
  },
  {
    name: 'two topics: each topic is split on its own, so the first member gets both extras',
    members: [member('c1', ['t0', 't1']), member('c0', ['t0', 't1'])],
    counts: counts({ t0: 3, t1: 3 }),
    expected: { c0: [tp('t0', 0, 1), tp('t1', 0, 1)], c1: [tp('t0', 2), tp('t1', 2)] },
  },
  {
    name: 'different subscriptions: each topic goes to its own subscribers',
    members: [member('a', ['t1', 't2']), member('b', ['t1']), member('c', ['t2'])],
    counts: counts({ t1: 3, t2: 4 }),
    expected: { a: [tp('t1', 0, 1), tp('t2', 0, 1)], b: [tp('t1', 2)], c: [tp('t2', 2, 3)] },
  },
  {
    name: 'a topic the coordinator does not know is skipped',
    members: [member('a', ['ghost', 't']), member('b', ['t']), member('c', ['ghost'])],
    counts: counts({ t: 4 }),
    expected: { a: [tp('t', 0, 1)], b: [tp('t', 2, 3)], c: [] },
  },
  {
    name: 'a topic with no partitions gives nothing',
    members: [member('a', ['empty', 't']), member('b', ['empty'])],
    counts: counts({ empty: 0, t: 2 }),
    expected: { a: [tp('t', 0, 1)], b: [] },
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
    name: 'static members first, by instance id, whatever their member id; then dynamic by member id',
    members: [
      member('a-dynamic', ['t']),
      member('z-member', ['t'], { instance: 'instance-1' }),
      member('b-member', ['t'], { instance: 'instance-2' }),
    ],
    counts: counts({ t: 7 }),
    expected: { 'z-member': [tp('t', 0, 1, 2)], 'b-member': [tp('t', 3, 4)], 'a-dynamic': [tp('t', 5, 6)] },
  },
  {
    name: 'ownedPartitions is ignored (eager)',
    members: [
      member('a', ['t'], { owned: [span('t', 2, 6)] }),
      member('b', ['t'], { owned: [tp('t', 0, 1)] }),
    ],
    counts: counts({ t: 6 }),
    expected: { a: [tp('t', 0, 1, 2)], b: [tp('t', 3, 4, 5)] },
  },
  {
    name: 'member ids compare by code unit, not locale ("B" < "a")',
    members: [member('a', ['t']), member('B', ['t'])],
    counts: counts({ t: 2 }),
    expected: { B: [tp('t', 0)], a: [tp('t', 1)] },
  },
];

describe('rangeAssignor', () => {
  it('is named range and eager', () => {
    expect(rangeAssignor.name).toBe('range');
    expect(rangeAssignor.rebalanceProtocol).toBe('eager');
  });

  it.each(cases)('$name', ({ members, counts: partitionCounts, expected }) => {
    const assignment = rangeAssignor.assign(members, partitionCounts);
    expect(assignment).toEqual(expected);
    expectWellFormed(assignment, members, partitionCounts);
    expect(rangeAssignor.assign([...members].reverse(), partitionCounts)).toEqual(expected);
  });
});
