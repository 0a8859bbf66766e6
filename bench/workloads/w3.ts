/** @module W3: consume back from offset 0 what W1 (100 B) and W2 (1 KiB) produce, decoded and (Freshet) as raw batches, from the page cache. */
import { KIB, MB, progress } from '../harness.ts';
import type { ProduceSpec, Target } from '../targets/target.ts';
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
 * One server (page-cache durability) holds both streams, produced off the clock with one producer to one
 * partition each (as W1 and W2). A warm-up stream is read once in each mode first. Then each repetition
 * reads every stream in every mode from the start, one after the other, with Target.consume. Freshet is read
 * decoded (Consumer) and raw (batches counted from their headers); a peer offers one batched read, reported
 * as 'decoded' only. MB/s counts value bytes, whatever the mode.
 */

const SIZES = [
  { label: '100 B', valueBytes: 100, records: 1_000_000 },
  { label: '1 KiB', valueBytes: KIB, records: 500_000 },
] as const;
/** Not scaled down by --quick: the read paths need this much to warm up. */
const WARMUP_RECORDS = 100_000;

const METRICS: readonly MetricDef[] = [
  { name: 'records_per_s', unit: 'records/s', digits: 0 },
  { name: 'mb_per_s', unit: 'MB/s', digits: 1 },
];

/** Peers have no cheaper read than their normal batched one (see Target.consume). */
function modesOf(target: Target): Array<'decoded' | 'raw'> {
  return target.name === 'freshet' ? ['decoded', 'raw'] : ['decoded'];
}

export const w3: SuiteWorkload = {
  name: 'w3',
  title: 'consume from offset 0 the W1 (1,000,000 × 100 B) and W2 (500,000 × 1 KiB) streams, decoded and raw',
  durability: 'os-cache',
  peers: true,
  async run(makeTarget, ctx) {
    return withTarget(makeTarget, 'os-cache', async (target) => {
      const modes = modesOf(target);
      const spec = (stream: string, records: number, valueBytes: number): ProduceSpec => ({
        stream,
        partitions: 1,
        producers: 1,
        records,
        valueBytes,
      });
      const streams = SIZES.map((size) => ({
        ...size,
        spec: spec(`w3-${size.valueBytes}`, scaled(size.records, ctx, 1000), size.valueBytes),
      }));
      const warmup = spec('w3-warmup', ctx.quick ? WARMUP_RECORDS / 2 : WARMUP_RECORDS, 100);
      for (const s of [warmup, ...streams.map((x) => x.spec)]) {
        await target.create(s);
        await withDeadline(target.produce(s), measurementDeadlineMs(ctx), `w3 produce ${s.stream}`);
      }
      for (const mode of modes)
        await withDeadline(target.consume(warmup, mode), measurementDeadlineMs(ctx), 'w3 warm-up');

      const series = new Map<string, Series>();
      const description = target.describe();
      for (let rep = 1; rep <= ctx.reps; rep++) {
        for (const stream of streams) {
          for (const mode of modes) {
            const variant = `${mode} ${stream.label}`;
            const label = `w3 ${target.name} ${variant} r${rep}`;
            const { value: out, cpu } = await measure(
              target,
              () => target.consume(stream.spec, mode),
              measurementDeadlineMs(ctx),
              label,
            );
            if (out.records !== stream.spec.records)
              throw new Error(`${label}: read ${out.records} of ${stream.spec.records} records`);
            let s = series.get(variant);
            if (s === undefined) {
              s = new Series(
                {
                  workload: 'w3',
                  variant,
                  target: target.name,
                  targetDescription: description,
                  durability: 'os-cache',
                  params: {
                    mode,
                    records: stream.spec.records,
                    valueBytes: stream.valueBytes,
                    partitions: 1,
                  },
                },
                METRICS,
              );
              series.set(variant, s);
            }
            const recordsPerS = out.records / out.seconds;
            const mbPerS = out.bytes / MB / out.seconds;
            s.add({ records_per_s: recordsPerS, mb_per_s: mbPerS }, cpu, out.bytes / MB);
            progress(
              `suite: ${label}: ${Math.round(recordsPerS)} records/s, ${mbPerS.toFixed(1)} MB/s ` +
                `(cpu s: client ${cpu.clientSeconds.toFixed(2)}, server ${cpu.serverSeconds?.toFixed(2) ?? '?'})`,
            );
          }
        }
      }
      return { runs: [...series.values()].flatMap((s) => s.rows()), latency: [], notes: [] };
    });
  },
};
