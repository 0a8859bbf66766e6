/** @module The benchmark entry (`bun bench/run.ts [workload...] [--quick] [--report-only <run dir>]`): runs workloads, prints one JSON line each, saves bench/results/<timestamp>/results.json, writes report.html/report.md beside it, prints the summary and the baseline warnings. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchOptions, parseBenchArgs, progress, settle, type Workload } from './harness.ts';

/** What a full run runs, in order. Any other `bench/<name>.ts` workload can be named on the command line. */
const DEFAULT_WORKLOADS = ['suite', 'storage', 'codecs', 'ipc'];
/** What `--quick` without names runs: the fast ones, each in its quick version (CI: a minute or two). */
const QUICK_WORKLOADS = ['storage', 'ipc', 'suite'];
/** Modules in bench/ that are not workloads. */
const NOT_WORKLOADS = new Set(['run', 'harness', 'report', 'baseline']);

/**
 * Imports `bench/<name>.ts` only when it runs (the specifier is computed on purpose), so a workload that is
 * missing or broken fails alone and the others still run.
 */
async function loadWorkload(name: string): Promise<Workload> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name) || NOT_WORKLOADS.has(name))
    throw new Error(`not a workload name: ${name}`);
  const mod = (await import(new URL(`./${name}.ts`, import.meta.url).href)) as { run?: unknown };
  if (typeof mod.run !== 'function') throw new Error(`bench/${name}.ts does not export run(opts)`);
  return mod.run as Workload;
}

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

/**
 * ISO 8601 basic format with milliseconds (`20250101T120000.123Z`): sortable, safe in file names on every
 * OS, and distinct for runs started in the same second.
 */
function isoStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '');
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: BENCH_DIR,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

async function runWorkload(name: string, opts: BenchOptions): Promise<Record<string, unknown>> {
  const started = performance.now();
  try {
    const run = await loadWorkload(name);
    settle();
    const result = await run(opts);
    progress(`${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    progress(`${name}: failed: ${err instanceof Error && err.stack ? err.stack : message}`);
    return { bench: name, error: message };
  }
}

/**
 * Writes report.html and report.md beside `resultsFile`, then prints the summary table and the baseline
 * comparison to stdout. Imported when needed, so a broken generator cannot stop the workloads; a report that
 * cannot be made is a printed warning (the figures are saved already).
 */
async function report(resultsFile: string): Promise<void> {
  try {
    const { writeReport } = await import('./report.ts');
    const written = writeReport(resultsFile);
    progress(`report: ${written.htmlPath}`);
    process.stdout.write(`\n${written.summary}\n\n`);
    const { checkRun } = await import('./baseline.ts');
    for (const line of checkRun(resultsFile)) process.stdout.write(`${line}\n`);
  } catch (err) {
    progress(`WARNING: the report could not be written: ${err instanceof Error ? err.stack : String(err)}`);
  }
}

/** Takes `--report-only <dir>` out of the arguments (the harness knows only workload names and --quick). */
function reportOnlyOption(argv: string[]): { dir: string | null; rest: string[] } {
  const at = argv.indexOf('--report-only');
  if (at < 0) return { dir: null, rest: argv };
  const dir = argv[at + 1];
  if (!dir || dir.startsWith('--'))
    throw new Error('--report-only needs a run dir (bench/results/<timestamp>)');
  return { dir, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

async function main(): Promise<void> {
  const reportOnly = reportOnlyOption(process.argv.slice(2));
  if (reportOnly.dir !== null) {
    await report(reportOnly.dir);
    return;
  }
  const { names, opts } = parseBenchArgs(reportOnly.rest);
  const selected = names.length > 0 ? names : opts.quick ? QUICK_WORKLOADS : DEFAULT_WORKLOADS;
  const startedAt = new Date();
  const outFile = join(BENCH_DIR, 'results', isoStamp(startedAt), 'results.json');
  mkdirSync(dirname(outFile), { recursive: true });
  progress(`results: ${outFile}`);
  const header = {
    startedAt: startedAt.toISOString(),
    quick: opts.quick,
    commit: git(['rev-parse', '--short', 'HEAD']),
    // Uncommitted changes: the figures are then for the working tree, not for `commit`.
    dirty: (git(['status', '--porcelain']) ?? '') !== '',
    runtime: process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}`,
    platform: `${platform()} ${release()}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? null,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    benchDir: process.env.FRESHET_BENCH_DIR || null,
  };
  // Other work on the machine is the usual reason two runs disagree; record how busy it was.
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  const results: Record<string, unknown>[] = [];
  for (const name of selected) {
    progress(`${name}: running${opts.quick ? ' (quick)' : ''}`);
    const result = await runWorkload(name, opts);
    results.push(result);
    // Rewritten after every workload, so a run cut short keeps what it measured.
    const loadAverage = { atStart: loadAtStart, atEnd: loadavg().map((l) => Math.round(l * 100) / 100) };
    writeFileSync(outFile, `${JSON.stringify({ ...header, loadAverage, results }, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  await report(outFile);
  if (results.some((r) => 'error' in r)) process.exitCode = 1;
}

await main();
