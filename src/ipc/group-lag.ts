/**
 * @module
 * A group's lag per partition, worked out the same way by every engine (broker-engine.ts on its own hosts,
 * src/cluster/replicated-engine.ts from the replicas it knows): rows from the coordinator's committed
 * offsets and the members' assignments, the caller fills in each partition's log end, then lag is the end
 * minus the committed offset where both are known. Keys are `topic NUL partition`.
 */

import type { GroupCounts } from '../coordinator/coordinator.ts';
import type { GroupDescription } from '../coordinator/group-api.ts';
import { partitionKey } from '../shared/partition-key.ts';
import type { GroupLagDescription, GroupPartitionLag, GroupStats } from './engine.ts';

/** Bounds the lag series of `stats()` (metrics): beyond this many partitions over all groups, no more. */
export const MAX_LAG_SERIES = 10_000;

/** One row per partition the group committed or owns; log ends unknown (-1) until the caller sets them. */
export function lagRows(
  group: Pick<GroupDescription, 'offsets' | 'members'>,
): Map<string, GroupPartitionLag> {
  const rows = new Map<string, GroupPartitionLag>();
  const row = (topic: string, partition: number): GroupPartitionLag => {
    const key = partitionKey(topic, partition);
    let r = rows.get(key);
    if (!r) {
      r = {
        topic,
        partition,
        memberId: null,
        committedOffset: -1,
        logEndOffset: -1,
        lag: null,
        metadata: '',
        commitTimestamp: -1,
      };
      rows.set(key, r);
    }
    return r;
  };
  for (const o of group.offsets) {
    const r = row(o.topic, o.partition);
    r.committedOffset = o.offset;
    r.metadata = o.metadata;
    r.commitTimestamp = o.commitTimestamp;
  }
  for (const m of group.members) {
    for (const { topic, partitions } of m.assignment)
      for (const p of partitions) row(topic, p).memberId = m.memberId;
  }
  return rows;
}

/** The group with its rows, lag filled in where the log end and a commit are known, sorted. */
export function withLag(group: GroupDescription, rows: Map<string, GroupPartitionLag>): GroupLagDescription {
  const { offsets: _offsets, ...rest } = group;
  for (const r of rows.values()) {
    if (r.committedOffset >= 0 && r.logEndOffset >= 0)
      r.lag = Math.max(0, r.logEndOffset - r.committedOffset);
  }
  const partitions = [...rows.values()].sort((a, b) =>
    a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
  );
  return { ...rest, partitions };
}

/** Metrics' view of the groups: lag per committed partition against `logEnd` (undefined: unknown). */
export function groupStats(
  counts: readonly GroupCounts[],
  logEnd: (topic: string, partition: number) => number | undefined,
): GroupStats[] {
  let series = 0;
  return counts.map((g) => ({
    groupId: g.groupId,
    state: g.state,
    members: g.members,
    rebalances: g.rebalances,
    partitions: g.offsets
      .filter(() => series++ < MAX_LAG_SERIES)
      .map((o) => {
        const end = logEnd(o.topic, o.partition);
        return {
          topic: o.topic,
          partition: o.partition,
          lag: end === undefined ? null : Math.max(0, end - o.offset),
        };
      }),
  }));
}
