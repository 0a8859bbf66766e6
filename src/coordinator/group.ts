/**
 * @module
 * One consumer group's state: members, generation, the chosen assignor, committed offsets. Plain data plus
 * the few rules that need no clock or I/O (which assignor the members agree on, who leads, what the group
 * looks like from outside). The GroupCoordinator (group-coordinator.ts) drives the state machine; owning
 * worker only.
 *
 * States (Kafka's classic protocol):
 *   Empty ──join──► PreparingRebalance ──all joined / rebalance timeout──► CompletingRebalance
 *   CompletingRebalance ──assignment persisted──► Stable ──join, leave, expiry, topic change──► PreparingRebalance
 *   PreparingRebalance ──last member gone──► Empty;  Empty ──deleted or offsets expired──► Dead
 */

import { partitionKey } from '../shared/partition-key.ts';
import type {
  CommittedOffset,
  GroupDescription,
  GroupProtocol,
  GroupState,
  JoinGroupRequest,
  JoinGroupResponse,
  Subscription,
  SyncGroupResponse,
  TopicPartitions,
} from './group-api.ts';
import {
  encodeAssignment,
  encodeSubscription,
  type GroupRecord,
  type StoredGroup,
  type StoredMember,
} from './group-records.ts';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A waiter whose caller went away must not become an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Preference order; after a restart only the chosen one is known. */
  protocols: GroupProtocol[];
  assignment: TopicPartitions[];
  /** The assignment as bytes: the leader's (leader-assigned groups) or as read back from the log. */
  assignmentBytes: Uint8Array | null;
  /** Loaded from the log and not joined since: its protocols are only the chosen one, with no mode. */
  restored: boolean;
  /** A join waiting for the rebalance to complete. */
  joinWaiter: Deferred<JoinGroupResponse> | null;
  /** A sync waiting for the assignment to be persisted. */
  syncWaiter: Deferred<SyncGroupResponse> | null;
  /** Synced the current generation (a cooperative follow-up rebalance waits for every member to). */
  synced: boolean;
  sessionTimer: ReturnType<typeof setTimeout> | null;
}

export class Group {
  readonly groupId: string;
  state: GroupState = 'Empty';
  protocolType = '';
  protocolName = '';
  generationId = 0;
  leaderId = '';
  readonly members = new Map<string, Member>();
  /** groupInstanceId → memberId. */
  readonly staticMembers = new Map<string, string>();
  readonly offsets = new Map<string, CommittedOffset>();
  rebalances = 0;
  /** When the group last had no members (offsets expire from then). */
  emptySince: number;
  rebalanceTimer: ReturnType<typeof setTimeout> | null = null;
  /** The group as last written to the log (what a compaction snapshot restates); null before any write. */
  lastStored: StoredGroup | null = null;
  /** While an empty group's first rebalance waits for more members (group.initial.rebalance.delay.ms). */
  initialDelay: { startedAt: number; members: number } | null = null;

  constructor(groupId: string, now: number) {
    this.groupId = groupId;
    this.emptySince = now;
  }

  /** The member a groupInstanceId belongs to, if any. */
  staticMember(groupInstanceId: string | null): Member | undefined {
    if (groupInstanceId === null) return undefined;
    const memberId = this.staticMembers.get(groupInstanceId);
    return memberId === undefined ? undefined : this.members.get(memberId);
  }

  /** Assignor names every member supports, in the first member's preference order. */
  candidateProtocols(): string[] {
    let candidates: string[] | null = null;
    for (const member of this.members.values()) {
      const names = member.protocols.map((p) => p.name);
      candidates = candidates === null ? names : candidates.filter((n) => names.includes(n));
    }
    return candidates ?? [];
  }

  /** Would a member supporting `names` fit the group (it shares at least one assignor with everyone)? */
  supports(names: readonly string[]): boolean {
    if (this.members.size === 0) return true;
    return this.candidateProtocols().some((n) => names.includes(n));
  }

  /**
   * Kafka's vote: each member votes for the first of its protocols that everyone supports; most votes win,
   * ties go to the earlier candidate.
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const member of this.members.values()) {
      const choice = member.protocols.find((p) => votes.has(p.name));
      if (choice) votes.set(choice.name, votes.get(choice.name)! + 1);
    }
    let best = candidates[0] ?? '';
    for (const c of candidates) if (votes.get(c)! > votes.get(best)!) best = c;
    return best;
  }

  subscriptionOf(member: Member, protocolName: string = this.protocolName): Subscription {
    return (
      member.protocols.find((p) => p.name === protocolName)?.subscription ??
      member.protocols[0]?.subscription ?? { topics: [], ownedPartitions: [] }
    );
  }

  allJoined(): boolean {
    for (const member of this.members.values()) if (member.joinWaiter === null) return false;
    return true;
  }

  maxRebalanceTimeoutMs(): number {
    let max = 0;
    for (const member of this.members.values()) max = Math.max(max, member.rebalanceTimeoutMs);
    return max;
  }

  addMember(member: Member): void {
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (this.leaderId === '') this.leaderId = member.memberId;
  }

  removeMember(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) this.leaderId = this.members.keys().next().value ?? '';
    return member;
  }

  /** The group as the log stores it. */
  toStored(now: number): StoredGroup {
    return {
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      generationId: this.generationId,
      leader: this.leaderId,
      stateTimestamp: now,
      members: [...this.members.values()].map(
        (m): StoredMember => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          sessionTimeoutMs: m.sessionTimeoutMs,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          subscription: this.subscriptionOf(m),
          assignment: m.assignment,
          ...this.bytesOf(m),
        }),
      ),
    };
  }

  /** A member's raw metadata for the group's protocol and its assignment bytes, where it has them. */
  private bytesOf(m: Member): { subscriptionBytes?: Uint8Array; assignmentBytes?: Uint8Array } {
    const metadata = this.metadataOf(m);
    return {
      ...(metadata ? { subscriptionBytes: metadata } : {}),
      ...(m.assignmentBytes ? { assignmentBytes: m.assignmentBytes } : {}),
    };
  }

  metadataOf(member: Member, protocolName: string = this.protocolName): Uint8Array | undefined {
    return (member.protocols.find((p) => p.name === protocolName) ?? member.protocols[0])?.metadata;
  }

  /** Leader-assigned (Kafka clients) rather than coordinator-assigned; null while unknown (restored). */
  leaderAssigns: boolean | null = null;

  describe(): GroupDescription {
    return {
      groupId: this.groupId,
      state: this.state,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      generationId: this.generationId,
      leader: this.leaderId,
      rebalances: this.rebalances,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscription: this.subscriptionOf(m),
        assignment: m.assignment,
        metadata: this.metadataOf(m) ?? encodeSubscription(this.subscriptionOf(m)),
        assignmentBytes: m.assignmentBytes ?? encodeAssignment(m.assignment),
      })),
      offsets: this.sortedOffsets(),
    };
  }

  /** Records that remove the group and every offset it has from the log. */
  tombstones(): GroupRecord[] {
    const records: GroupRecord[] = [...this.offsets.values()].map((o) => ({
      kind: 'offset',
      groupId: this.groupId,
      topic: o.topic,
      partition: o.partition,
      offset: null,
    }));
    records.push({ kind: 'group', groupId: this.groupId, group: null });
    return records;
  }

  sortedOffsets(): CommittedOffset[] {
    return [...this.offsets.values()].sort((a, b) =>
      a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
    );
  }
}

/**
 * The groups a replay of `__consumer_offsets` gives: offsets and groups as last written (tombstones remove).
 * A group that had members comes back Stable with them and their assignments.
 */
export function restoreGroups(records: readonly GroupRecord[]): Map<string, Group> {
  const groups = new Map<string, Group>();
  const groupOrCreate = (groupId: string): Group => {
    let group = groups.get(groupId);
    if (!group) {
      // Known only from its offsets: empty since its last commit, as far as expiry goes (time 0).
      group = new Group(groupId, 0);
      groups.set(groupId, group);
    }
    return group;
  };
  // Groups known only from their offsets count as empty since their last commit (see expireOffsets).
  for (const record of records) {
    if (record.kind === 'offset') {
      const key = partitionKey(record.topic, record.partition);
      if (record.offset === null) groups.get(record.groupId)?.offsets.delete(key);
      else groupOrCreate(record.groupId).offsets.set(key, record.offset);
      continue;
    }
    if (record.group === null) {
      groups.delete(record.groupId);
      continue;
    }
    const group = groupOrCreate(record.groupId);
    const stored = record.group;
    for (const m of group.members.values()) group.removeMember(m.memberId);
    group.protocolType = stored.protocolType;
    group.protocolName = stored.protocolName;
    group.generationId = stored.generationId;
    for (const m of stored.members) {
      group.addMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        protocols: [
          {
            name: stored.protocolName,
            subscription: m.subscription,
            ...(m.subscriptionBytes ? { metadata: m.subscriptionBytes } : {}),
          },
        ],
        assignment: m.assignment,
        assignmentBytes: m.assignmentBytes ?? null,
        restored: true,
        joinWaiter: null,
        syncWaiter: null,
        synced: true,
        sessionTimer: null,
      });
    }
    group.leaderId = group.members.has(stored.leader)
      ? stored.leader
      : (group.members.keys().next().value ?? '');
    group.state = group.members.size > 0 ? 'Stable' : 'Empty';
    group.emptySince = stored.stateTimestamp;
    group.lastStored = stored;
  }
  return groups;
}

/** A member as it first joins, with a fresh member id. */
export function newMember(request: JoinGroupRequest): Member {
  const prefix = request.groupInstanceId ?? (request.clientId || 'member');
  return {
    memberId: `${prefix.slice(0, 100)}-${crypto.randomUUID()}`,
    groupInstanceId: request.groupInstanceId,
    clientId: request.clientId,
    clientHost: request.clientHost,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    protocols: request.protocols,
    assignment: [],
    assignmentBytes: null,
    restored: false,
    joinWaiter: null,
    syncWaiter: null,
    synced: false,
    sessionTimer: null,
  };
}

/** The state a replay of the log gives (a compaction snapshot): groups as last written, their offsets. */
export function liveRecords(groups: Iterable<Group>): GroupRecord[] {
  const records: GroupRecord[] = [];
  for (const group of groups) {
    if (group.state === 'Dead') continue;
    // What the log says, not what memory holds mid-rebalance: the snapshot must equal a replay.
    if (group.lastStored !== null)
      records.push({ kind: 'group', groupId: group.groupId, group: group.lastStored });
    for (const offset of group.offsets.values()) {
      records.push({
        kind: 'offset',
        groupId: group.groupId,
        topic: offset.topic,
        partition: offset.partition,
        offset,
      });
    }
  }
  return records;
}
