/**
 * @module
 * CooperativeStickyAssignor as tables: one round (members, what they own and partition counts in, the exact
 * assignment out), and rebalances played over two rounds, the second with every member owning what the
 * first gave it.
 */
import { describe, expect, it } from 'vitest';
import type { Assignment, AssignorMember } from '../../../src/coordinator/assignors/assignor.ts';
import { cooperativeStickyAssignor } from '../../../src/coordinator/assignors/cooperative-sticky.ts';
import { unassignedPartitions } from '../../../src/coordinator/assignors/index.ts';
import type { TopicPartitions } from '../../../src/coordinator/group-api.ts';
import { counts, expectWellFormed, member, nextRound, span, tp } from './support.ts';

interface Case {
  name: string;
  members: AssignorMember[];
  counts: Map<string, number>;
  expected: Assignment;
}

const assign = cooperativeStickyAssignor.assign;

const oneRound: Case[] = [
  {
    name: 'new group, 3 members × 6 partitions: dealt one at a time to the member holding fewest',
    members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
    counts: counts({ t: 6 }),
    expected: { a: [tp('t', 0, 3)], b: [tp('t', 1, 4)], c: [tp('t', 2, 5)] },
  },
  {
    name: 'new group, 7 partitions over 3',
    members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])],
    counts: counts({ t: 7 }),
    expected: { a: [tp('t', 0, 3, 6)], b: [tp('t', 1, 4)], c: [tp('t', 2, 5)] },
  },
  {
    name: 'different subscriptions: partitions with fewer subscribers are dealt first',
    members: [member('a', ['t']), member('b', ['t', 'u'])],
    counts: counts({ t: 2, u: 2 }),
    expected: { a: [tp('t', 0, 1)], b: [tp('u', 0, 1)] },
  },
  {
    name: 'different subscriptions, overlapping: dealt, then one partition moves to even out',
    members: [member('a', ['t1', 't2']), member('b', ['t1']), member('c', ['t2'])],
    counts: counts({ t1: 3, t2: 4 }),
    // Dealt: a t1[0,2] t2[2], b t1[1], c t2[0,1,3]; then a's t1-2 goes to b (3,1,3 → 2,2,3).
    expected: { a: [tp('t1', 0), tp('t2', 2)], b: [tp('t1', 1, 2)], c: [tp('t2', 0, 1, 3)] },
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
    name: 'a balanced group keeps exactly what it owns, however scattered (and listed unsorted)',
    members: [
      member('a', ['t'], { owned: [tp('t', 5, 0, 3)] }),
      member('b', ['t'], { owned: [tp('t', 1, 2, 4)] }),
    ],
    counts: counts({ t: 6 }),
    expected: { a: [tp('t', 0, 3, 5)], b: [tp('t', 1, 2, 4)] },
  },
  {
    name: 'a new member: the fullest give up their surplus, held back from it this round',
    members: [
      member('a', ['t'], { owned: [span('t', 0, 4)] }),
      member('b', ['t'], { owned: [span('t', 4, 8)] }),
      member('c', ['t'], { owned: [span('t', 8, 12)] }),
      member('d', ['t']),
    ],
    counts: counts({ t: 12 }),
    // Target: d takes 11, 7, 3; a, b and c still list them, so d gets nothing yet.
    expected: { a: [tp('t', 0, 1, 2)], b: [tp('t', 4, 5, 6)], c: [tp('t', 8, 9, 10)], d: [] },
  },
  {
    name: 'two members claim a partition: the one with fewer claims keeps it',
    members: [
      member('a', ['t'], { owned: [tp('t', 0, 1, 2)] }),
      member('b', ['t'], { owned: [tp('t', 2, 3)] }),
    ],
    counts: counts({ t: 4 }),
    expected: { a: [tp('t', 0, 1)], b: [tp('t', 2, 3)] },
  },
  {
    name: 'two members claim a partition as many times: the first in member order keeps it',
    members: [member('b', ['t'], { owned: [tp('t', 1, 2)] }), member('a', ['t'], { owned: [tp('t', 0, 1)] })],
    counts: counts({ t: 4 }),
    // a keeps 0 and 1, b keeps 2 and gets the unclaimed 3.
    expected: { a: [tp('t', 0, 1)], b: [tp('t', 2, 3)] },
  },
  {
    name: 'a member that dropped a topic but still lists its partitions makes them wait a round',
    members: [member('a', ['u'], { owned: [tp('t', 0, 1)] }), member('b', ['t'])],
    counts: counts({ t: 2, u: 2 }),
    expected: { a: [tp('u', 0, 1)], b: [] },
  },
  {
    name: 'partitions of a deleted topic and beyond a shrunk count are ignored, the rest balanced',
    members: [member('a', ['t', 'gone'], { owned: [span('t', 0, 6), tp('gone', 0)] }), member('b', ['t'])],
    counts: counts({ t: 4 }),
    // a keeps t 0-3, gives 3 then 2 to b; a still lists them, so b waits.
    expected: { a: [tp('t', 0, 1)], b: [] },
  },
  {
    name: 'different subscriptions are only locally balanced: no chain of moves is searched',
    members: [
      member('a', ['u'], { owned: [tp('u', 0)] }),
      member('r', ['u', 'v'], { owned: [span('v', 0, 4)] }),
      member('s', ['v']),
    ],
    counts: counts({ u: 5, v: 4 }),
    // Keep a u0, r v0-3; deal u1-4 to a (5,4,0). Moves: r's v3 to s; a's u4 (dealt, so a revokes
    // nothing) to r; r's v2 to s. Ends 4,3,2: a's u can only go to r and r's v only to s, neither two
    // fewer, though the chain a→r→s would give 3,3,3. s's v2 and v3 wait for r to revoke them.
    expected: { a: [tp('u', 0, 1, 2, 3)], r: [tp('u', 4), tp('v', 0, 1)], s: [] },
  },
];

interface Rounds {
  name: string;
  members: AssignorMember[];
  counts: Map<string, number>;
  first: Assignment;
  /** What the first round left to nobody: the coordinator's cue for the second. */
  heldBack: TopicPartitions[];
  second: Assignment;
}

const rounds: Rounds[] = [
  {
    name: 'a 4th member joins 3 owning 12: only what it takes moves, after a round held back',
    members: [
      member('a', ['t'], { owned: [span('t', 0, 4)] }),
      member('b', ['t'], { owned: [span('t', 4, 8)] }),
      member('c', ['t'], { owned: [span('t', 8, 12)] }),
      member('d', ['t']),
    ],
    counts: counts({ t: 12 }),
    first: { a: [tp('t', 0, 1, 2)], b: [tp('t', 4, 5, 6)], c: [tp('t', 8, 9, 10)], d: [] },
    heldBack: [tp('t', 3, 7, 11)],
    second: { a: [tp('t', 0, 1, 2)], b: [tp('t', 4, 5, 6)], c: [tp('t', 8, 9, 10)], d: [tp('t', 3, 7, 11)] },
  },
  {
    name: 'a member leaves: its partitions spread over the others, who lose nothing',
    members: [
      member('a', ['t'], { owned: [span('t', 0, 4)] }),
      member('b', ['t'], { owned: [span('t', 4, 8)] }),
    ],
    counts: counts({ t: 12 }),
    first: { a: [tp('t', 0, 1, 2, 3, 8, 10)], b: [tp('t', 4, 5, 6, 7, 9, 11)] },
    heldBack: [],
    second: { a: [tp('t', 0, 1, 2, 3, 8, 10)], b: [tp('t', 4, 5, 6, 7, 9, 11)] },
  },
  {
    name: 'a new topic and a new member at once: the new partitions go to the emptiest',
    members: [
      member('a', ['t', 'u'], { owned: [span('t', 0, 3)] }),
      member('b', ['t', 'u'], { owned: [span('t', 3, 6)] }),
      member('c', ['t', 'u']),
    ],
    counts: counts({ t: 6, u: 3 }),
    // u0 → c, u1 → c, u2 → c (c holds 1 and 2 while a and b hold 3): balanced without moving anything.
    first: { a: [tp('t', 0, 1, 2)], b: [tp('t', 3, 4, 5)], c: [tp('u', 0, 1, 2)] },
    heldBack: [],
    second: { a: [tp('t', 0, 1, 2)], b: [tp('t', 3, 4, 5)], c: [tp('u', 0, 1, 2)] },
  },
  {
    name: 'a member moves to another topic: it revokes the old one first',
    members: [
      member('a', ['u'], { owned: [tp('t', 0, 1)] }),
      member('b', ['t', 'u'], { owned: [tp('t', 2, 3)] }),
    ],
    counts: counts({ t: 4, u: 2 }),
    // Target: b keeps t2-3, gets t0-1 (only subscriber); a gets u0-1. a still lists t0-1, so they wait.
    first: { a: [tp('u', 0, 1)], b: [tp('t', 2, 3)] },
    heldBack: [tp('t', 0, 1)],
    second: { a: [tp('u', 0, 1)], b: [tp('t', 0, 1, 2, 3)] },
  },
];

describe('cooperativeStickyAssignor', () => {
  it('is named cooperative-sticky and cooperative', () => {
    expect(cooperativeStickyAssignor.name).toBe('cooperative-sticky');
    expect(cooperativeStickyAssignor.rebalanceProtocol).toBe('cooperative');
  });

  it.each(oneRound)('$name', ({ members, counts: partitionCounts, expected }) => {
    const assignment = assign(members, partitionCounts);
    expect(assignment).toEqual(expected);
    expectWellFormed(assignment, members, partitionCounts);
    expect(assign([...members].reverse(), partitionCounts)).toEqual(expected);
  });

  it.each(rounds)('$name', ({ members, counts: partitionCounts, first, heldBack, second }) => {
    const firstRound = assign(members, partitionCounts);
    expect(firstRound).toEqual(first);
    expect(unassignedPartitions(firstRound, members, partitionCounts)).toEqual(heldBack);

    const secondMembers = nextRound(members, firstRound);
    const secondRound = assign(secondMembers, partitionCounts);
    expect(secondRound).toEqual(second);
    expect(unassignedPartitions(secondRound, secondMembers, partitionCounts)).toEqual([]);

    // Idempotent once settled: owning what it was given, nobody gets anything new.
    expect(assign(nextRound(members, secondRound), partitionCounts)).toEqual(second);
  });
});
