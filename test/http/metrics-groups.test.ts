/**
 * @module
 * The consumer-group series of /metrics, rendered from `engine.stats().groups` of a stub engine: members,
 * rebalances, one state series per state, lag only where a commit exists, the lag sum, the cap on lag
 * series, and series of vanished groups dropped. The same series against a real broker are checked in
 * test/client/admin-groups.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics, MAX_GROUP_LAG_SERIES } from '../../src/http/metrics.ts';
import type { Engine, EngineStats, GroupStats } from '../../src/ipc/engine.ts';

function engineWith(groups: GroupStats[]): { engine: Engine; set(next: GroupStats[]): void } {
  let current = groups;
  const engine = {
    async stats(): Promise<EngineStats> {
      return { workers: 1, groups: current, inFlightBytes: [0], partitions: [] };
    },
  } as unknown as Engine;
  return {
    engine,
    set(next) {
      current = next;
    },
  };
}

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(prefix));
}

describe('group metrics', () => {
  it('renders members, rebalances, state, lag per committed partition and the lag sum', async () => {
    const metrics = createMetrics();
    const { engine } = engineWith([
      {
        groupId: 'orders',
        state: 'Stable',
        members: 2,
        rebalances: 3,
        partitions: [
          { topic: 't', partition: 1, lag: 5 },
          { topic: 't', partition: 0, lag: 0 },
          { topic: 't', partition: 2, lag: null },
        ],
      },
      { groupId: 'idle', state: 'Empty', members: 0, rebalances: 0, partitions: [] },
    ]);
    const text = await metrics.scrape(engine);
    expect(text).toContain('freshet_group_members{group="orders"} 2');
    expect(text).toContain('freshet_group_members{group="idle"} 0');
    expect(text).toContain('# TYPE freshet_group_rebalances_total counter');
    expect(text).toContain('freshet_group_rebalances_total{group="orders"} 3');
    expect(text).toContain('freshet_group_rebalances_total{group="idle"} 0');
    expect(lines(text, 'freshet_group_state{group="orders"')).toEqual([
      'freshet_group_state{group="orders",state="Empty"} 0',
      'freshet_group_state{group="orders",state="PreparingRebalance"} 0',
      'freshet_group_state{group="orders",state="CompletingRebalance"} 0',
      'freshet_group_state{group="orders",state="Stable"} 1',
      'freshet_group_state{group="orders",state="Dead"} 0',
    ]);
    expect(text).toContain('freshet_group_state{group="idle",state="Empty"} 1');
    expect(lines(text, 'freshet_group_lag{')).toEqual([
      'freshet_group_lag{group="orders",topic="t",partition="0"} 0',
      'freshet_group_lag{group="orders",topic="t",partition="1"} 5',
    ]);
    expect(text).toContain('freshet_group_lag_sum{group="orders"} 5');
    expect(text).toContain('freshet_group_lag_sum{group="idle"} 0');
  });

  it('drops the series of a group that is gone', async () => {
    const metrics = createMetrics();
    const stub = engineWith([
      {
        groupId: 'gone',
        state: 'Empty',
        members: 0,
        rebalances: 1,
        partitions: [{ topic: 't', partition: 0, lag: 4 }],
      },
    ]);
    expect(await metrics.scrape(stub.engine)).toContain('group="gone"');
    stub.set([]);
    expect(await metrics.scrape(stub.engine)).not.toContain('group="gone"');
  });

  it(`renders at most ${MAX_GROUP_LAG_SERIES} lag series, the same ones each scrape, and sums every partition`, async () => {
    const metrics = createMetrics();
    const partitions = Array.from({ length: MAX_GROUP_LAG_SERIES + 5 }, (_, i) => ({
      topic: 'wide',
      partition: MAX_GROUP_LAG_SERIES + 4 - i,
      lag: 1,
    }));
    const { engine } = engineWith([
      { groupId: 'b', state: 'Stable', members: 1, rebalances: 1, partitions },
      {
        groupId: 'a',
        state: 'Stable',
        members: 1,
        rebalances: 1,
        partitions: [{ topic: 'small', partition: 0, lag: 7 }],
      },
    ]);
    const text = await metrics.scrape(engine);
    const lag = lines(text, 'freshet_group_lag{');
    expect(lag).toHaveLength(MAX_GROUP_LAG_SERIES);
    // Group-id order: 'a' first; then 'b' in partition order, so the highest partitions are left out.
    expect(lag[0]).toBe('freshet_group_lag{group="a",topic="small",partition="0"} 7');
    expect(lag.at(-1)).toBe(
      `freshet_group_lag{group="b",topic="wide",partition="${MAX_GROUP_LAG_SERIES - 2}"} 1`,
    );
    expect(text).toContain(`freshet_group_lag_sum{group="b"} ${MAX_GROUP_LAG_SERIES + 5}`);
    expect(lines(await metrics.scrape(engine), 'freshet_group_lag{')).toEqual(lag);
  });
});
