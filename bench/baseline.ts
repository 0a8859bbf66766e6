/** @module The committed baseline of the quick run's key figures (bench/baseline.json): a run is compared with it and every regression of more than 30% printed as a WARNING (never a failure); `bun bench/baseline.ts --update <results.json | run dir>` rewrites it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatValue, higherIsBetter, type RunFile, readSuite, resultsPath } from './report.ts';

/*
 * bench/baseline.json:
 *   { "about": "...", "from": { startedAt, commit, quick, cpus, cpuModel, runtime },
 *     "figures": { "<key>": { "value": number, "unit": string, "better": "higher" | "lower" } } }
 * Keys: `suite/<workload>[ <variant>]/<durability>/<metric>` for Freshet's rows of the suite, and
 * `<bench>/<figure>` for the micro-benchmarks (storage, ipc, codecs, produce). Only figures present in both the
 * baseline and the run are compared, and only when both are quick runs or both full runs: a quick run moves a
 * tenth of the volume, so its figures are not comparable with a full run's.
 */

export const DEFAULT_BASELINE = join(dirname(fileURLToPath(import.meta.url)), 'baseline.json');
/** Changes beyond this fraction in the bad direction are reported (the machines are noisy). */
export const REGRESSION_THRESHOLD = 0.3;

export interface BaselineFigure {
  value: number;
  unit: string;
  better: 'higher' | 'lower';
}

export interface Baseline {
  about: string;
  from: Record<string, unknown>;
  figures: Record<string, BaselineFigure>;
}

/** The suite's metrics kept in the baseline: the headline figures and what a goal is about; not max or losses. */
const SUITE_METRICS = new Set([
  'records_per_s',
  'mb_per_s',
  'requests_per_s',
  'p50_ms',
  'p99_ms',
  'p999_ms',
  'restart_serving_s',
  'rss_mib',
]);

/** The micro-benchmarks' key figures (all throughput: higher is better). */
const MICRO_FIGURES: Record<string, readonly string[]> = {
  storage: ['append_mb_s', 'append_concurrent_mb_s', 'fsync_append_mb_s', 'read_mb_s'],
  ipc: ['ring_16KiB_MBps', 'ring_1MiB_MBps'],
  codecs: ['lz4_compress_MBps', 'lz4_decompress_MBps', 'zstd_compress_MBps', 'zstd_decompress_MBps'],
  produce: ['w1_rps', 'w2_mb_s', 'w3_rps', 'w3_raw_rps', 'http_rps'],
};

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** The figures of a run that the baseline tracks. */
export function keyFigures(run: RunFile): Record<string, BaselineFigure> {
  const figures: Record<string, BaselineFigure> = {};
  for (const row of readSuite(run).runs) {
    if (row.target !== 'freshet' || !SUITE_METRICS.has(row.metric) || !positive(row.median)) continue;
    const key = `suite/${row.workload}${row.variant ? ` ${row.variant}` : ''}/${row.durability}/${row.metric}`;
    figures[key] = {
      value: row.median,
      unit: row.unit,
      better: higherIsBetter(row.unit) ? 'higher' : 'lower',
    };
  }
  for (const result of run.results ?? []) {
    const names = MICRO_FIGURES[String(result.bench)];
    if (!names || result.error) continue;
    for (const name of names) {
      const value = result[name];
      if (positive(value)) {
        figures[`${result.bench}/${name}`] = {
          value,
          unit: /rps$/.test(name) ? 'records/s' : 'MB/s',
          better: 'higher',
        };
      }
    }
  }
  return figures;
}

export interface Regression {
  key: string;
  baseline: number;
  current: number;
  unit: string;
  better: 'higher' | 'lower';
  /** (current - baseline) / baseline. */
  change: number;
}

export interface Comparison {
  compared: number;
  regressions: Regression[];
  /** Set when nothing could be compared, saying why. */
  skipped: string | null;
}

/** Compares a run's key figures with the baseline: a regression is a change of more than `threshold` in the bad direction. */
export function compareWithBaseline(
  baseline: Baseline,
  run: RunFile,
  threshold = REGRESSION_THRESHOLD,
): Comparison {
  const baseQuick = baseline.from.quick;
  if (typeof baseQuick === 'boolean' && typeof run.quick === 'boolean' && baseQuick !== run.quick) {
    const kind = (quick: boolean) => (quick ? 'a quick run' : 'a full run');
    return {
      compared: 0,
      regressions: [],
      skipped: `the baseline is from ${kind(baseQuick)} and this is ${kind(run.quick)}: not comparable`,
    };
  }
  const current = keyFigures(run);
  const regressions: Regression[] = [];
  let compared = 0;
  for (const [key, base] of Object.entries(baseline.figures)) {
    const now = current[key];
    if (!now || !positive(base.value)) continue;
    compared++;
    const change = (now.value - base.value) / base.value;
    const worse = base.better === 'higher' ? -change : change;
    if (worse > threshold) {
      regressions.push({
        key,
        baseline: base.value,
        current: now.value,
        unit: base.unit,
        better: base.better,
        change,
      });
    }
  }
  return {
    compared,
    regressions,
    skipped: compared === 0 ? 'no figure of this run is in the baseline' : null,
  };
}

/** The lines to print after a run: one WARNING per regression, else one line saying all is within bounds. */
export function baselineLines(comparison: Comparison, threshold = REGRESSION_THRESHOLD): string[] {
  const pct = Math.round(threshold * 100);
  if (comparison.skipped) return [`baseline: not compared (${comparison.skipped})`];
  const lines = comparison.regressions.map(
    (r) =>
      `WARNING: ${r.key} regressed ${Math.abs(r.change * 100).toFixed(1)}% against bench/baseline.json: ` +
      `${formatValue(r.baseline, r.unit)} → ${formatValue(r.current, r.unit)} (${r.better} is better)`,
  );
  lines.push(
    `baseline: ${comparison.compared} figures compared, ${comparison.regressions.length} ${comparison.regressions.length === 1 ? 'regression' : 'regressions'} of more than ${pct}% (a warning only: the machines are noisy)`,
  );
  return lines;
}

export function readBaseline(path = DEFAULT_BASELINE): Baseline | null {
  if (!existsSync(path)) return null;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<Baseline>;
  return { about: parsed.about ?? '', from: parsed.from ?? {}, figures: parsed.figures ?? {} };
}

/** Compares the run in `results` (a results.json or its dir) with the baseline; never throws. */
export function checkRun(results: string, baselinePath = DEFAULT_BASELINE): string[] {
  try {
    const baseline = readBaseline(baselinePath);
    if (baseline === null)
      return [`baseline: none at ${baselinePath} (bun bench/baseline.ts --update <results.json>)`];
    const run = JSON.parse(readFileSync(resultsPath(results), 'utf8')) as RunFile;
    return baselineLines(compareWithBaseline(baseline, run));
  } catch (err) {
    return [`baseline: could not compare: ${err instanceof Error ? err.message : String(err)}`];
  }
}

/** The baseline a run would make. */
export function baselineFrom(run: RunFile, source: string): Baseline {
  return {
    about:
      `Key figures of a ${run.quick ? 'quick' : 'full'} run (${source}), written by \`bun bench/baseline.ts --update\`. ` +
      `After each run, bench/run.ts prints a WARNING for every figure more than ${REGRESSION_THRESHOLD * 100}% worse than here.`,
    from: {
      startedAt: run.startedAt ?? null,
      commit: run.commit ?? null,
      dirty: run.dirty ?? null,
      quick: run.quick ?? null,
      cpus: run.cpus ?? null,
      cpuModel: run.cpuModel ?? null,
      runtime: run.runtime ?? null,
    },
    figures: Object.fromEntries(Object.entries(keyFigures(run)).sort(([a], [b]) => a.localeCompare(b))),
  };
}

export function updateBaseline(results: string, baselinePath = DEFAULT_BASELINE): Baseline {
  const file = resultsPath(results);
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
  const baseline = baselineFrom(run, relative(join(dirname(DEFAULT_BASELINE), '..'), file));
  if (Object.keys(baseline.figures).length === 0) throw new Error(`${file} has no key figures`);
  writeFileSync(baselinePath, `${JSON.stringify(baseline, null, 2)}\n`);
  return baseline;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  if (args[0] === '--update' && args[1]) {
    const baseline = updateBaseline(args[1]);
    process.stdout.write(
      `baseline: ${Object.keys(baseline.figures).length} figures written to ${DEFAULT_BASELINE}\n`,
    );
  } else if (args[0] && !args[0].startsWith('--')) {
    for (const line of checkRun(args[0])) process.stdout.write(`${line}\n`);
  } else {
    process.stderr.write(
      'usage: bun bench/baseline.ts <results.json | run dir>            compare a run with bench/baseline.json\n' +
        '       bun bench/baseline.ts --update <results.json | run dir>   rewrite bench/baseline.json from a run\n',
    );
    process.exit(2);
  }
}
