/** @module W4: end-to-end latency at a fixed offered rate of 1 KiB records (5,000/s and 50,000/s), the send time stamped in the record, a long-polling consumer; percentiles from an HDR histogram. */
import type { Histogram } from 'hdr-histogram-js';
import { KIB, MB, progress, round } from '../harness.ts';
import type { Target } from '../targets/target.ts';
import {
  type LatencyCurve,
  latencyPoints,
  type MetricDef,
  measure,
  measurementDeadlineMs,
  newLatencyHistogram,
  percentileMs,
  recordLatencyMs,
  Series,
  type SuiteWorkload,
  withDeadline,
  withTarget,
} from './workload.ts';

/*
 * Per rate and repetition: a fresh server (page-cache durability), a warm-up run at the same rate off the
 * clock on its own stream, then Target.latency on a new one-partition stream for `seconds`. Every latency the
 * target reports (receive time - send time, same clock: client and consumer share this process) goes into an
 * HDR histogram (µs, 3 significant digits). Rows give p50/p99/p99.9/max per repetition (median over them);
 * the curve merges every repetition's histogram. Records sent but never received are reported as `lost`.
 */

const RATES = [5_000, 50_000] as const;
const VALUE_BYTES = KIB;

const METRICS: readonly MetricDef[] = [
  { name: 'p99_ms', unit: 'ms', digits: 3 },
  { name: 'p50_ms', unit: 'ms', digits: 3 },
  { name: 'p999_ms', unit: 'ms', digits: 3 },
  { name: 'max_ms', unit: 'ms', digits: 3 },
  { name: 'received_per_s', unit: 'records/s', digits: 0 },
  { name: 'lost', unit: 'records', digits: 0 },
];

export const w4: SuiteWorkload = {
  name: 'w4',
  title:
    'end-to-end latency of 1 KiB records offered at 5,000/s (and 50,000/s) for 20 s, consumer long-polling',
  durability: 'os-cache',
  peers: true,
  async run(makeTarget: () => Target, ctx) {
    const seconds = ctx.quick ? 3 : 20;
    const warmupSeconds = ctx.quick ? 0.5 : 2;
    const curves: LatencyCurve[] = [];
    const notes: string[] = [];
    const rows = [];
    for (const rate of RATES) {
      const variant = `${rate}/s`;
      const merged: Histogram = newLatencyHistogram();
      let series: Series | null = null;
      let target = '';
      let sentTotal = 0;
      let receivedTotal = 0;
      try {
        for (let rep = 1; rep <= ctx.reps; rep++) {
          await withTarget(makeTarget, 'os-cache', async (t) => {
            target = t.name;
            const warmup = {
              stream: `w4-${rate}-warmup`,
              ratePerSecond: rate,
              seconds: warmupSeconds,
              valueBytes: VALUE_BYTES,
            };
            const create = (stream: string, records: number) =>
              t.create({ stream, partitions: 1, producers: 1, records, valueBytes: VALUE_BYTES });
            await create(warmup.stream, Math.round(rate * warmupSeconds));
            await withDeadline(
              t.latency(warmup, () => {}),
              measurementDeadlineMs(ctx),
              'w4 warm-up',
            );
            const spec = {
              stream: `w4-${rate}-r${rep}`,
              ratePerSecond: rate,
              seconds,
              valueBytes: VALUE_BYTES,
            };
            await create(spec.stream, Math.round(rate * seconds));
            const histogram = newLatencyHistogram();
            const label = `w4 ${t.name} ${variant} r${rep}`;
            try {
              const { value: out, cpu } = await measure(
                t,
                () => t.latency(spec, (ms) => recordLatencyMs(histogram, ms)),
                measurementDeadlineMs(ctx),
                label,
              );
              const lag = (out as { senderLagMaxMs?: number }).senderLagMaxMs;
              if (out.received < out.sent)
                notes.push(`${label}: ${out.sent - out.received} of ${out.sent} records never arrived`);
              if (lag !== undefined && lag > 50)
                notes.push(`${label}: the sender fell ${Math.round(lag)} ms behind the offered rate`);
              series ??= new Series(
                {
                  workload: 'w4',
                  variant,
                  target: t.name,
                  targetDescription: t.describe(),
                  durability: 'os-cache',
                  params: { ratePerSecond: rate, seconds, valueBytes: VALUE_BYTES, partitions: 1 },
                },
                METRICS,
              );
              const values = {
                p50_ms: percentileMs(histogram, 50),
                p99_ms: percentileMs(histogram, 99),
                p999_ms: percentileMs(histogram, 99.9),
                max_ms: histogram.maxValue / 1000,
                received_per_s: out.received / seconds,
                lost: out.sent - out.received,
              };
              series.add(values, cpu, (out.received * VALUE_BYTES) / MB);
              sentTotal += out.sent;
              receivedTotal += out.received;
              merged.add(histogram);
              progress(
                `suite: ${label}: p50 ${values.p50_ms.toFixed(3)} ms, p99 ${values.p99_ms.toFixed(3)} ms, ` +
                  `p99.9 ${values.p999_ms.toFixed(3)} ms, max ${values.max_ms.toFixed(1)} ms; ` +
                  `${out.received}/${out.sent} received${lag !== undefined ? `, sender lag max ${lag.toFixed(1)} ms` : ''}`,
              );
            } finally {
              histogram.destroy();
            }
          });
        }
        if (series !== null) {
          rows.push(...(series as Series).rows());
          curves.push({
            workload: 'w4',
            variant,
            target,
            durability: 'os-cache',
            ratePerSecond: rate,
            seconds,
            valueBytes: VALUE_BYTES,
            reps: (series as Series).size,
            sent: sentTotal,
            received: receivedTotal,
            p50Ms: round(percentileMs(merged, 50), 3),
            p99Ms: round(percentileMs(merged, 99), 3),
            p999Ms: round(percentileMs(merged, 99.9), 3),
            maxMs: round(merged.maxValue / 1000, 3),
            points: latencyPoints(merged),
          });
        }
      } finally {
        merged.destroy();
      }
    }
    return { runs: rows, latency: curves, notes };
  },
};
