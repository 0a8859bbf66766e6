/**
 * @module
 * Shared helpers for the assignor tests: terse builders for members and partitions, and the rules every
 * assignor's output must follow, as expectations.
 */
import { expect } from 'vitest';
import type { Assignment, AssignorMember } from '../../../src/coordinator/assignors/assignor.ts';
import type { TopicPartitions } from '../../../src/coordinator/group-api.ts';

export interface MemberOptions {
  instance?: string;
  owned?: TopicPartitions[];
}

export function member(memberId: string, topics: string[], options: MemberOptions = {}): AssignorMember {
  return {
    memberId,
    groupInstanceId: options.instance ?? null,
    topics,
    ownedPartitions: options.owned ?? [],
  };
}

export function tp(topic: string, ...partitions: number[]): TopicPartitions {
  return { topic, partitions };
}

/** `tp(topic, from, ..., to - 1)`. */
export function span(topic: string, from: number, to: number): TopicPartitions {
  return { topic, partitions: Array.from({ length: to - from }, (_, offset) => from + offset) };
}

export function counts(byTopic: Record<string, number>): Map<string, number> {
  return new Map(Object.entries(byTopic));
}

/** The members again, each now owning what `assignment` gave it: the next round of a cooperative group. */
export function nextRound(members: readonly AssignorMember[], assignment: Assignment): AssignorMember[] {
  return members.map((m) => ({ ...m, ownedPartitions: assignment[m.memberId] ?? [] }));
}

export function partitionCount(assignment: Assignment, memberId: string): number {
  return (assignment[memberId] ?? []).reduce((sum, { partitions }) => sum + partitions.length, 0);
}

/**
 * The rules for every assignor: each member appears (and nobody else); entries sorted by topic, partitions
 * strictly ascending, no empty entries; only existing partitions of topics the member subscribes to; no
 * partition given twice.
 */
export function expectWellFormed(
  assignment: Assignment,
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): void {
  expect(Object.keys(assignment).sort()).toEqual(members.map((m) => m.memberId).sort());
  const given = new Set<string>();
  for (const m of members) {
    const entries = assignment[m.memberId]!;
    entries.forEach(({ topic, partitions }, index) => {
      if (index > 0) expect(entries[index - 1]!.topic < topic).toBe(true);
      expect(m.topics).toContain(topic);
      const count = partitionCounts.get(topic);
      expect(count).toBeDefined();
      expect(partitions.length).toBeGreaterThan(0);
      partitions.forEach((partition, at) => {
        expect(Number.isInteger(partition) && partition >= 0 && partition < count!).toBe(true);
        if (at > 0) expect(partitions[at - 1]! < partition).toBe(true);
        const key = JSON.stringify([topic, partition]);
        expect(given.has(key)).toBe(false);
        given.add(key);
      });
    });
  }
}
