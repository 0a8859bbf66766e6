/**
 * @module
 * Property tests over random groups (member ids, static instance ids, subscriptions with unknown topics,
 * messy ownedPartitions) for all three assignors: the output rules, order independence, and for
 * cooperative-sticky stickiness within a round and balance after two rounds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Assignment, Assignor, AssignorMember } from '../../../src/coordinator/assignors/assignor.ts';
import { cooperativeStickyAssignor } from '../../../src/coordinator/assignors/cooperative-sticky.ts';
import { unassignedPartitions } from '../../../src/coordinator/assignors/index.ts';
import { rangeAssignor } from '../../../src/coordinator/assignors/range.ts';
import { roundRobinAssignor } from '../../../src/coordinator/assignors/round-robin.ts';
import { expectWellFormed, nextRound, partitionCount } from './support.ts';

const TOPICS = ['a', 'b', 'c', 'd'];

/** Each topic known with 0-12 partitions, or unknown. */
const countsArb = fc
  .array(fc.option(fc.nat({ max: 12 }), { nil: null }), {
    minLength: TOPICS.length,
    maxLength: TOPICS.length,
  })
  .map(
    (list) =>
      new Map(
        list.flatMap(
          (count, index): Array<[string, number]> => (count === null ? [] : [[TOPICS[index]!, count]]),
        ),
      ),
  );

/** What a client might send: unsorted, duplicated, out of range, of topics it dropped or nobody knows. */
const ownedArb = fc.array(
  fc.record({
    topic: fc.constantFrom(...TOPICS),
    partitions: fc.array(fc.integer({ min: -1, max: 14 }), { maxLength: 6 }),
  }),
  { maxLength: 4 },
);

const membersArb = fc.uniqueArray(
  fc.record({
    memberId: fc.string({ minLength: 1, maxLength: 4 }),
    // Drawn from a small set so that static members collide and fall back to memberId order.
    groupInstanceId: fc.option(fc.constantFrom('i0', 'i1', 'i2', 'i3'), { nil: null }),
    topics: fc.array(fc.constantFrom(...TOPICS), { maxLength: 5 }),
    ownedPartitions: ownedArb,
  }),
  { selector: (m) => m.memberId, maxLength: 7 },
);

/** Every member subscribed to the same topics. */
const sameTopicsArb = fc
  .tuple(membersArb, fc.subarray(TOPICS))
  .map(([members, topics]) => members.map((m) => ({ ...m, topics })));

const NUM_RUNS = { numRuns: 300 };

function lists(member: AssignorMember, topic: string, partition: number): boolean {
  return member.ownedPartitions.some(
    (owned) => owned.topic === topic && owned.partitions.includes(partition),
  );
}

function expectSpreadAtMostOne(assignment: Assignment, members: readonly AssignorMember[]): void {
  const sizes = members.map((m) => partitionCount(assignment, m.memberId));
  if (sizes.length > 0) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
}

describe.each([
  { assignor: rangeAssignor as Assignor },
  { assignor: roundRobinAssignor as Assignor },
  { assignor: cooperativeStickyAssignor as Assignor },
])('$assignor.name', ({ assignor }) => {
  it('follows the output rules and ignores the order of the members', () => {
    fc.assert(
      fc.property(membersArb, countsArb, (members, partitionCounts) => {
        const assignment = assignor.assign(members, partitionCounts);
        expectWellFormed(assignment, members, partitionCounts);
        expect(assignor.assign([...members].reverse(), partitionCounts)).toEqual(assignment);
        if (assignor.rebalanceProtocol === 'eager') {
          expect(unassignedPartitions(assignment, members, partitionCounts)).toEqual([]);
        }
      }),
      NUM_RUNS,
    );
  });
});

describe('range', () => {
  it('balances each topic over its subscribers', () => {
    fc.assert(
      fc.property(membersArb, countsArb, (members, partitionCounts) => {
        const assignment = rangeAssignor.assign(members, partitionCounts);
        for (const topic of partitionCounts.keys()) {
          const sizes = members
            .filter((m) => m.topics.includes(topic))
            .map(
              (m) => assignment[m.memberId]!.find((entry) => entry.topic === topic)?.partitions.length ?? 0,
            );
          if (sizes.length > 0) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        }
      }),
      NUM_RUNS,
    );
  });
});

describe('roundrobin', () => {
  it('balances overall when every member subscribes to the same topics', () => {
    fc.assert(
      fc.property(sameTopicsArb, countsArb, (members, partitionCounts) => {
        expectSpreadAtMostOne(roundRobinAssignor.assign(members, partitionCounts), members);
      }),
      NUM_RUNS,
    );
  });
});

describe('cooperative-sticky', () => {
  const assign = cooperativeStickyAssignor.assign;

  it('gives nobody a partition another member lists, unless it lists it too; leaves out nothing else', () => {
    fc.assert(
      fc.property(membersArb, countsArb, (members, partitionCounts) => {
        const assignment = assign(members, partitionCounts);
        for (const receiver of members) {
          for (const { topic, partitions } of assignment[receiver.memberId]!) {
            for (const partition of partitions) {
              if (members.some((other) => lists(other, topic, partition))) {
                expect(lists(receiver, topic, partition)).toBe(true);
              }
            }
          }
        }
        for (const { topic, partitions } of unassignedPartitions(assignment, members, partitionCounts)) {
          for (const partition of partitions) {
            expect(members.some((other) => lists(other, topic, partition))).toBe(true);
          }
        }
      }),
      NUM_RUNS,
    );
  });

  it('with the same subscriptions, settles in two rounds: complete, balanced, nothing taken back', () => {
    fc.assert(
      fc.property(sameTopicsArb, countsArb, (members, partitionCounts) => {
        const first = assign(members, partitionCounts);
        const secondMembers = nextRound(members, first);
        const second = assign(secondMembers, partitionCounts);
        expect(unassignedPartitions(second, secondMembers, partitionCounts)).toEqual([]);
        expectSpreadAtMostOne(second, members);
        for (const m of members) {
          for (const { topic, partitions } of first[m.memberId]!) {
            const kept = second[m.memberId]!.find((entry) => entry.topic === topic)?.partitions ?? [];
            expect(kept).toEqual(expect.arrayContaining(partitions));
          }
        }
        expect(assign(nextRound(members, second), partitionCounts)).toEqual(second);
      }),
      NUM_RUNS,
    );
  });

  it('with the same subscriptions, no double claims: keeps as much in place as balance allows', () => {
    const groupArb = fc.record({
      memberCount: fc.integer({ min: 1, max: 7 }),
      topics: fc.subarray(TOPICS, { minLength: 1 }),
      partitionCounts: countsArb,
      // Per partition (in topic, partition order): its owner's index, or nobody when past the last member.
      owners: fc.array(fc.nat({ max: 9 }), { minLength: 48, maxLength: 48 }),
    });
    fc.assert(
      fc.property(groupArb, ({ memberCount, topics, partitionCounts, owners }) => {
        const partitions = topics.flatMap((topic) =>
          Array.from({ length: partitionCounts.get(topic) ?? 0 }, (_, partition) => ({ topic, partition })),
        );
        const ownerOf = (index: number): number => owners[index]!;
        const members = Array.from({ length: memberCount }, (_, m) => ({
          memberId: `m${m}`,
          groupInstanceId: null,
          topics,
          ownedPartitions: topics.map((topic) => ({
            topic,
            partitions: partitions.flatMap((p, index) =>
              p.topic === topic && ownerOf(index) === m ? [p.partition] : [],
            ),
          })),
        }));
        const assignment = assign(members, partitionCounts);
        const kept = members.reduce(
          (sum, m) =>
            sum +
            assignment[m.memberId]!.reduce(
              (inner, { topic, partitions: given }) =>
                inner + given.filter((partition) => lists(m, topic, partition)).length,
              0,
            ),
          0,
        );
        // The best any balanced assignment can do: the members owning most get the ceil shares.
        const floor = Math.floor(partitions.length / memberCount);
        const extra = partitions.length % memberCount;
        const best = members
          .map((m) => m.ownedPartitions.reduce((sum, owned) => sum + owned.partitions.length, 0))
          .sort((a, b) => b - a)
          .reduce((sum, owned, rank) => sum + Math.min(owned, floor + (rank < extra ? 1 : 0)), 0);
        expect(kept).toBe(best);
      }),
      NUM_RUNS,
    );
  });

  it('with different subscriptions, the second round is still well formed and sticky', () => {
    fc.assert(
      fc.property(membersArb, countsArb, (members, partitionCounts) => {
        const secondMembers = nextRound(members, assign(members, partitionCounts));
        const second = assign(secondMembers, partitionCounts);
        expectWellFormed(second, secondMembers, partitionCounts);
        for (const receiver of secondMembers) {
          for (const { topic, partitions } of second[receiver.memberId]!) {
            for (const partition of partitions) {
              if (secondMembers.some((other) => lists(other, topic, partition))) {
                expect(lists(receiver, topic, partition)).toBe(true);
              }
            }
          }
        }
      }),
      NUM_RUNS,
    );
  });
});
