/** @module The comparative suite (`npm run bench -- suite [--quick]`): the machine's limits, then W1–W6 against Freshet, then W1–W4 against Redis Streams and NATS JetStream when installed; one results object for the report. */

import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { FRESHET_GOALS } from './goals.ts';
import { type BenchOptions, progress, round, runDirectly } from './harness.ts';
import { type LimitName, type Limits, measureLimits } from './limits.ts';
import { FreshetTarget } from './targets/freshet.ts';
import type { Durability, Target } from './targets/target.ts';
import { w1 } from './workloads/w1.ts';
import { w1p } from './workloads/w1p.ts';
import { w2 } from './workloads/w2.ts';
import { w2p } from './workloads/w2p.ts';
import { w2s } from './workloads/w2s.ts';
import { w3 } from './workloads/w3.ts';
import { w4 } from './workloads/w4.ts';
import { w5 } from './workloads/w5.ts';
import { w6 } from './workloads/w6.ts';
import type { LatencyCurve, RunRow, SuiteContext, SuiteWorkload } from './workloads/workload.ts';

/*
 * The results object (`SuiteResults`, returned by run() and saved by bench/run.ts in
 * bench/results/<timestamp>/results.json as `results[0]`), for the report generator:
 *
 * {
 *   bench: 'suite', schema: 1, quick, reps, startedAt, durationSeconds,
 *   machine: { nproc, cpuModel, memoryMiB, platform, runtime, benchDir, loadAverage: { atStart, atEnd } },
 *   limits: { write_buffered | write_fdatasync_1mib | page_cache_read | loopback_tcp:
 *             { unit: 'MB/s', median, min, max, samples[], bytes, description } },
 *   targets: [{ name, status: 'ran' | 'skipped' | 'failed', reason?, durabilities[] }],
 *   workloads: [{ name, title, durability, peers }],
 *   runs: [{ workload, variant, target, targetDescription, durability, metric, unit, headline,
 *            median, min, max, samples[], params: {...}, cpu: null | { clientSeconds, serverSeconds,
 *            wallSeconds, clientCores, serverCores, cpuSecondsPerMB } }],
 *       one row per figure; `headline` marks the first figure of each (workload, variant, target,
 *       durability); cpu figures are medians over the samples, serverSeconds summed over the target's PIDs.
 *       metrics: w1/w1p/w2/w2p/w2s records_per_s, mb_per_s; w3 (variants 'decoded 100 B', 'raw 100 B',
 *       'decoded 1 KiB', 'raw 1 KiB'; peers decoded only) records_per_s, mb_per_s; w4 (variants '5000/s',
 *       '50000/s') p99_ms, p50_ms, p999_ms, max_ms, received_per_s, lost; w5 requests_per_s, p50_ms, p99_ms;
 *       w6 (variant 'restart') restart_serving_s, restart_listening_s, rss_mib, rss_listening_mib,
 *       shutdown_s and (variant 'setup') rss_loaded_mib, create_s, produce_s.
 *   latency: [{ workload: 'w4', variant, target, durability, ratePerSecond, seconds, valueBytes, reps, sent,
 *               received, p50Ms, p99Ms, p999Ms, maxMs, points: [{ percentile, ms }] }]
 *       one percentile curve per (rate, target): every repetition's HDR histogram merged.
 *   ratios: [{ workload, variant, target, durability, metric: 'mb_per_s', limit, value, limitValue, ratio }]
 *       each MB/s median as a fraction of the limits that bound it (produce: write_buffered or
 *       write_fdatasync_1mib, and loopback_tcp; consume: page_cache_read and loopback_tcp).
 *   goals: [{ workload, variant, target, metric, comparison: '>=' | '<=', goal, value, met }]
 *       issue 4's goals for Freshet, checked against the medians (value null: not measured).
 *   notes: string[], errors: [{ workload, target, durability, message }],
 *   error?: string   present when a Freshet workload (or the limits) failed, so bench/run.ts exits with 1;
 *                    a peer's failure is only listed in `errors`.
 * }
 *
 * Order: limits; every workload against Freshet; then, when present, each peer. Every measurement is repeated
 * `reps` times (3; --quick: 1, with about a tenth of the volume). Peers are skipped with --quick, with CI=true,
 * when their server binary is not on PATH, or when their target module does not load.
 * FRESHET_BENCH_SUITE_WORKLOADS=w2s,w4 and FRESHET_BENCH_SUITE_TARGETS=redis narrow a run (e.g. to profile one
 * workload); the results then say so in `only`.
 */

export interface RatioRow {
  workload: string;
  variant: string | null;
  target: string;
  durability: Durability;
  metric: string;
  limit: LimitName;
  value: number;
  limitValue: number;
  ratio: number;
}

export interface GoalRow {
  workload: string;
  variant: string | null;
  target: string;
  metric: string;
  comparison: '>=' | '<=';
  goal: number;
  value: number | null;
  met: boolean | null;
}

export interface TargetStatus {
  name: string;
  status: 'ran' | 'skipped' | 'failed';
  reason?: string;
  durabilities: Durability[];
}

export type SuiteResults = {
  bench: 'suite';
  schema: 1;
  quick: boolean;
  reps: number;
  startedAt: string;
  durationSeconds: number;
  machine: Record<string, unknown>;
  /** The FRESHET_BENCH_SUITE_* filters of a narrowed run; null for a whole run. */
  only: { workloads: string[] | null; targets: string[] | null } | null;
  limits: Limits | null;
  targets: TargetStatus[];
  workloads: Array<{ name: string; title: string; durability: Durability; peers: boolean }>;
  runs: RunRow[];
  latency: LatencyCurve[];
  ratios: RatioRow[];
  goals: GoalRow[];
  notes: string[];
  errors: Array<{ workload: string; target: string; durability: Durability | null; message: string }>;
  error?: string;
};

/** Workloads for every target, in order; W5 and W6 are Freshet's alone. */
const SHARED_WORKLOADS: readonly SuiteWorkload[] = [w1, w1p, w2, w2p, w2s, w3, w4];
const FRESHET_ONLY: readonly SuiteWorkload<FreshetTarget>[] = [w5, w6];

/** The limits each workload's MB/s is a ratio of. */
const LIMITS_OF: Record<string, readonly LimitName[]> = {
  w1: ['write_buffered', 'loopback_tcp'],
  w1p: ['write_buffered', 'loopback_tcp'],
  w2: ['write_buffered', 'loopback_tcp'],
  w2p: ['write_buffered', 'loopback_tcp'],
  w2s: ['write_fdatasync_1mib', 'loopback_tcp'],
  w3: ['page_cache_read', 'loopback_tcp'],
};

// ------------------------------------------------------------------ peers

interface PeerDef {
  name: string;
  binary: string;
  module: string;
}

const PEERS: readonly PeerDef[] = [
  { name: 'redis', binary: 'redis-server', module: './targets/redis.ts' },
  { name: 'nats', binary: 'nats-server', module: './targets/nats.ts' },
];

function isTarget(value: unknown): value is Target {
  const t = value as Partial<Record<keyof Target, unknown>> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.name === 'string' &&
    ['describe', 'supports', 'start', 'pids', 'create', 'produce', 'consume', 'latency', 'stop'].every(
      (m) => typeof t[m as keyof Target] === 'function',
    )
  );
}

/**
 * Finds the Target in a peer's module: a `createTarget()` factory, else the default export, else an exported
 * class whose name ends in `Target`. Returns a factory of fresh instances, checked once here.
 */
async function loadPeer(peer: PeerDef): Promise<() => Target> {
  const mod = (await import(new URL(peer.module, import.meta.url).href)) as Record<string, unknown>;
  const candidates: Array<[string, unknown]> = [
    ['createTarget', mod.createTarget],
    ['default', mod.default],
    ...Object.entries(mod).filter(([name]) => name.endsWith('Target')),
  ];
  for (const [, value] of candidates) {
    if (typeof value !== 'function') continue;
    const fn = value as { prototype?: { start?: unknown } } & ((...args: never[]) => unknown);
    const make: () => unknown =
      typeof fn.prototype?.start === 'function'
        ? () => new (value as new () => unknown)()
        : () => (value as () => unknown)();
    const probe = make();
    if (isTarget(probe)) return make as () => Target;
  }
  throw new Error(`${peer.module} exports no Target (createTarget(), a default, or a class named *Target)`);
}

/** A comma-separated list from the environment (the benchmarks are an edge); null when unset or empty. */
function listFromEnv(name: string): string[] | null {
  const list = (process.env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return list.length > 0 ? list : null;
}

function which(binary: string): string | null {
  const bun = (globalThis as { Bun?: { which(name: string): string | null } }).Bun;
  return bun ? bun.which(binary) : null;
}

// ------------------------------------------------------------------ running

function machineInfo(): Record<string, unknown> {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? null,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    platform: `${platform()} ${release()}`,
    runtime: process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`,
    benchDir: process.env.FRESHET_BENCH_DIR || null,
    loadAverage: { atStart: load(), atEnd: null as number[] | null },
  };
}

const load = () => loadavg().map((l) => round(l, 2));

function ratiosOf(runs: readonly RunRow[], limits: Limits | null): RatioRow[] {
  if (limits === null) return [];
  const out: RatioRow[] = [];
  for (const row of runs) {
    if (row.metric !== 'mb_per_s') continue;
    for (const limit of LIMITS_OF[row.workload] ?? []) {
      const limitValue = limits[limit].median;
      if (!(limitValue > 0)) continue;
      out.push({
        workload: row.workload,
        variant: row.variant,
        target: row.target,
        durability: row.durability,
        metric: row.metric,
        limit,
        value: row.median,
        limitValue,
        ratio: round(row.median / limitValue, 3),
      });
    }
  }
  return out;
}

function goalsOf(runs: readonly RunRow[]): GoalRow[] {
  return FRESHET_GOALS.map((goal) => {
    const row = runs.find(
      (r) =>
        r.target === 'freshet' &&
        r.workload === goal.workload &&
        r.variant === goal.variant &&
        r.metric === goal.metric,
    );
    const value = row?.median ?? null;
    const met =
      value === null || Number.isNaN(value)
        ? null
        : goal.comparison === '>='
          ? value >= goal.goal
          : value <= goal.goal;
    return { ...goal, target: 'freshet', value, met };
  });
}

function formatValue(value: number, unit: string): string {
  if (unit === 'ms' || unit === 's') return value.toFixed(value < 10 ? 3 : 1);
  if (unit === 'MB/s' || unit === 'MiB') return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

/** Figures the summary shows next to the headlines: by metric, or by `workload:metric`. */
const SUMMARY_COMPANIONS = new Set([
  'mb_per_s',
  'w4:p999_ms',
  'w5:p99_ms',
  'w6:rss_mib',
  'w6:restart_listening_s',
]);

/** A short table of every headline figure (plus MB/s next to records/s), to stderr. */
function printSummary(results: SuiteResults): void {
  const lines: string[][] = [
    ['workload', 'variant', 'target', 'durability', 'figure (median [min-max])', 'cpu s/MB', 'vs limit'],
  ];
  for (const row of results.runs) {
    if (
      !row.headline &&
      !SUMMARY_COMPANIONS.has(row.metric) &&
      !SUMMARY_COMPANIONS.has(`${row.workload}:${row.metric}`)
    )
      continue;
    const ratio = results.ratios.find(
      (r) =>
        r.workload === row.workload &&
        r.variant === row.variant &&
        r.target === row.target &&
        r.durability === row.durability &&
        r.metric === row.metric,
    );
    lines.push([
      row.workload,
      row.variant ?? '',
      row.target,
      row.durability,
      `${row.metric} ${formatValue(row.median, row.unit)} [${formatValue(row.min, row.unit)}-${formatValue(row.max, row.unit)}] ${row.unit}`,
      row.metric === 'mb_per_s' && row.cpu?.cpuSecondsPerMB != null ? row.cpu.cpuSecondsPerMB.toFixed(4) : '',
      ratio ? `${ratio.ratio.toFixed(2)} of ${ratio.limit}` : '',
    ]);
  }
  const widths = lines[0]!.map((_, c) => Math.max(...lines.map((l) => l[c]!.length)));
  progress('');
  progress(
    `suite summary${results.quick ? ' (quick)' : ''}, ${results.reps} rep(s), ${results.durationSeconds.toFixed(0)} s:`,
  );
  if (results.limits !== null) {
    progress(
      `  limits MB/s: ${Object.entries(results.limits)
        .map(([name, f]) => `${name} ${f.median.toFixed(0)}`)
        .join(', ')}`,
    );
  }
  for (const line of lines) progress(`  ${line.map((cell, c) => cell.padEnd(widths[c]!)).join('  ')}`);
  const goals = results.goals.filter((g) => g.value !== null);
  if (goals.length > 0) {
    progress(
      `  goals: ${goals.map((g) => `${g.workload}${g.variant ? ` ${g.variant}` : ''} ${g.metric} ${g.comparison} ${g.goal}: ${g.met ? 'met' : 'NOT met'}`).join('; ')}`,
    );
  }
  for (const target of results.targets)
    if (target.status !== 'ran')
      progress(`  ${target.name}: ${target.status}${target.reason ? ` (${target.reason})` : ''}`);
  for (const note of results.notes) progress(`  note: ${note}`);
  for (const error of results.errors) progress(`  ERROR ${error.workload} ${error.target}: ${error.message}`);
}

export async function run(opts: BenchOptions): Promise<SuiteResults> {
  const startedAt = new Date();
  const started = performance.now();
  const ctx: SuiteContext = { quick: opts.quick, reps: opts.quick ? 1 : 3 };
  const onlyWorkloads = listFromEnv('FRESHET_BENCH_SUITE_WORKLOADS');
  const onlyTargets = listFromEnv('FRESHET_BENCH_SUITE_TARGETS');
  const selected = (workload: string, target: string) =>
    (onlyWorkloads === null || onlyWorkloads.includes(workload)) &&
    (onlyTargets === null || onlyTargets.includes(target));
  const results: SuiteResults = {
    bench: 'suite',
    schema: 1,
    quick: opts.quick,
    reps: ctx.reps,
    startedAt: startedAt.toISOString(),
    durationSeconds: 0,
    machine: machineInfo(),
    only:
      onlyWorkloads === null && onlyTargets === null
        ? null
        : { workloads: onlyWorkloads, targets: onlyTargets },
    limits: null,
    targets: [],
    workloads: [...SHARED_WORKLOADS, ...FRESHET_ONLY].map(({ name, title, durability, peers }) => ({
      name,
      title,
      durability,
      peers,
    })),
    runs: [],
    latency: [],
    ratios: [],
    goals: [],
    notes: [],
    errors: [],
  };

  const runOne = async <T extends Target>(workload: SuiteWorkload<T>, target: string, make: () => T) => {
    if (!selected(workload.name, target)) return;
    const t0 = performance.now();
    progress(`suite: ${workload.name} on ${target} (${workload.durability}): ${workload.title}`);
    try {
      const out = await workload.run(make, ctx);
      results.runs.push(...out.runs);
      results.latency.push(...out.latency);
      results.notes.push(...out.notes);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      progress(
        `suite: ${workload.name} on ${target} failed: ${err instanceof Error && err.stack ? err.stack : message}`,
      );
      results.errors.push({ workload: workload.name, target, durability: workload.durability, message });
    }
    progress(`suite: ${workload.name} on ${target}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  };

  try {
    results.limits = await measureLimits(opts);
  } catch (err) {
    results.errors.push({ workload: 'limits', target: '-', durability: null, message: String(err) });
  }

  const makeFreshet = () => new FreshetTarget();
  for (const workload of SHARED_WORKLOADS) await runOne(workload, 'freshet', makeFreshet);
  for (const workload of FRESHET_ONLY) await runOne(workload, 'freshet', makeFreshet);
  results.targets.push(
    onlyTargets === null || onlyTargets.includes('freshet')
      ? { name: 'freshet', status: 'ran', durabilities: ['os-cache', 'fsync-always'] }
      : {
          name: 'freshet',
          status: 'skipped',
          reason: 'not in FRESHET_BENCH_SUITE_TARGETS',
          durabilities: [],
        },
  );

  for (const peer of PEERS) {
    const skip = (reason: string) => {
      results.targets.push({ name: peer.name, status: 'skipped', reason, durabilities: [] });
      progress(`suite: ${peer.name} skipped: ${reason}`);
    };
    if (onlyTargets !== null && !onlyTargets.includes(peer.name)) {
      skip('not in FRESHET_BENCH_SUITE_TARGETS');
      continue;
    }
    if (opts.quick) {
      skip('--quick runs Freshet only');
      continue;
    }
    if (process.env.CI === 'true') {
      skip('CI=true runs Freshet only');
      continue;
    }
    if (which(peer.binary) === null) {
      skip(`${peer.binary} is not on PATH (bench/peers/install.sh installs it)`);
      continue;
    }
    let make: () => Target;
    try {
      make = await loadPeer(peer);
    } catch (err) {
      skip(
        `bench/${peer.module.slice(2)} does not load: ${err instanceof Error ? err.message : String(err)}`,
      );
      continue;
    }
    const probe = make();
    const durabilities = (['os-cache', 'fsync-always'] as const).filter((d) => probe.supports(d));
    const before = results.errors.length;
    for (const workload of SHARED_WORKLOADS) {
      if (!workload.peers) continue;
      if (!probe.supports(workload.durability)) {
        results.notes.push(
          `${workload.name}: ${peer.name} offers no ${workload.durability} durability; not run`,
        );
        continue;
      }
      await runOne(workload, peer.name, make);
    }
    const failed = results.errors.length > before;
    results.targets.push({
      name: peer.name,
      status: failed && !results.runs.some((r) => r.target === probe.name) ? 'failed' : 'ran',
      durabilities: [...durabilities],
      ...(failed ? { reason: 'some workloads failed (see errors)' } : {}),
    });
  }

  results.ratios = ratiosOf(results.runs, results.limits);
  results.goals = goalsOf(results.runs);
  (results.machine.loadAverage as { atEnd: number[] | null }).atEnd = load();
  results.durationSeconds = round((performance.now() - started) / 1000, 1);
  const own = results.errors.filter((e) => e.target === 'freshet' || e.workload === 'limits');
  if (own.length > 0) results.error = own.map((e) => `${e.workload}: ${e.message}`).join('; ');
  printSummary(results);
  return results;
}

if (import.meta.main) await runDirectly(run);
