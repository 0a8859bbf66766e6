/**
 * @module
 * Kafka's CooperativeStickyAssignor: a balanced assignment that moves as few partitions as it can, handed
 * out so that no partition is ever given to a member while another member may still be consuming it.
 *
 * Step 1, the target (sticky and balanced):
 * - Keep. A member keeps each partition in its ownedPartitions that still exists and whose topic it still
 *   subscribes to (a "valid claim"). When two members validly claim the same partition (a member that was
 *   fenced and rejoins with a stale list), the one with fewer valid claims keeps it; ties go to the member
 *   first in member order (static members by groupInstanceId, then dynamic ones by memberId, as range.ts).
 * - Deal. Every partition nobody keeps goes to the subscribed member holding the fewest partitions (ties:
 *   member order). The partitions with the fewest subscribers go first, because they have the least choice.
 * - Balance. While some partition can go from its holder to a subscribed member holding at least two fewer,
 *   one moves: from the fullest holder (ties: last in member order, so the first members keep the extra
 *   partition, as in range) to the emptiest taker (ties: first in member order), preferring a partition
 *   the holder did not own before, and otherwise its highest-numbered one. Every move lowers the sum of
 *   the squared counts, so the loop ends.
 *   With identical subscriptions this ends with counts differing by at most one, and only the surplus of
 *   the fullest members moves, which is the least that balance needs. With different subscriptions the
 *   result is only locally balanced: no single move would help, though a chain of moves (A's partition to
 *   B, B's of another topic to C) sometimes could. Kafka searches such chains; this stays greedy and
 *   predictable. A member subscribed to nothing the coordinator knows gets nothing.
 *
 * Step 2, the cooperative adjustment (Kafka's `adjustAssignment`): a partition the target gives to member B
 * but that another member A still lists in its ownedPartitions is left out of B's assignment for this
 * generation. A's assignment does not have it either, so A revokes it (after committing its offsets), and
 * for the moment nobody has it. The coordinator sees a partition of a subscribed topic that nobody got
 * (`unassignedPartitions` in index.ts) and starts a follow-up rebalance, in which A no longer lists it and
 * B gets it. The one exception: when B lists it too (the double claim above), B keeps it, since B held it
 * all along and nothing new starts consuming it. A claim counts here even when it is not valid (A dropped
 * the topic but still lists the partition): A may still be reading it, so it waits one round as well.
 *
 * Settling: when the members come back owning what they were given, identical subscriptions always settle
 * in two rounds (the second gives out what the first held back and moves nothing; a third changes
 * nothing). Different subscriptions can take a third round, when the second round's dealing differs from
 * the first's target; the coordinator just keeps going while `unassignedPartitions` is not empty.
 *
 * Pure and deterministic: the same members and counts, in any order, give the same assignment.
 */
import type { TopicPartitions } from '../group-api.ts';
import type { Assignment, Assignor, AssignorMember } from './assignor.ts';
import { compareMembers, compareStrings } from './member-order.ts';

/** topic → partition → value. Nested maps so topic names need no escaping into a key. */
type PerPartition<T> = Map<string, Map<number, T>>;

/** One member while the target is built; members are referred to by their index in member order. */
interface Slot {
  memberId: string;
  /** Subscribed topics the coordinator knows. */
  topics: Set<string>;
  /** The target so far: topic → partitions, unordered; a topic is deleted when it empties. */
  held: Map<string, number[]>;
  count: number;
}

interface Move {
  giver: number;
  receiver: number;
  topic: string;
  partition: number;
}

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'cooperative',
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Assignment {
    const sorted = [...members].sort(compareMembers);
    const slots: Slot[] = sorted.map((member) => ({
      memberId: member.memberId,
      topics: new Set(member.topics.filter((topic) => partitionCounts.has(topic))),
      held: new Map(),
      count: 0,
    }));
    const subscribers = subscribersByTopic(slots);
    const listedBy = listings(sorted, partitionCounts);
    const owners = resolveOwners(slots, listedBy);

    for (const [topic, byPartition] of owners) {
      for (const [partition, owner] of byPartition) give(slots[owner]!, topic, partition);
    }

    const unowned: Array<{ topic: string; partition: number }> = [];
    for (const topic of subscribers.keys()) {
      const count = partitionCounts.get(topic)!;
      for (let partition = 0; partition < count; partition++) {
        if (!owners.get(topic)?.has(partition)) unowned.push({ topic, partition });
      }
    }
    // Stable sort: within the same number of subscribers the (topic, partition) order built above stays.
    unowned.sort((a, b) => subscribers.get(a.topic)!.length - subscribers.get(b.topic)!.length);
    for (const { topic, partition } of unowned) {
      give(slots[fewest(subscribers.get(topic)!, slots)]!, topic, partition);
    }

    for (let move = findMove(slots, subscribers, owners); move; move = findMove(slots, subscribers, owners)) {
      take(slots[move.giver]!, move.topic, move.partition);
      give(slots[move.receiver]!, move.topic, move.partition);
    }

    return Object.fromEntries(
      slots.map((slot, index): [string, TopicPartitions[]] => {
        const assignment: TopicPartitions[] = [];
        for (const topic of [...slot.held.keys()].sort(compareStrings)) {
          const partitions = slot.held
            .get(topic)!
            .filter((partition) => !heldBack(listedBy, topic, partition, index))
            .sort((a, b) => a - b);
          if (partitions.length > 0) assignment.push({ topic, partitions });
        }
        return [slot.memberId, assignment];
      }),
    );
  },
};

/** Known topic → indices of the members subscribed to it, ascending. Topics in ascending order. */
function subscribersByTopic(slots: readonly Slot[]): Map<string, number[]> {
  const topics = [...new Set(slots.flatMap((slot) => [...slot.topics]))].sort(compareStrings);
  return new Map(
    topics.map((topic) => [topic, slots.flatMap((slot, index) => (slot.topics.has(topic) ? [index] : []))]),
  );
}

/**
 * Existing partition → indices of the members listing it in ownedPartitions, ascending, whether or not
 * they still subscribe to its topic. Partitions that do not exist (topic unknown, number out of range) are
 * dropped: nobody can be given them, so nobody needs to wait for them.
 */
function listings(
  sorted: readonly AssignorMember[],
  partitionCounts: ReadonlyMap<string, number>,
): PerPartition<number[]> {
  const listedBy: PerPartition<number[]> = new Map();
  sorted.forEach((member, index) => {
    for (const { topic, partitions } of member.ownedPartitions) {
      const count = partitionCounts.get(topic);
      if (count === undefined) continue;
      for (const partition of partitions) {
        if (!Number.isInteger(partition) || partition < 0 || partition >= count) continue;
        let byPartition = listedBy.get(topic);
        if (byPartition === undefined) listedBy.set(topic, (byPartition = new Map()));
        const listers = byPartition.get(partition);
        if (listers === undefined) byPartition.set(partition, [index]);
        // Members are visited in order, so a member listing a partition twice is always the last entry.
        else if (listers[listers.length - 1] !== index) listers.push(index);
      }
    }
  });
  return listedBy;
}

/** Partition → the member keeping it: of its valid claimants, the one with the fewest valid claims. */
function resolveOwners(slots: readonly Slot[], listedBy: PerPartition<number[]>): PerPartition<number> {
  const validClaims = slots.map(() => 0);
  const claimants: PerPartition<number[]> = new Map();
  for (const [topic, byPartition] of listedBy) {
    for (const [partition, listers] of byPartition) {
      const valid = listers.filter((index) => slots[index]!.topics.has(topic));
      if (valid.length === 0) continue;
      for (const index of valid) validClaims[index]!++;
      let validByPartition = claimants.get(topic);
      if (validByPartition === undefined) claimants.set(topic, (validByPartition = new Map()));
      validByPartition.set(partition, valid);
    }
  }
  const owners: PerPartition<number> = new Map();
  for (const [topic, byPartition] of claimants) {
    const ownerByPartition = new Map<number, number>();
    for (const [partition, valid] of byPartition) {
      // `valid` is ascending, so keeping the first on a tie picks the member first in order.
      let owner = valid[0]!;
      for (const index of valid) if (validClaims[index]! < validClaims[owner]!) owner = index;
      ownerByPartition.set(partition, owner);
    }
    owners.set(topic, ownerByPartition);
  }
  return owners;
}

/**
 * The next balancing move, or undefined when the target is balanced: the fullest member that can give a
 * partition to a subscribed member holding at least two fewer gives it to the emptiest such member.
 */
function findMove(
  slots: readonly Slot[],
  subscribers: ReadonlyMap<string, number[]>,
  owners: PerPartition<number>,
): Move | undefined {
  const emptiest = Math.min(...slots.map((slot) => slot.count));
  const givers = slots.map((_, index) => index).sort((a, b) => slots[b]!.count - slots[a]!.count || b - a);
  for (const giver of givers) {
    const giverCount = slots[giver]!.count;
    // Givers come fullest first: once one is within one of the emptiest member, all the rest are too.
    if (giverCount - emptiest < 2) return undefined;
    let best: { receiver: number; topic: string } | undefined;
    for (const topic of [...slots[giver]!.held.keys()].sort(compareStrings)) {
      const receiver = fewest(subscribers.get(topic)!, slots);
      const receiverCount = slots[receiver]!.count;
      if (receiverCount > giverCount - 2) continue;
      if (
        best === undefined ||
        receiverCount < slots[best.receiver]!.count ||
        (receiverCount === slots[best.receiver]!.count && receiver < best.receiver)
      ) {
        best = { receiver, topic };
      }
    }
    if (best !== undefined) {
      const partitions = slots[giver]!.held.get(best.topic)!;
      const ownedBefore = (partition: number): boolean => owners.get(best.topic)?.get(partition) === giver;
      // Moving a partition the giver only got in this assignment revokes nothing.
      const candidates = partitions.some((partition) => !ownedBefore(partition))
        ? partitions.filter((partition) => !ownedBefore(partition))
        : partitions;
      return { giver, receiver: best.receiver, topic: best.topic, partition: Math.max(...candidates) };
    }
  }
  return undefined;
}

/** The member among `candidates` (indices, ascending, non-empty) holding the fewest; ties to the first. */
function fewest(candidates: readonly number[], slots: readonly Slot[]): number {
  let chosen = candidates[0]!;
  for (const index of candidates) if (slots[index]!.count < slots[chosen]!.count) chosen = index;
  return chosen;
}

/** True when another member still lists the partition and `index` does not: it waits for a later round. */
function heldBack(
  listedBy: PerPartition<number[]>,
  topic: string,
  partition: number,
  index: number,
): boolean {
  const listers = listedBy.get(topic)?.get(partition);
  return listers !== undefined && !listers.includes(index);
}

function give(slot: Slot, topic: string, partition: number): void {
  const partitions = slot.held.get(topic);
  if (partitions === undefined) slot.held.set(topic, [partition]);
  else partitions.push(partition);
  slot.count++;
}

function take(slot: Slot, topic: string, partition: number): void {
  const partitions = slot.held.get(topic)!;
  partitions.splice(partitions.indexOf(partition), 1);
  if (partitions.length === 0) slot.held.delete(topic);
  slot.count--;
}
