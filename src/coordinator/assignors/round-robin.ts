/**
 * @module
 * Kafka's RoundRobinAssignor: every partition of every subscribed topic, sorted by (topic, partition), is
 * dealt in turn to the members in order, skipping a member not subscribed to the partition's topic. The
 * turn carries over from one topic to the next, so with identical subscriptions the members' counts differ
 * by at most one overall (range only balances per topic).
 *
 * Member order as in range.ts: static members by groupInstanceId, then dynamic members by memberId.
 * Eager: ownedPartitions is ignored.
 */
import type { TopicPartitions } from '../group-api.ts';
import type { Assignment, Assignor, AssignorMember } from './assignor.ts';
import { compareMembers, compareStrings } from './member-order.ts';

export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'eager',
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Assignment {
    const sorted = [...members].sort(compareMembers);
    const subscribed = sorted.map((member) => new Set(member.topics));
    // memberId → topic → partitions; topics are visited in ascending order and partitions ascending, so
    // the insertion order is already the output order.
    const held = new Map<string, Map<string, number[]>>(
      members.map((member) => [member.memberId, new Map()]),
    );
    const topics = [...new Set(members.flatMap((member) => member.topics))]
      .filter((topic) => partitionCounts.has(topic))
      .sort(compareStrings);
    let turn = 0;
    for (const topic of topics) {
      const count = partitionCounts.get(topic)!;
      for (let partition = 0; partition < count; partition++) {
        // Terminates: the topic came from some member's subscription.
        while (!subscribed[turn % sorted.length]!.has(topic)) turn++;
        const topicsOfMember = held.get(sorted[turn % sorted.length]!.memberId)!;
        const partitions = topicsOfMember.get(topic);
        if (partitions === undefined) topicsOfMember.set(topic, [partition]);
        else partitions.push(partition);
        turn++;
      }
    }
    return Object.fromEntries(
      [...held].map(([memberId, byTopic]): [string, TopicPartitions[]] => [
        memberId,
        [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
      ]),
    );
  },
};
