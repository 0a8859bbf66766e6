/**
 * @module
 * The group coordinator: Kafka's classic consumer-group protocol (join, sync, heartbeat, leave, offset
 * commit and fetch) over the groups it owns. Membership and rebalancing are group-membership.ts, which this
 * class extends with committed offsets, admin (list, describe, delete), offset expiry, topic changes and
 * the life cycle (load, stopWaiting, close). Owning worker only: the coordinator worker holds the one
 * instance; everything else reaches it by messages.
 *
 * Durability: every change that must survive a restart — a committed offset, a group's generation and
 * assignment, a deleted group, expired offsets — is appended to the GroupLog (`__consumer_offsets`) before
 * it takes effect or is acknowledged; `load()` rebuilds the groups by replaying that log. Appends are
 * batched (one in flight; what arrives meanwhile goes in the next batch), applied in log order, and the log
 * is compacted (live state rewritten, older records dropped) when it grows well past that state.
 *
 * Timers: a member's session (reset by each heartbeat, join, sync and commit), a group's rebalance
 * timeout (members that have not joined by then are removed), the initial rebalance delay of an empty
 * group, and the periodic expiry of offsets of groups that stayed empty for offsets.retention.minutes.
 */
import { BrokerError } from '../shared/errors.ts';
import { partitionKey } from '../shared/partition-key.ts';
import { Group, restoreGroups } from './group.ts';
import type {
  CommittedOffset,
  GroupApi,
  GroupDescription,
  GroupOverview,
  OffsetCommitRequest,
  OffsetFetchRequest,
} from './group-api.ts';
import { GroupMembership } from './group-membership.ts';
import type { GroupRecord } from './group-records.ts';
import {
  checkCommit,
  checkGeneration,
  checkGroupId,
  notAvailable,
  rebalancing,
  unknownMember,
} from './group-rules.ts';

export { type GroupConfig, type GroupCoordinatorOptions, groupConfig } from './group-membership.ts';

export class GroupCoordinator extends GroupMembership implements GroupApi {
  private expiryTimer: ReturnType<typeof setInterval> | null = null;

  /**
   * Replays the log: offsets and groups as last written. A group that had members comes back Stable with
   * them (their sessions start now: a member that does not heartbeat within its session timeout is removed
   * as usual), so consumers carry on across a broker restart without a rebalance.
   */
  async load(): Promise<void> {
    for (const [groupId, group] of restoreGroups(await this.log.replay())) this.groups.set(groupId, group);
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) this.scheduleSession(group, member);
    }
    this.expiryTimer = setInterval(() => this.expireOffsets(), this.config.offsetsRetentionCheckIntervalMs);
    this.expiryTimer.unref?.();
  }

  // ---------------------------------------------------------------- offsets

  async commitOffsets(request: OffsetCommitRequest): Promise<void> {
    this.checkOpen();
    checkGroupId(request.groupId);
    checkCommit(request.offsets, this.partitionCount, this.config.offsetMetadataMaxBytes);
    const now = this.clock();
    let group = this.groups.get(request.groupId);
    if (request.memberId === '' && request.generationId < 0) {
      if (group && group.members.size > 0) {
        throw new BrokerError(
          'UNKNOWN_MEMBER_ID',
          `group '${request.groupId}' has ${group.members.size} active members (state ${group.state}); offsets can be committed without a member id only while it has none`,
        );
      }
      if (!group) {
        group = new Group(request.groupId, now);
        this.groups.set(request.groupId, group);
      }
    } else {
      if (!group) throw unknownMember(request.groupId, request.memberId);
      const member = this.knownMember(group, request.memberId, request.groupInstanceId);
      checkGeneration(group, request.generationId);
      if (group.state === 'CompletingRebalance') throw rebalancing(group.groupId);
      this.scheduleSession(group, member);
    }
    const target = group;
    const committed: CommittedOffset[] = request.offsets.map((o) => ({
      topic: o.topic,
      partition: o.partition,
      offset: o.offset,
      metadata: o.metadata,
      leaderEpoch: o.leaderEpoch,
      commitTimestamp: now,
    }));
    await this.write(
      committed.map((offset) => ({
        kind: 'offset',
        groupId: target.groupId,
        topic: offset.topic,
        partition: offset.partition,
        offset,
      })),
      () => {
        // A group deleted while the write was in flight comes back with these offsets, as in Kafka.
        if (this.groups.get(target.groupId) !== target) this.groups.set(target.groupId, target);
        if (target.state === 'Dead') target.state = 'Empty';
        for (const offset of committed)
          target.offsets.set(partitionKey(offset.topic, offset.partition), offset);
      },
    );
  }

  async fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    this.checkOpen();
    checkGroupId(request.groupId);
    const group = this.groups.get(request.groupId);
    if (request.topics === null) return group?.sortedOffsets() ?? [];
    const out: CommittedOffset[] = [];
    for (const { topic, partitions } of request.topics) {
      for (const partition of partitions) {
        out.push(
          group?.offsets.get(partitionKey(topic, partition)) ?? {
            topic,
            partition,
            offset: -1,
            metadata: '',
            leaderEpoch: -1,
            commitTimestamp: -1,
          },
        );
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- admin

  async listGroups(): Promise<GroupOverview[]> {
    return [...this.groups.values()]
      .filter((g) => g.state !== 'Dead')
      .map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        state: g.state,
        members: g.members.size,
      }))
      .sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    checkGroupId(groupId);
    const group = this.groups.get(groupId);
    if (!group || group.state === 'Dead') {
      throw new BrokerError('GROUP_ID_NOT_FOUND', `group '${groupId}' does not exist`);
    }
    return group.describe();
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.checkOpen();
    checkGroupId(groupId);
    const group = this.groups.get(groupId);
    if (!group || group.state === 'Dead')
      throw new BrokerError('GROUP_ID_NOT_FOUND', `group '${groupId}' does not exist`);
    if (group.members.size > 0) {
      throw new BrokerError(
        'NON_EMPTY_GROUP',
        `group '${groupId}' has ${group.members.size} members; it can be deleted only when empty`,
      );
    }
    group.state = 'Dead';
    await this.write(group.tombstones(), () => {
      if (this.groups.get(groupId) === group && group.state === 'Dead') this.groups.delete(groupId);
    });
  }

  /** A topic was created, deleted or grew: groups subscribed to it rebalance; a deleted topic's offsets go. */
  async topicChanged(topic: string): Promise<void> {
    if (this.closed) return;
    const deleted = this.partitionCount(topic) === undefined;
    const records: GroupRecord[] = [];
    for (const group of this.groups.values()) {
      if (deleted) {
        for (const offset of group.offsets.values()) {
          if (offset.topic === topic) {
            records.push({
              kind: 'offset',
              groupId: group.groupId,
              topic,
              partition: offset.partition,
              offset: null,
            });
          }
        }
      }
      if (group.state !== 'Stable' && group.state !== 'CompletingRebalance') continue;
      const subscribed = [...group.members.values()].some((m) =>
        group.subscriptionOf(m).topics.includes(topic),
      );
      if (subscribed) this.prepareRebalance(group, `topic '${topic}' changed`);
    }
    if (records.length > 0) {
      await this.write(records, () => {
        for (const r of records)
          if (r.kind === 'offset')
            this.groups.get(r.groupId)?.offsets.delete(partitionKey(r.topic, r.partition));
      });
    }
  }

  /** Expires the offsets of groups that have had no members for offsets.retention.minutes. */
  async expireOffsets(): Promise<number> {
    if (this.closed) return 0;
    const cutoff = this.clock() - this.config.offsetsRetentionMinutes * 60_000;
    const expired: Group[] = [];
    for (const group of this.groups.values()) {
      if (group.state !== 'Empty' || group.members.size > 0) continue;
      let last = group.emptySince;
      for (const o of group.offsets.values()) last = Math.max(last, o.commitTimestamp);
      if (last <= cutoff) expired.push(group);
    }
    if (expired.length === 0) return 0;
    let count = 0;
    const records: GroupRecord[] = [];
    for (const group of expired) {
      count += group.offsets.size;
      group.state = 'Dead';
      records.push(...group.tombstones());
    }
    this.logger.info('committed offsets expired', { groups: expired.length, offsets: count });
    await this.write(records, () => {
      for (const group of expired)
        if (this.groups.get(group.groupId) === group && group.state === 'Dead')
          this.groups.delete(group.groupId);
    });
    return count;
  }

  /** Group counts for metrics: members and rebalances per group. */
  stats(): Array<{
    groupId: string;
    state: Group['state'];
    members: number;
    rebalances: number;
    offsets: CommittedOffset[];
  }> {
    return [...this.groups.values()]
      .filter((g) => g.state !== 'Dead')
      .map((g) => ({
        groupId: g.groupId,
        state: g.state,
        members: g.members.size,
        rebalances: g.rebalances,
        offsets: g.sortedOffsets(),
      }));
  }

  /**
   * Shutdown, first step: waiting joins and syncs answer COORDINATOR_NOT_AVAILABLE now (members retry
   * against the restarted broker) so the front door can drain; heartbeats and commits go on until close.
   */
  async stopWaiting(): Promise<void> {
    this.stopping = true;
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        member.joinWaiter?.reject(notAvailable());
        member.syncWaiter?.reject(notAvailable());
        member.joinWaiter = null;
        member.syncWaiter = null;
      }
    }
  }

  /** Stops timers, answers waiting joins and syncs (retriable), lets queued writes finish, closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    for (const group of this.groups.values()) {
      this.clearRebalanceTimer(group);
      for (const member of group.members.values()) {
        this.clearSession(member);
        member.joinWaiter?.reject(notAvailable());
        member.syncWaiter?.reject(notAvailable());
        member.joinWaiter = null;
        member.syncWaiter = null;
      }
    }
    await this.writer.close();
  }
}
