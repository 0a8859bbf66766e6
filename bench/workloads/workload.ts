/** @module What the suite's workloads share: the result rows and latency curves the report iterates, CPU accounting around a measurement, a target's life (temp dir, start, stop by PID) and deadlines. */
import type { Histogram } from 'hdr-histogram-js';
import { build as buildHistogram } from 'hdr-histogram-js';
import { makeTempDir, median, processCpuSeconds, progress, removeDir, round } from '../harness.ts';
import type { Durability, Target, TargetOptions } from '../targets/target.ts';

/** CPU used over one measurement: this (client) process and the target's server processes. */
export interface CpuFigures {
  clientSeconds: number;
  /** Sum over the target's PIDs; null when /proc is not there (not Linux). */
  serverSeconds: number | null;
  wallSeconds: number;
}

/** Medians over a row's samples. */
export interface CpuSummary extends CpuFigures {
  /** Cores busy on average (CPU seconds / wall seconds). */
  clientCores: number;
  serverCores: number | null;
  /** (client + server) CPU seconds per MB (10^6 bytes) of payload moved; null when nothing was moved. */
  cpuSecondsPerMB: number | null;
}

/** One figure of one workload on one target and durability class, over the repetitions. */
export interface RunRow {
  /** 'w1', 'w1p', 'w2', 'w2p', 'w2s', 'w3', 'w4', 'w5', 'w6'. */
  workload: string;
  /** Which part of the workload: 'decoded 100 B', '5000/s', ...; null when it has one part. */
  variant: string | null;
  /** Target.name: 'freshet', 'redis', 'nats'. */
  target: string;
  /** Target.describe() of the server that ran it. */
  targetDescription: string;
  durability: Durability;
  /** 'records_per_s', 'mb_per_s', 'p99_ms', 'rss_mib', ... */
  metric: string;
  unit: string;
  /** The figure to show first for this workload and variant (one per variant). */
  headline: boolean;
  median: number;
  min: number;
  max: number;
  /** One per repetition, in order. */
  samples: number[];
  cpu: CpuSummary | null;
  /** What was run: records, valueBytes, partitions, producers, ratePerSecond, seconds, ... */
  params: Record<string, string | number>;
}

/** A latency percentile curve (HDR histogram of every repetition merged). */
export interface LatencyCurve {
  workload: string;
  variant: string;
  target: string;
  durability: Durability;
  ratePerSecond: number;
  seconds: number;
  valueBytes: number;
  reps: number;
  /** Totals over the repetitions. */
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Latency in ms at each percentile of PERCENTILES (x: percentile, y: ms), for a percentile plot. */
  points: Array<{ percentile: number; ms: number }>;
}

export interface WorkloadResult {
  runs: RunRow[];
  latency: LatencyCurve[];
  /** Anything a reader should know: lost records, a sender that fell behind, a broker that needed SIGKILL. */
  notes: string[];
}

export interface SuiteContext {
  quick: boolean;
  /** Repetitions of each measurement (3; quick: 1). */
  reps: number;
}

export interface SuiteWorkload<T extends Target = Target> {
  name: string;
  /** One line for the report: what is measured. */
  title: string;
  durability: Durability;
  /** Whether the peers run it too (W5 and W6 are Freshet only). */
  peers: boolean;
  run(makeTarget: () => T, ctx: SuiteContext): Promise<WorkloadResult>;
}

/** Volume scale of --quick: about a tenth. */
export const QUICK_SCALE = 0.1;

export function scaled(count: number, ctx: SuiteContext, minimum = 1): number {
  return ctx.quick ? Math.max(minimum, Math.round(count * QUICK_SCALE)) : count;
}

/** Longest a single measurement may run before it is abandoned (its server is then stopped). */
export function measurementDeadlineMs(ctx: SuiteContext): number {
  return ctx.quick ? 120_000 : 600_000;
}

/** Rejects when `promise` takes longer than `ms`; the abandoned promise's own failure is swallowed. */
export async function withDeadline<R>(promise: Promise<R>, ms: number, label: string): Promise<R> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no result within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
    promise.catch(() => {});
  }
}

function serverCpu(pids: readonly number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const seconds = processCpuSeconds(pid);
    if (seconds === null) return null;
    total += seconds;
  }
  return total;
}

/** Runs `fn` under a deadline, measuring wall time and the CPU of this process and of `target`'s servers. */
export async function measure<R>(
  target: Pick<Target, 'pids'>,
  fn: () => Promise<R>,
  deadlineMs: number,
  label: string,
): Promise<{ value: R; cpu: CpuFigures }> {
  const pids = target.pids();
  const serverStart = serverCpu(pids);
  const ownStart = process.cpuUsage();
  const start = performance.now();
  const value = await withDeadline(fn(), deadlineMs, label);
  const wallSeconds = (performance.now() - start) / 1000;
  const own = process.cpuUsage(ownStart);
  const serverEnd = serverCpu(pids);
  return {
    value,
    cpu: {
      clientSeconds: (own.user + own.system) / 1e6,
      serverSeconds: serverStart === null || serverEnd === null ? null : serverEnd - serverStart,
      wallSeconds,
    },
  };
}

/**
 * Makes a target, starts it on a fresh temp dir with `durability`, runs `fn`, and always stops it (by PID,
 * in the target) and removes the dir, also when `fn` or the start fails.
 */
export async function withTarget<T extends Target, R>(
  makeTarget: () => T,
  durability: Durability,
  fn: (target: T, options: TargetOptions) => Promise<R>,
): Promise<R> {
  const target = makeTarget();
  const options: TargetOptions = { dir: makeTempDir(`suite-${target.name}`), durability };
  try {
    await target.start(options);
    return await fn(target, options);
  } finally {
    try {
      await target.stop();
    } catch (err) {
      progress(`suite: stopping ${target.name} failed: ${String(err)}`);
    }
    removeDir(options.dir);
  }
}

export interface MetricDef {
  name: string;
  unit: string;
  /** Decimals kept in the results. */
  digits?: number;
}

export interface SeriesMeta {
  workload: string;
  variant: string | null;
  target: string;
  targetDescription: string;
  durability: Durability;
  params: Record<string, string | number>;
}

/** Collects the repetitions of one (workload, variant, target, durability) and turns them into rows. */
export class Series {
  private readonly values = new Map<string, number[]>();
  private readonly cpu: CpuFigures[] = [];
  private readonly megabytes: number[] = [];

  /** The first metric is the headline. */
  constructor(
    readonly meta: SeriesMeta,
    private readonly metrics: readonly MetricDef[],
  ) {
    for (const metric of metrics) this.values.set(metric.name, []);
  }

  /** One repetition: a value for every metric, its CPU, and the MB (10^6 bytes) of payload it moved. */
  add(values: Record<string, number>, cpu: CpuFigures | null, megabytes = 0): void {
    for (const metric of this.metrics) {
      const value = values[metric.name];
      if (value === undefined) throw new Error(`${this.meta.workload}: no value for ${metric.name}`);
      this.values.get(metric.name)!.push(value);
    }
    if (cpu !== null) {
      this.cpu.push(cpu);
      this.megabytes.push(megabytes);
    }
  }

  get size(): number {
    return this.values.get(this.metrics[0]!.name)!.length;
  }

  rows(): RunRow[] {
    if (this.size === 0) return [];
    const cpu = this.cpuSummary();
    return this.metrics.map((metric, i) => {
      const samples = this.values.get(metric.name)!.map((v) => round(v, metric.digits ?? 1));
      return {
        ...this.meta,
        metric: metric.name,
        unit: metric.unit,
        headline: i === 0,
        median: round(median(samples), metric.digits ?? 1),
        min: Math.min(...samples),
        max: Math.max(...samples),
        samples,
        cpu,
      };
    });
  }

  private cpuSummary(): CpuSummary | null {
    if (this.cpu.length === 0) return null;
    const client = median(this.cpu.map((c) => c.clientSeconds));
    const serverValues = this.cpu.map((c) => c.serverSeconds);
    const server = serverValues.includes(null) ? null : median(serverValues as number[]);
    const wall = median(this.cpu.map((c) => c.wallSeconds));
    const perMB = this.cpu.map((c, i) =>
      c.serverSeconds === null || this.megabytes[i]! <= 0
        ? Number.NaN
        : (c.clientSeconds + c.serverSeconds) / this.megabytes[i]!,
    );
    const anyPerMB = perMB.every((v) => !Number.isNaN(v));
    return {
      clientSeconds: round(client, 3),
      serverSeconds: server === null ? null : round(server, 3),
      wallSeconds: round(wall, 3),
      clientCores: round(client / wall, 2),
      serverCores: server === null ? null : round(server / wall, 2),
      cpuSecondsPerMB: anyPerMB ? round(median(perMB), 5) : null,
    };
  }
}

// ------------------------------------------------------------------ latency histograms

/** Percentiles kept for the curves: dense in the tail, where the differences are. */
export const PERCENTILES = [
  0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97, 98, 99, 99.5, 99.7, 99.9, 99.95, 99.99, 99.999, 100,
] as const;

/** Latencies are recorded in microseconds: 1 µs to 10 minutes, 3 significant digits. */
export function newLatencyHistogram(): Histogram {
  return buildHistogram({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

export function recordLatencyMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.min(600_000_000, Math.max(1, Math.round(ms * 1000))));
}

export function percentileMs(histogram: Histogram, percentile: number): number {
  return histogram.getValueAtPercentile(percentile) / 1000;
}

export function latencyPoints(histogram: Histogram): Array<{ percentile: number; ms: number }> {
  return PERCENTILES.map((percentile) => ({
    percentile,
    ms: round(percentile === 100 ? histogram.maxValue / 1000 : percentileMs(histogram, percentile), 3),
  }));
}
