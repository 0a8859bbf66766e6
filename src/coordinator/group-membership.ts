/**
 * @module
 * Group membership, the first half of the coordinator (group-coordinator.ts adds offsets, admin and the life
 * cycle): Kafka's classic join / sync / heartbeat / leave, generations and fencing, the rebalance state
 * machine with its timers (session, rebalance timeout, initial delay), static membership, the assignor run
 * here for HTTP members and the leader's assignment taken for Kafka clients. Owning worker only.
 *
 * Durability: a generation's members and assignment are written to the GroupLog (`__consumer_offsets`)
 * before the group turns Stable and before any member learns its assignment (see persistAssignment).
 */
import { BrokerError } from '../shared/errors.ts';
import { type Logger, silentLogger } from '../shared/logger.ts';
import type { AssignorMember } from './assignors/assignor.ts';
import { ASSIGNORS, assignorFor, unassignedPartitions } from './assignors/index.ts';
import { deferred, Group, liveRecords, type Member, newMember } from './group.ts';
import type {
  GroupState,
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  SyncGroupRequest,
  SyncGroupResponse,
  TopicPartitions,
} from './group-api.ts';
import type { GroupLog } from './group-log.ts';
import { decodeAssignment, encodeAssignment, type GroupRecord } from './group-records.ts';
import {
  assertNever,
  checkGeneration,
  checkGroupId,
  checkSameAssignment,
  fenced,
  inconsistentProtocol,
  isLeaderAssigned,
  notAvailable,
  rebalancing,
  sameMetadata,
  sameProtocols,
  sameSubscriptions,
  unknownMember,
} from './group-rules.ts';
import { GroupWriter } from './group-writer.ts';

export interface GroupConfig {
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupInitialRebalanceDelayMs: number;
  groupMaxSize: number;
  offsetsRetentionMinutes: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
}

/** The group settings out of a larger config (the broker's), as plain data that can cross to a worker. */
export function groupConfig(config: Readonly<GroupConfig>): GroupConfig {
  return {
    groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
    groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
    groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
    groupMaxSize: config.groupMaxSize,
    offsetsRetentionMinutes: config.offsetsRetentionMinutes,
    offsetsRetentionCheckIntervalMs: config.offsetsRetentionCheckIntervalMs,
    offsetMetadataMaxBytes: config.offsetMetadataMaxBytes,
  };
}

export interface GroupCoordinatorOptions {
  log: GroupLog;
  config: Readonly<GroupConfig>;
  /** Partition count of a topic, undefined when it does not exist. */
  partitionCount: (topic: string) => number | undefined;
  clock?: () => number;
  logger?: Logger;
  /** Compact once the log is this many bytes and twice its size after the last compaction; default 8 MiB. */
  compactAfterBytes?: number;
}

const MAX_TOPICS_PER_SUBSCRIPTION = 10_000;

export abstract class GroupMembership {
  protected readonly groups = new Map<string, Group>();
  protected readonly log: GroupLog;
  protected readonly config: Readonly<GroupConfig>;
  protected readonly partitionCount: (topic: string) => number | undefined;
  protected readonly clock: () => number;
  protected readonly logger: Logger;
  protected readonly writer: GroupWriter;
  protected closed = false;
  /** Shutting down: joins and syncs are answered (retriable) instead of waiting; commits still go through. */
  protected stopping = false;

  constructor(options: GroupCoordinatorOptions) {
    this.log = options.log;
    this.config = options.config;
    this.partitionCount = options.partitionCount;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.writer = new GroupWriter(this.log, {
      compactAfterBytes: options.compactAfterBytes ?? 8 * 1024 * 1024,
      liveRecords: () => liveRecords(this.groups.values()),
      logger: this.logger,
    });
  }

  // ---------------------------------------------------------------- join

  async joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    this.checkOpen();
    if (this.stopping) throw notAvailable();
    checkGroupId(request.groupId);
    this.checkJoinRequest(request);
    const now = this.clock();
    let group = this.groups.get(request.groupId);
    if (group?.state === 'Dead')
      throw new BrokerError(
        'COORDINATOR_NOT_AVAILABLE',
        `group '${request.groupId}' is being deleted; retry`,
      );
    if (group && group.members.size > 0) {
      if (group.protocolType !== request.protocolType) {
        throw new BrokerError(
          'INCONSISTENT_GROUP_PROTOCOL',
          `group '${request.groupId}' has protocol type '${group.protocolType}', not '${request.protocolType}'`,
        );
      }
    }
    if (group) checkSameAssignment(group, request);
    const names = request.protocols.map((p) => p.name);
    if (request.memberId === '') {
      if (!group) {
        group = new Group(request.groupId, now);
        this.groups.set(request.groupId, group);
      }
      const existing = group.staticMember(request.groupInstanceId);
      if (existing) return this.rejoinStatic(group, existing, request);
      if (!group.supports(names)) throw inconsistentProtocol(group, names);
      if (group.members.size >= this.config.groupMaxSize) {
        throw new BrokerError(
          'GROUP_MAX_SIZE_REACHED',
          `group '${group.groupId}' already has ${group.members.size} members (--group-max-size)`,
        );
      }
      const member = newMember(request);
      group.addMember(member);
      if (group.members.size === 1) group.protocolType = request.protocolType;
      const waiter = (member.joinWaiter = deferred());
      this.prepareRebalance(group, `member ${member.memberId} joined`);
      this.maybeCompleteJoin(group);
      return waiter.promise;
    }
    if (!group) throw unknownMember(request.groupId, request.memberId);
    const member = this.knownMember(group, request.memberId, request.groupInstanceId);
    if (!group.supports(names) && group.members.size > 1) throw inconsistentProtocol(group, names);
    // Kafka's rule for leader-assigned groups: any change of metadata (owned partitions included: that is
    // how cooperative clients hand partitions over) or a join from the leader starts a rebalance.
    const changed = isLeaderAssigned(request)
      ? !sameMetadata(member.protocols, request.protocols) || member.memberId === group.leaderId
      : !sameProtocols(member.protocols, request.protocols);
    member.protocols = request.protocols;
    member.restored = false;
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    member.clientId = request.clientId;
    member.clientHost = request.clientHost;
    switch (group.state) {
      case 'PreparingRebalance':
        return this.awaitJoin(group, member);
      case 'CompletingRebalance':
      case 'Stable':
        // A join with nothing new (a retry whose answer was lost) gets the current generation back.
        if (!changed) {
          this.scheduleSession(group, member);
          return this.joinResponse(group, member);
        }
        this.prepareRebalance(group, `member ${member.memberId} changed its subscription`);
        return this.awaitJoin(group, member);
      case 'Empty':
        throw unknownMember(group.groupId, request.memberId);
      default:
        return assertNever(group.state);
    }
  }

  protected checkJoinRequest(request: JoinGroupRequest): void {
    const { sessionTimeoutMs, rebalanceTimeoutMs } = request;
    const { groupMinSessionTimeoutMs: min, groupMaxSessionTimeoutMs: max } = this.config;
    if (!Number.isInteger(sessionTimeoutMs) || sessionTimeoutMs < min || sessionTimeoutMs > max) {
      throw new BrokerError(
        'INVALID_SESSION_TIMEOUT',
        `sessionTimeoutMs must be an integer from ${min} to ${max} (the broker's group session limits), got ${sessionTimeoutMs}`,
      );
    }
    if (!Number.isInteger(rebalanceTimeoutMs) || rebalanceTimeoutMs < 1 || rebalanceTimeoutMs > max) {
      throw new BrokerError(
        'INVALID_SESSION_TIMEOUT',
        `rebalanceTimeoutMs must be an integer from 1 to ${max}, got ${rebalanceTimeoutMs}`,
      );
    }
    if (request.protocolType === '' || request.protocols.length === 0) {
      throw new BrokerError(
        'INCONSISTENT_GROUP_PROTOCOL',
        'a join needs a protocol type and at least one assignor',
      );
    }
    // Kafka clients assign in their leader, with assignors (and subscriptions) of their own.
    if (isLeaderAssigned(request)) return;
    for (const protocol of request.protocols) {
      if (!assignorFor(protocol.name)) {
        throw new BrokerError(
          'INCONSISTENT_GROUP_PROTOCOL',
          `unknown assignor '${protocol.name}' (supported: ${[...ASSIGNORS.keys()].join(', ')})`,
        );
      }
      const { topics } = protocol.subscription;
      if (topics.length === 0 || topics.length > MAX_TOPICS_PER_SUBSCRIPTION) {
        throw new BrokerError(
          'INVALID_REQUEST',
          `a subscription needs 1 to ${MAX_TOPICS_PER_SUBSCRIPTION} topics, got ${topics.length}`,
        );
      }
    }
  }

  /**
   * A static member came back with no member id (a restart). It takes over the old member's place and
   * assignment under a new id; the old id is fenced. In a stable group with the same subscription nothing
   * else changes: no rebalance (KIP-345).
   */
  protected rejoinStatic(group: Group, old: Member, request: JoinGroupRequest): Promise<JoinGroupResponse> {
    const member = newMember(request);
    member.assignment = old.assignment;
    member.assignmentBytes = old.assignmentBytes;
    member.synced = old.synced;
    this.clearSession(old);
    old.joinWaiter?.reject(fenced(group.groupId, request.groupInstanceId));
    old.syncWaiter?.reject(fenced(group.groupId, request.groupInstanceId));
    const wasLeader = group.leaderId === old.memberId;
    group.removeMember(old.memberId);
    group.addMember(member);
    if (wasLeader) group.leaderId = member.memberId;
    const unchanged = sameSubscriptions(old.protocols, request.protocols, group.protocolName);
    if (group.state === 'Stable' && unchanged) {
      this.scheduleSession(group, member);
      // The new member id must survive a restart, or the member would be fenced by its own old id.
      return this.persistGroup(group).then(() => ({
        ...this.joinResponse(group, member),
        skipAssignment: true,
      }));
    }
    if (group.state === 'PreparingRebalance') return this.awaitJoin(group, member);
    this.prepareRebalance(group, `static member ${request.groupInstanceId} rejoined with a new subscription`);
    return this.awaitJoin(group, member);
  }

  protected awaitJoin(group: Group, member: Member): Promise<JoinGroupResponse> {
    // A newer join from the same member (a retry) replaces the older one.
    member.joinWaiter?.reject(
      new BrokerError('REBALANCE_IN_PROGRESS', 'superseded by a newer join from the same member'),
    );
    const waiter = deferred<JoinGroupResponse>();
    member.joinWaiter = waiter;
    // While it waits in a join it cannot heartbeat: the rebalance timeout watches it instead.
    this.clearSession(member);
    this.maybeCompleteJoin(group);
    return waiter.promise;
  }

  protected joinResponse(group: Group, member: Member): JoinGroupResponse {
    const isLeader = member.memberId === group.leaderId;
    return {
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId,
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            subscription: group.subscriptionOf(m),
            ...(group.leaderAssigns ? { metadata: group.metadataOf(m) ?? new Uint8Array(0) } : {}),
          }))
        : [],
    };
  }

  /** Enters PreparingRebalance: members learn it from their next heartbeat and join again. */
  protected prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'PreparingRebalance') return;
    this.logger.debug('group rebalance', { group: group.groupId, reason });
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    for (const member of group.members.values()) {
      member.syncWaiter?.reject(rebalancing(group.groupId));
      member.syncWaiter = null;
    }
    this.clearRebalanceTimer(group);
    const delay = this.config.groupInitialRebalanceDelayMs;
    if (wasEmpty && delay > 0) {
      // Kafka's InitialDelayedJoin: the first members of an empty group wait a little for the others, so
      // a fleet starting together gets one rebalance, not one per member.
      group.initialDelay = { startedAt: this.clock(), members: group.members.size };
      group.rebalanceTimer = setTimeout(() => this.onInitialDelay(group), delay);
    } else {
      group.initialDelay = null;
      group.rebalanceTimer = setTimeout(() => this.completeJoin(group), group.maxRebalanceTimeoutMs());
    }
  }

  /** The initial delay is over; it goes on by another delay while members keep arriving, up to the rebalance timeout. */
  protected onInitialDelay(group: Group): void {
    group.rebalanceTimer = null;
    const started = group.initialDelay;
    if (group.state !== 'PreparingRebalance' || started === null) return;
    const delay = this.config.groupInitialRebalanceDelayMs;
    const elapsed = this.clock() - started.startedAt;
    if (group.members.size > started.members && elapsed + delay <= group.maxRebalanceTimeoutMs()) {
      group.initialDelay = { startedAt: started.startedAt, members: group.members.size };
      group.rebalanceTimer = setTimeout(() => this.onInitialDelay(group), delay);
      return;
    }
    group.initialDelay = null;
    if (group.allJoined()) {
      this.completeJoin(group);
      return;
    }
    group.rebalanceTimer = setTimeout(
      () => this.completeJoin(group),
      Math.max(0, group.maxRebalanceTimeoutMs() - elapsed),
    );
  }

  protected maybeCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance' || group.initialDelay !== null) return;
    if (group.allJoined()) this.completeJoin(group);
  }

  /**
   * The join phase ends (every member joined, or the rebalance timeout passed): members that did not join
   * are removed, a new generation starts, the assignor runs and the assignment is written; members get
   * their join answers now and their assignments from sync once the write is durable.
   */
  protected completeJoin(group: Group): void {
    this.clearRebalanceTimer(group);
    group.initialDelay = null;
    if (group.state !== 'PreparingRebalance') return;
    for (const member of [...group.members.values()]) {
      if (member.joinWaiter === null) {
        this.logger.info('group member removed: it did not join within the rebalance timeout', {
          group: group.groupId,
          member: member.memberId,
        });
        this.clearSession(member);
        group.removeMember(member.memberId);
      }
    }
    group.generationId++;
    group.rebalances++;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = '';
      group.leaderId = '';
      group.emptySince = this.clock();
      void this.persistGroup(group).catch((err) => this.logWriteFailure(group, err));
      return;
    }
    group.protocolName = group.selectProtocol();
    group.leaderAssigns = [...group.members.values()].every((m) => group.metadataOf(m) !== undefined);
    if (group.leaderAssigns) {
      // Kafka's classic protocol: the leader's SyncGroup brings the assignment (see syncGroup).
      for (const member of group.members.values()) {
        member.assignment = [];
        member.assignmentBytes = null;
      }
    } else {
      this.assign(group);
    }
    group.state = 'CompletingRebalance';
    for (const member of group.members.values()) {
      member.synced = false;
      member.joinWaiter?.resolve(this.joinResponse(group, member));
      member.joinWaiter = null;
      this.scheduleSession(group, member);
    }
    if (!group.leaderAssigns) this.persistAssignment(group);
  }

  /**
   * Writes the generation's assignment; once it is durable the group is Stable and waiting syncs get their
   * share. If the write fails, the syncs fail (retriable) and the group rebalances.
   */
  protected persistAssignment(group: Group): void {
    const generation = group.generationId;
    this.persistGroup(group).then(
      () => {
        if (group.state !== 'CompletingRebalance' || group.generationId !== generation) return;
        group.state = 'Stable';
        for (const member of group.members.values()) {
          if (member.syncWaiter) {
            member.syncWaiter.resolve(this.syncResponse(group, member));
            member.syncWaiter = null;
            member.synced = true;
          }
        }
        this.maybeFollowUp(group);
      },
      (err) => {
        this.logWriteFailure(group, err);
        if (group.generationId !== generation) return;
        for (const member of group.members.values()) {
          member.syncWaiter?.reject(
            new BrokerError(
              'COORDINATOR_NOT_AVAILABLE',
              'the group assignment could not be written; join again',
            ),
          );
          member.syncWaiter = null;
        }
        group.state = 'Stable';
        this.prepareRebalance(group, 'the assignment could not be written');
      },
    );
  }

  protected assign(group: Group): void {
    const assignor = assignorFor(group.protocolName)!;
    const members: AssignorMember[] = [...group.members.values()].map((m) => {
      const subscription = group.subscriptionOf(m);
      return {
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        topics: subscription.topics,
        ownedPartitions: assignor.rebalanceProtocol === 'cooperative' ? subscription.ownedPartitions : [],
      };
    });
    const assignment = assignor.assign(members, this.partitionCounts(members));
    for (const member of group.members.values()) member.assignment = assignment[member.memberId] ?? [];
  }

  protected partitionCounts(members: readonly AssignorMember[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of members) {
      for (const topic of m.topics) {
        const n = this.partitionCount(topic);
        if (n !== undefined) counts.set(topic, n);
      }
    }
    return counts;
  }

  /**
   * Cooperative assignors hand a moving partition to nobody in the generation where its owner gives it up;
   * once every member has its assignment (the owner has revoked), a second rebalance hands it over.
   */
  protected maybeFollowUp(group: Group): void {
    if (group.state !== 'Stable') return;
    if (group.leaderAssigns !== false) return; // Kafka clients run their own cooperative protocol.
    for (const member of group.members.values()) if (!member.synced) return;
    const assignor = assignorFor(group.protocolName);
    if (assignor?.rebalanceProtocol !== 'cooperative') return;
    const members: AssignorMember[] = [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      topics: group.subscriptionOf(m).topics,
      ownedPartitions: m.assignment,
    }));
    const assignment = Object.fromEntries(members.map((m) => [m.memberId, m.ownedPartitions]));
    if (unassignedPartitions(assignment, members, this.partitionCounts(members)).length > 0) {
      this.prepareRebalance(group, 'cooperative follow-up: hand over revoked partitions');
    }
  }

  // ---------------------------------------------------------------- sync, heartbeat, leave

  async syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    this.checkOpen();
    if (this.stopping) throw notAvailable();
    const group = this.groups.get(request.groupId);
    if (!group) throw unknownMember(request.groupId, request.memberId);
    const member = this.knownMember(group, request.memberId, request.groupInstanceId);
    checkGeneration(group, request.generationId);
    this.scheduleSession(group, member);
    switch (group.state) {
      case 'PreparingRebalance':
        throw rebalancing(group.groupId);
      case 'CompletingRebalance': {
        member.syncWaiter?.reject(rebalancing(group.groupId));
        const waiter = deferred<SyncGroupResponse>();
        member.syncWaiter = waiter;
        if (group.leaderAssigns && member.memberId === group.leaderId) {
          this.takeLeaderAssignment(group, request.assignments ?? []);
          this.persistAssignment(group);
        }
        return waiter.promise;
      }
      case 'Stable': {
        const response = this.syncResponse(group, member);
        member.synced = true;
        this.maybeFollowUp(group);
        return response;
      }
      case 'Empty':
      case 'Dead':
        throw unknownMember(group.groupId, request.memberId);
      default:
        return assertNever(group.state);
    }
  }

  protected syncResponse(group: Group, member: Member): SyncGroupResponse {
    return {
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      assignment: member.assignment,
      assignmentBytes: member.assignmentBytes ?? encodeAssignment(member.assignment),
    };
  }

  /** The leader's assignment bytes, one per member (a member it left out gets none); read for lag. */
  protected takeLeaderAssignment(
    group: Group,
    assignments: ReadonlyArray<{ memberId: string; assignment: Uint8Array }>,
  ): void {
    const byMember = new Map(assignments.map((a) => [a.memberId, a.assignment]));
    for (const member of group.members.values()) {
      const bytes = byMember.get(member.memberId) ?? new Uint8Array(0);
      member.assignmentBytes = bytes;
      member.assignment = group.protocolType === 'consumer' ? readAssignment(bytes) : [];
    }
  }

  async heartbeat(request: HeartbeatRequest): Promise<void> {
    this.checkOpen();
    const group = this.groups.get(request.groupId);
    if (!group) throw unknownMember(request.groupId, request.memberId);
    const member = this.knownMember(group, request.memberId, request.groupInstanceId);
    checkGeneration(group, request.generationId);
    switch (group.state) {
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleSession(group, member);
        return;
      case 'PreparingRebalance':
        if (member.joinWaiter === null) this.scheduleSession(group, member);
        throw rebalancing(group.groupId);
      case 'Empty':
      case 'Dead':
        throw unknownMember(group.groupId, request.memberId);
      default:
        return assertNever(group.state);
    }
  }

  async leaveGroup(request: LeaveGroupRequest): Promise<void> {
    this.checkOpen();
    const group = this.groups.get(request.groupId);
    if (request.members.length === 0) throw new BrokerError('INVALID_REQUEST', 'leave names no member');
    if (!group) throw unknownMember(request.groupId, request.members[0]!.memberId);
    // Check every member first: a leave either removes all it names or none.
    const leaving: Member[] = [];
    for (const { memberId, groupInstanceId } of request.members) {
      const member =
        memberId === ''
          ? group.staticMember(groupInstanceId)
          : this.knownMember(group, memberId, groupInstanceId);
      if (!member) throw unknownMember(group.groupId, groupInstanceId ?? memberId);
      leaving.push(member);
    }
    for (const member of leaving) this.removeMember(group, member, 'left the group');
  }

  protected removeMember(group: Group, member: Member, reason: string): void {
    this.clearSession(member);
    member.joinWaiter?.reject(unknownMember(group.groupId, member.memberId));
    member.syncWaiter?.reject(unknownMember(group.groupId, member.memberId));
    group.removeMember(member.memberId);
    this.logger.debug('group member removed', { group: group.groupId, member: member.memberId, reason });
    switch (group.state) {
      case 'PreparingRebalance':
        if (group.members.size === 0) this.completeJoin(group);
        else this.maybeCompleteJoin(group);
        return;
      case 'CompletingRebalance':
      case 'Stable':
        this.prepareRebalance(group, `member ${member.memberId} ${reason}`);
        // prepareRebalance changed the state; re-read it through the wider type.
        if (group.members.size === 0 && (group.state as GroupState) === 'PreparingRebalance') {
          this.completeJoin(group);
        }
        return;
      case 'Empty':
      case 'Dead':
        return;
      default:
        assertNever(group.state);
    }
  }

  protected knownMember(group: Group, memberId: string, groupInstanceId: string | null): Member {
    if (groupInstanceId !== null) {
      const owner = group.staticMembers.get(groupInstanceId);
      if (owner !== undefined && owner !== memberId) throw fenced(group.groupId, groupInstanceId);
    }
    const member = group.members.get(memberId);
    if (!member) throw unknownMember(group.groupId, memberId);
    return member;
  }

  protected scheduleSession(group: Group, member: Member): void {
    this.clearSession(member);
    member.sessionTimer = setTimeout(() => {
      member.sessionTimer = null;
      if (group.members.get(member.memberId) !== member) return;
      this.logger.info('group member removed: no heartbeat within its session timeout', {
        group: group.groupId,
        member: member.memberId,
        sessionTimeoutMs: member.sessionTimeoutMs,
      });
      this.removeMember(group, member, 'timed out');
    }, member.sessionTimeoutMs);
  }

  protected clearSession(member: Member): void {
    if (member.sessionTimer !== null) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
  }

  protected clearRebalanceTimer(group: Group): void {
    if (group.rebalanceTimer !== null) clearTimeout(group.rebalanceTimer);
    group.rebalanceTimer = null;
  }

  // ---------------------------------------------------------------- the log

  protected persistGroup(group: Group): Promise<void> {
    const stored = group.toStored(this.clock());
    return this.write([{ kind: 'group', groupId: group.groupId, group: stored }], () => {
      group.lastStored = stored;
    });
  }

  protected write(records: GroupRecord[], apply: () => void): Promise<void> {
    return this.writer.write(records, apply);
  }

  protected logWriteFailure(group: Group, err: unknown): void {
    this.logger.error('writing group state failed', { group: group.groupId, error: (err as Error).message });
  }

  // ---------------------------------------------------------------- life cycle

  protected checkOpen(): void {
    if (this.closed) throw notAvailable();
  }
}

/** The partitions of a Kafka consumer's assignment bytes; [] when a client wrote something unreadable. */
function readAssignment(bytes: Uint8Array): TopicPartitions[] {
  try {
    return decodeAssignment(bytes);
  } catch {
    return [];
  }
}
