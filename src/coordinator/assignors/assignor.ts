/**
 * @module
 * The shape every assignor has: a pure function from the members' subscriptions (and what they own) and
 * the topics' partition counts to an assignment. No I/O, no clock, no randomness: the same input always
 * gives the same output, so the coordinator can recompute and tests can be tables.
 */
import type { TopicPartitions } from '../group-api.ts';

export interface AssignorMember {
  memberId: string;
  /** Static members are ordered by this id (stable across restarts), dynamic ones by memberId. */
  groupInstanceId: string | null;
  /** Subscribed topics. A topic the coordinator does not know (absent from partitionCounts) is skipped. */
  topics: string[];
  /** What the member owns now (cooperative assignors keep it where they can). */
  ownedPartitions: TopicPartitions[];
}

/** memberId → its partitions; every member of the input appears, possibly with []. */
export type Assignment = Record<string, TopicPartitions[]>;

export interface Assignor {
  /** Kafka's names: `range`, `roundrobin`, `cooperative-sticky`. */
  readonly name: string;
  /**
   * eager: members give up every partition before they join again; cooperative: members keep what they
   * own across a rebalance and give up only what moves (see cooperative-sticky.ts).
   */
  readonly rebalanceProtocol: 'eager' | 'cooperative';
  assign(members: readonly AssignorMember[], partitionCounts: ReadonlyMap<string, number>): Assignment;
}
