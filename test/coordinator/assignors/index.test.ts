/**
 * @module
 * The assignor registry and `unassignedPartitions`, the coordinator's cue for a follow-up rebalance.
 */
import { describe, expect, it } from 'vitest';
import type { Assignment, AssignorMember } from '../../../src/coordinator/assignors/assignor.ts';
import { cooperativeStickyAssignor } from '../../../src/coordinator/assignors/cooperative-sticky.ts';
import { ASSIGNORS, assignorFor, unassignedPartitions } from '../../../src/coordinator/assignors/index.ts';
import { rangeAssignor } from '../../../src/coordinator/assignors/range.ts';
import { roundRobinAssignor } from '../../../src/coordinator/assignors/round-robin.ts';
import type { TopicPartitions } from '../../../src/coordinator/group-api.ts';
import { counts, member, tp } from './support.ts';

describe('ASSIGNORS', () => {
  it("has the three by Kafka's names", () => {
    expect([...ASSIGNORS.keys()]).toEqual(['range', 'roundrobin', 'cooperative-sticky']);
    expect(assignorFor('range')).toBe(rangeAssignor);
    expect(assignorFor('roundrobin')).toBe(roundRobinAssignor);
    expect(assignorFor('cooperative-sticky')).toBe(cooperativeStickyAssignor);
    expect(assignorFor('sticky')).toBeUndefined();
  });
});

interface Case {
  name: string;
  assignment: Assignment;
  members: AssignorMember[];
  counts: Map<string, number>;
  expected: TopicPartitions[];
}

const cases: Case[] = [
  {
    name: 'complete',
    assignment: { a: [tp('t', 0, 1)], b: [tp('t', 2)] },
    members: [member('a', ['t']), member('b', ['t'])],
    counts: counts({ t: 3 }),
    expected: [],
  },
  {
    name: 'gaps in several topics, sorted by topic then partition',
    assignment: { a: [tp('u', 1)], b: [tp('t', 0, 2)] },
    members: [member('a', ['u']), member('b', ['t'])],
    counts: counts({ t: 4, u: 3 }),
    expected: [tp('t', 1, 3), tp('u', 0, 2)],
  },
  {
    name: 'topics nobody subscribes to and unknown topics do not count',
    assignment: { a: [tp('t', 0)] },
    members: [member('a', ['t', 'ghost'])],
    counts: counts({ t: 1, other: 5 }),
    expected: [],
  },
  {
    name: 'no members',
    assignment: {},
    members: [],
    counts: counts({ t: 3 }),
    expected: [],
  },
  {
    name: 'a topic with no partitions has nothing to leave out',
    assignment: { a: [] },
    members: [member('a', ['empty'])],
    counts: counts({ empty: 0 }),
    expected: [],
  },
];

describe('unassignedPartitions', () => {
  it.each(cases)('$name', ({ assignment, members, counts: partitionCounts, expected }) => {
    expect(unassignedPartitions(assignment, members, partitionCounts)).toEqual(expected);
  });
});
