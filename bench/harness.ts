/** @module Shared benchmark helpers: options, temp dirs, repetition statistics, MB/s arithmetic and the one-JSON-line output. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What every workload's `run` receives. */
export interface BenchOptions {
  /** A short version (seconds, for CI and smoke runs); figures are noisier. */
  quick: boolean;
}

/** A workload module: `bench/<name>.ts`. */
export type Workload = (opts: BenchOptions) => Promise<Record<string, unknown>>;

export const KIB = 1024;
export const MIB = 1024 * 1024;
/** Throughput is reported in MB/s with MB = 10^6 bytes (as dd and fio's "MB/s"); volumes are in MiB. */
export const MB = 1_000_000;

/**
 * Where temp files go: `FRESHET_BENCH_DIR` when set (to bench a particular disk), else the OS temp dir.
 * The benchmarks are an edge, so reading the environment here is allowed; nothing in `src/` does.
 */
export function benchBaseDir(): string {
  const dir = process.env.FRESHET_BENCH_DIR || tmpdir();
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Creates a fresh temp dir under `benchBaseDir()`. Remove it with `removeDir`. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(benchBaseDir(), `freshet-bench-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs `fn` with a fresh temp dir that is removed afterwards, whether `fn` succeeds or throws. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    removeDir(dir);
  }
}

export interface Summary {
  median: number;
  min: number;
  max: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** Throughput in MB/s (10^6 bytes per second) of `bytes` moved in `ms` milliseconds. */
export function mbPerSec(bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000);
}

/** Rounds to `digits` decimals, for JSON output that stays readable. */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Formats a throughput for humans: `1234.5 MB/s`. */
export function formatMbS(mbS: number): string {
  return `${mbS.toFixed(1)} MB/s`;
}

/**
 * Adds `<name>` (the median) and `<name>_min`, `<name>_max` to `out`, rounded. The median is what a
 * workload reports; min and max show how noisy the repetitions were.
 */
export function putSummary(
  out: Record<string, unknown>,
  name: string,
  values: readonly number[],
  digits = 1,
): void {
  const s = summarize(values);
  out[name] = round(s.median, digits);
  out[`${name}_min`] = round(s.min, digits);
  out[`${name}_max`] = round(s.max, digits);
}

/** Progress for humans goes to stderr, so stdout carries only the JSON results. */
export function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/**
 * Collects garbage (when the runtime allows it) before a timed section, so one run's garbage is not
 * collected on the next run's clock.
 */
export function settle(): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) bun.gc(true);
  else (globalThis as { gc?: () => void }).gc?.();
}

export function parseBenchArgs(argv: readonly string[]): { names: string[]; opts: BenchOptions } {
  const names: string[] = [];
  let quick = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--')) throw new Error(`unknown option ${arg} (known: --quick)`);
    else names.push(arg);
  }
  return { names, opts: { quick } };
}

/**
 * The `import.meta.main` entry of a workload run directly: runs it and prints its result as one JSON line,
 * the last line on stdout.
 */
export async function runDirectly(run: Workload): Promise<void> {
  const { opts } = parseBenchArgs(process.argv.slice(2));
  const result = await run(opts);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/**
 * CPU seconds (user + system, every thread) a process has used so far, from /proc/<pid>/stat (Linux); null
 * elsewhere or once the process is gone. Assumes USER_HZ = 100, Linux's value everywhere.
 */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields 14 and 15 (utime, stime) count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A process's resident set size in bytes, from VmRSS in /proc/<pid>/status (Linux); null elsewhere. */
export function processRssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}
