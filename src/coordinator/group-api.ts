/**
 * @module
 * What the group coordinator is asked and answers: Kafka's classic group protocol (JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups) as plain
 * objects. Both front doors speak these; the coordinator worker owns the state behind them.
 *
 * One departure from Kafka's classic protocol: for groups of protocol type `consumer` the coordinator runs
 * the assignor itself (as KIP-848 does), from the members' subscriptions and the topics it knows, so a
 * member needs no assignor code of its own (a browser can be one). The assignor is picked like Kafka picks
 * the protocol: the first name in a member's preference list that every member supports.
 */

export interface TopicPartitions {
  topic: string;
  /** Ascending, no duplicates. */
  partitions: number[];
}

/** A member's subscription, per assignor it supports (Kafka's ConsumerProtocolSubscription). */
export interface Subscription {
  topics: string[];
  /** What the member owns now: cooperative assignors keep it there; it revokes only what moves. */
  ownedPartitions: TopicPartitions[];
}

export interface GroupProtocol {
  /** Assignor name: `range`, `roundrobin` or `cooperative-sticky`. */
  name: string;
  subscription: Subscription;
}

export interface JoinGroupRequest {
  groupId: string;
  /** '' for a member joining for the first time; the coordinator gives it an id. */
  memberId: string;
  /** Static membership (`group.instance.id`); null for a dynamic member. */
  groupInstanceId: string | null;
  /** `consumer` for consumer groups. */
  protocolType: string;
  /** Preference order. */
  protocols: GroupProtocol[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
}

export interface JoinGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  subscription: Subscription;
}

export interface JoinGroupResponse {
  generationId: number;
  protocolType: string;
  /** The assignor chosen for this generation. */
  protocolName: string;
  leader: string;
  memberId: string;
  /** Only the leader gets the member list (Kafka does the same); others get []. */
  members: JoinGroupMember[];
  /** Static member rejoining a stable group: its old assignment stands, no rebalance happened. */
  skipAssignment?: boolean;
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface SyncGroupResponse {
  protocolType: string;
  protocolName: string;
  assignment: TopicPartitions[];
}

export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupRequest {
  groupId: string;
  /** Each by memberId, or by groupInstanceId (static members; memberId may then be ''). */
  members: Array<{ memberId: string; groupInstanceId: string | null }>;
}

export interface CommitOffset {
  topic: string;
  partition: number;
  offset: number;
  /** Free text kept with the offset (`offset.metadata.max.bytes`). */
  metadata: string;
  leaderEpoch: number;
}

export interface OffsetCommitRequest {
  groupId: string;
  /** -1 with memberId '': an admin commit, allowed only while the group has no members. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  offsets: CommitOffset[];
}

export interface CommittedOffset {
  topic: string;
  partition: number;
  offset: number;
  metadata: string;
  leaderEpoch: number;
  /** When the commit was written (epoch ms). */
  commitTimestamp: number;
}

export interface OffsetFetchRequest {
  groupId: string;
  /** null: every partition the group has an offset for. */
  topics: TopicPartitions[] | null;
}

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface GroupOverview {
  groupId: string;
  protocolType: string;
  state: GroupState;
  members: number;
}

export interface MemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  subscription: Subscription;
  assignment: TopicPartitions[];
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  /** The assignor of the current generation ('' while none). */
  protocolName: string;
  generationId: number;
  leader: string;
  members: MemberDescription[];
  /** Rebalances completed since the broker started. */
  rebalances: number;
  offsets: CommittedOffset[];
}

/** The coordinator's operations; the engine forwards each to the coordinator worker. */
export interface GroupApi {
  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse>;
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse>;
  heartbeat(request: HeartbeatRequest): Promise<void>;
  leaveGroup(request: LeaveGroupRequest): Promise<void>;
  commitOffsets(request: OffsetCommitRequest): Promise<void>;
  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]>;
  listGroups(): Promise<GroupOverview[]>;
  describeGroup(groupId: string): Promise<GroupDescription>;
  /** Only a group without members (NON_EMPTY_GROUP otherwise); its offsets go too. */
  deleteGroup(groupId: string): Promise<void>;
}
