/** @module The produce workloads (W1, W1p, W2, W2p, W2s) as one parameterised workload: a fresh server per repetition, a warm-up stream off the clock, then `records` records acknowledged. */
import { KIB, MB, progress } from '../harness.ts';
import type { Durability, ProduceSpec, Target } from '../targets/target.ts';
import {
  type MetricDef,
  measure,
  measurementDeadlineMs,
  Series,
  type SuiteWorkload,
  scaled,
  withDeadline,
  withTarget,
} from './workload.ts';

/*
 * Each repetition starts its own server on a fresh temp dir (so no repetition inherits the last one's data,
 * dirty pages, AOF growth or memory) and produces a warm-up stream off the clock, so the client's and the
 * server's code paths are compiled and warm: a fifth of the volume, at least 50,000 records even with --quick
 * (a cold broker ran W2s at a quarter of its warm speed). Then it creates the measured stream and times
 * Target.produce, from the first send to the last acknowledgement. Throughput uses the target's own `seconds`;
 * the CPU figures cover the whole produce() call.
 */

export interface ProduceWorkloadDef {
  name: string;
  title: string;
  records: number;
  valueBytes: number;
  partitions: number;
  producers: number;
  durability: Durability;
}

export const PRODUCE_METRICS: readonly MetricDef[] = [
  { name: 'records_per_s', unit: 'records/s', digits: 0 },
  { name: 'mb_per_s', unit: 'MB/s', digits: 1 },
];

const WARMUP_FRACTION = 0.2;
const WARMUP_MIN_RECORDS = 50_000;

export function produceWorkload(def: ProduceWorkloadDef): SuiteWorkload {
  return {
    name: def.name,
    title: def.title,
    durability: def.durability,
    peers: true,
    async run(makeTarget: () => Target, ctx) {
      const records = scaled(def.records, ctx, 1000);
      const warmupRecords = Math.min(
        records,
        Math.max(WARMUP_MIN_RECORDS, Math.round(records * WARMUP_FRACTION)),
      );
      const spec = (stream: string, count: number): ProduceSpec => ({
        stream,
        partitions: def.partitions,
        producers: def.producers,
        records: count,
        valueBytes: def.valueBytes,
      });
      let series: Series | null = null;
      for (let rep = 1; rep <= ctx.reps; rep++) {
        await withTarget(makeTarget, def.durability, async (target) => {
          const warmup = spec(`${def.name}-warmup`, warmupRecords);
          await target.create(warmup);
          await withDeadline(target.produce(warmup), measurementDeadlineMs(ctx), `${def.name} warm-up`);
          const measured = spec(`${def.name}-r${rep}`, records);
          await target.create(measured);
          const label = `${def.name} ${target.name} ${def.durability} r${rep}`;
          const { value: out, cpu } = await measure(
            target,
            () => target.produce(measured),
            measurementDeadlineMs(ctx),
            label,
          );
          if (out.records !== records)
            throw new Error(`${label}: ${out.records} of ${records} records acknowledged`);
          series ??= new Series(
            {
              workload: def.name,
              variant: null,
              target: target.name,
              targetDescription: target.describe(),
              durability: def.durability,
              params: {
                records,
                valueBytes: def.valueBytes,
                partitions: def.partitions,
                producers: def.producers,
                warmupRecords,
              },
            },
            PRODUCE_METRICS,
          );
          const recordsPerS = out.records / out.seconds;
          const mbPerS = out.bytes / MB / out.seconds;
          series.add({ records_per_s: recordsPerS, mb_per_s: mbPerS }, cpu, out.bytes / MB);
          progress(
            `suite: ${label}: ${Math.round(recordsPerS)} records/s, ${mbPerS.toFixed(1)} MB/s ` +
              `(cpu s: client ${cpu.clientSeconds.toFixed(2)}, server ${cpu.serverSeconds?.toFixed(2) ?? '?'}, wall ${cpu.wallSeconds.toFixed(2)})`,
          );
        });
      }
      return { runs: (series as Series | null)?.rows() ?? [], latency: [], notes: [] };
    },
  };
}

export const RECORD_100_B = 100;
export const RECORD_1_KIB = KIB;
