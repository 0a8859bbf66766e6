/** @module The consumer-group bench (bench/groups.ts): when a group counts as settled, and how its result shows in the report. */
import { describe, expect, it } from 'vitest';
import { assignmentsOf, coversBalanced, isSettled } from '../../bench/groups.ts';
import { microRows, type RunFile, renderHtml, renderMarkdown } from '../../bench/report.ts';
import type { GroupDescription } from '../../src/client/index.ts';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function described(state: GroupDescription['state'], owners: number[][], topic = 't'): GroupDescription {
  return {
    groupId: 'g',
    state,
    protocolType: 'consumer',
    assignor: 'range',
    generationId: 2,
    leader: 'm0',
    rebalances: 2,
    members: owners.map((partitions, i) => ({
      memberId: `m${i}`,
      groupInstanceId: null,
      clientId: 'freshet',
      clientHost: '127.0.0.1',
      topics: [topic],
      assignment: [{ topic, partitions }],
    })),
    partitions: [],
  };
}

describe('coversBalanced', () => {
  it('takes every partition once, in shares that differ by at most one', () => {
    expect(coversBalanced([range(0, 10), range(10, 20)], 20)).toBe(true);
    expect(coversBalanced([range(0, 12), range(12, 23), range(23, 34)], 34)).toBe(true);
    expect(coversBalanced([new Set(range(0, 50)), new Set(range(50, 100))], 100)).toBe(true);
  });

  it('refuses a partition missing, held twice or out of range, and an unbalanced share', () => {
    expect(coversBalanced([range(0, 10), range(10, 19)], 20)).toBe(false);
    expect(coversBalanced([range(0, 10), range(9, 20)], 20)).toBe(false);
    expect(coversBalanced([range(0, 10), range(10, 21)], 20)).toBe(false);
    expect(coversBalanced([range(0, 8), range(8, 20)], 20)).toBe(false);
    expect(coversBalanced([range(0, 20), []], 20)).toBe(false);
    expect(coversBalanced([], 20)).toBe(false);
  });
});

describe('isSettled', () => {
  const halves = [range(0, 50), range(50, 100)];

  it('needs Stable, every member, and every partition of the topic once, balanced', () => {
    expect(isSettled(described('Stable', halves), 't', 2, 100)).toBe(true);
    expect(isSettled(described('CompletingRebalance', halves), 't', 2, 100)).toBe(false);
    expect(isSettled(described('Stable', halves), 't', 3, 100)).toBe(false);
    expect(isSettled(described('Stable', [range(0, 50), range(50, 90)]), 't', 2, 100)).toBe(false);
  });

  it('reads only the watched topic', () => {
    expect(assignmentsOf(described('Stable', halves, 'other'), 't')).toEqual([[], []]);
    expect(isSettled(described('Stable', halves, 'other'), 't', 2, 100)).toBe(false);
  });
});

describe('the report', () => {
  const run: RunFile = {
    startedAt: '2026-11-21T12:00:00.000Z',
    quick: true,
    cpus: 2,
    results: [
      {
        bench: 'groups',
        join_stable_cooperative_ms: 95,
        join_stable_range_ms: 25,
        leave_stable_cooperative_ms: 601,
        leave_stable_range_ms: 540,
        group_consume_rps: 800_000,
        plain_consume_rps: 1_000_000,
        group_plain_ratio: 0.75,
      },
    ],
  };

  it('lists the join, leave and consume figures, the group against one consumer', () => {
    const rows = microRows(run);
    expect(rows.map((r) => r.metric)).toEqual([
      'join_stable_cooperative_ms',
      'join_stable_range_ms',
      'leave_stable_cooperative_ms',
      'leave_stable_range_ms',
      'group_consume_rps',
    ]);
    expect(rows[0]).toMatchObject({ freshet: '95 ms', limit: '—', ratio: null });
    // The bench's paired ratio, not 800k ÷ 1M.
    expect(rows[4]!.ratio).toBe(0.75);
    const md = renderMarkdown(run);
    expect(md).toContain('| groups: 10 members join, cooperative-sticky | 95 ms |');
    expect(md).toContain(
      '| groups: 4-member group consume | 800k records/s | — | 1M records/s (one consumer, assign()) | 0.75 |',
    );
    expect(renderHtml(run)).toContain('groups: rebalance after one leaves, range');
  });

  it('leaves out a failed groups run from the table', () => {
    expect(microRows({ results: [{ bench: 'groups', error: 'broker died' }] })).toEqual([]);
  });
});
