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
  /** Assignor name: `range`, `roundrobin` or `cooperative-sticky` (any name when `metadata` is set). */
  name: string;
  /** The topics and owned partitions (read from `metadata` for Kafka consumers; empty for other types). */
  subscription: Subscription;
  /**
   * The protocol metadata as a Kafka client sent it in JoinGroup. A group whose members send it is
   * leader-assigned, as in Kafka's classic protocol: the coordinator passes every member's metadata to the
   * leader, and the leader's SyncGroup carries each member's assignment as opaque bytes. Members that do
   * not send it (the HTTP door) get their assignment from the coordinator's assignor. One group is one or
   * the other.
   */
  metadata?: Uint8Array;
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
  /** Leader-assigned groups: the member's metadata for the chosen protocol. */
  metadata?: Uint8Array;
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
  /** Leader-assigned groups: the leader's assignment of every member (bytes of the protocol's own layout). */
  assignments?: Array<{ memberId: string; assignment: Uint8Array }>;
}

export interface SyncGroupResponse {
  protocolType: string;
  protocolName: string;
  /** The partitions (read from the bytes when a Kafka leader assigned them). */
  assignment: TopicPartitions[];
  /** The assignment as ConsumerProtocolAssignment bytes, or as the leader sent it. */
  assignmentBytes: Uint8Array;
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
  /** Kafka's DescribeGroups: the member's protocol metadata and assignment bytes. */
  metadata: Uint8Array;
  assignmentBytes: Uint8Array;
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
