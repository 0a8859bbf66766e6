/**
 * @module
 * The assignors the coordinator can run, by Kafka name, and `unassignedPartitions`, which tells the
 * coordinator whether an assignment left partitions out (cooperative-sticky holds back partitions that
 * are changing owner) and so needs a follow-up rebalance.
 */
import type { TopicPartitions } from '../group-api.ts';
import type { Assignment, Assignor, AssignorMember } from './assignor.ts';
import { cooperativeStickyAssignor } from './cooperative-sticky.ts';
import { rangeAssignor } from './range.ts';
import { roundRobinAssignor } from './round-robin.ts';

export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map(
  [rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor].map((assignor) => [assignor.name, assignor]),
);

export function assignorFor(name: string): Assignor | undefined {
  return ASSIGNORS.get(name);
}

/**
 * The partitions of topics some member subscribes to (and that exist in partitionCounts) that no entry of
 * `assignment` has, sorted by topic then partition, without empty entries. Empty when the assignment is
 * complete; otherwise the coordinator starts another rebalance once the members have synced.
 */
export function unassignedPartitions(
  assignment: Assignment,
  members: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): TopicPartitions[] {
  const assigned = new Map<string, Set<number>>();
  for (const topicPartitions of Object.values(assignment)) {
    for (const { topic, partitions } of topicPartitions) {
      let set = assigned.get(topic);
      if (set === undefined) assigned.set(topic, (set = new Set()));
      for (const partition of partitions) set.add(partition);
    }
  }
  const topics = [...new Set(members.flatMap((member) => member.topics))]
    .filter((topic) => partitionCounts.has(topic))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const unassigned: TopicPartitions[] = [];
  for (const topic of topics) {
    const count = partitionCounts.get(topic)!;
    const got = assigned.get(topic);
    const partitions: number[] = [];
    for (let partition = 0; partition < count; partition++) {
      if (!got?.has(partition)) partitions.push(partition);
    }
    if (partitions.length > 0) unassigned.push({ topic, partitions });
  }
  return unassigned;
}
