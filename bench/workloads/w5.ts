/** @module W5 (Freshet only): HTTP load with autocannon on the produce endpoint, one small JSON record per request, 100 connections; bench/produce.ts's httpRun. */
import { progress } from '../harness.ts';
import { httpRun } from '../produce.ts';
import type { FreshetTarget } from '../targets/freshet.ts';
import { type MetricDef, Series, type SuiteWorkload, withDeadline, withTarget } from './workload.ts';

/*
 * One broker (page-cache durability); a warm-up run, then one run per repetition, each on a new topic.
 * httpRun (bench/produce.ts) POSTs `{"records":[{"value":...}]}` with acks=all from autocannon in this
 * process, fails on any error or non-2xx answer, and checks afterwards that the log holds between the 2xx
 * answers counted and the requests sent, with valid CRCs. Its CPU figures (cores busy over the run) are
 * turned into seconds here.
 */

const METRICS: readonly MetricDef[] = [
  { name: 'requests_per_s', unit: 'requests/s', digits: 0 },
  { name: 'p50_ms', unit: 'ms', digits: 2 },
  { name: 'p99_ms', unit: 'ms', digits: 2 },
];

export const w5: SuiteWorkload<FreshetTarget> = {
  name: 'w5',
  title: 'HTTP produce endpoint under autocannon: one JSON record per request, 100 connections',
  durability: 'os-cache',
  peers: false,
  async run(makeTarget, ctx) {
    const seconds = ctx.quick ? 3 : 10;
    return withTarget(makeTarget, 'os-cache', async (target) => {
      const admin = target.admin();
      const broker = target.broker;
      await admin.createTopic('w5-warmup', { partitions: 1 });
      await httpRun(broker, admin, 'w5-warmup', ctx.quick ? 1 : 2);
      const series = new Series(
        {
          workload: 'w5',
          variant: null,
          target: target.name,
          targetDescription: `${target.describe()}; load from autocannon (100 connections) in the client process`,
          durability: 'os-cache',
          params: { connections: 100, seconds, partitions: 1 },
        },
        METRICS,
      );
      for (let rep = 1; rep <= ctx.reps; rep++) {
        const topic = `w5-r${rep}`;
        await admin.createTopic(topic, { partitions: 1 });
        const r = await withDeadline(
          httpRun(broker, admin, topic, seconds),
          (seconds + 120) * 1000,
          `w5 r${rep}`,
        );
        series.add(
          { requests_per_s: r.rps, p50_ms: r.p50Ms, p99_ms: r.p99Ms },
          {
            clientSeconds: r.cpu.client * seconds,
            serverSeconds: r.cpu.broker === null ? null : r.cpu.broker * seconds,
            wallSeconds: seconds,
          },
        );
        progress(
          `suite: w5 freshet r${rep}: ${Math.round(r.rps)} requests/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`,
        );
      }
      return { runs: series.rows(), latency: [], notes: [] };
    });
  },
};
