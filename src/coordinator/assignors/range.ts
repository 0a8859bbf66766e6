/**
 * @module
 * Kafka's RangeAssignor: topic by topic, the members subscribed to it get contiguous ranges of its
 * partitions, and the first `count % n` of them one partition more.
 *
 * Member order (the same in every assignor here, as in Kafka): static members first, ordered by
 * groupInstanceId, then dynamic members ordered by memberId. Strings compare by UTF-16 code unit, never by
 * locale, so every broker sorts the same way. A static member's instance id survives its restarts, so it
 * gets the same ranges back when it rejoins with a new memberId.
 *
 * Eager: ownedPartitions is ignored; every member gives up everything before it joins again.
 */
import type { TopicPartitions } from '../group-api.ts';
import type { Assignment, Assignor, AssignorMember } from './assignor.ts';
import { compareMembers, compareStrings } from './member-order.ts';

export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'eager',
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Assignment {
    const sorted = [...members].sort(compareMembers);
    const byMember = new Map<string, TopicPartitions[]>(members.map((member) => [member.memberId, []]));
    // Topics in ascending order, so each member's list comes out sorted by topic without a final sort.
    const topics = [...new Set(members.flatMap((member) => member.topics))]
      .filter((topic) => partitionCounts.has(topic))
      .sort(compareStrings);
    for (const topic of topics) {
      const count = partitionCounts.get(topic)!;
      const subscribers = sorted.filter((member) => member.topics.includes(topic));
      const base = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let first = 0;
      subscribers.forEach((member, index) => {
        const size = base + (index < extra ? 1 : 0);
        if (size > 0) {
          const partitions = Array.from({ length: size }, (_, offset) => first + offset);
          byMember.get(member.memberId)!.push({ topic, partitions });
        }
        first += size;
      });
    }
    return Object.fromEntries(byMember);
  },
};
