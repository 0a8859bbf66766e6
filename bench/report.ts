/** @module Turns a run's results.json into report.html (inline SVG charts: no scripts, no network) and report.md (summary and goals tables): `bun bench/report.ts <run dir | results.json>`. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/*
 * Input: results.json as bench/run.ts writes it: the run's header and one result object per workload. The
 * comparative figures come from the `suite` workload (its shape is documented at the top of bench/suite.ts:
 * machine, limits, targets, runs, latency, ratios, goals, notes, errors). Everything is read defensively: a
 * workload that failed, a peer that was skipped, a figure that is missing shows as "—" with the reason, and a
 * section that cannot be drawn says why instead of throwing.
 */

// ------------------------------------------------------------------ input shapes

/** Suite.error when the run did not include the suite (a run of named micro-benchmarks): not a problem. */
export const SUITE_ABSENT = 'the suite was not part of this run';

/** results.json as bench/run.ts writes it. */
export interface RunFile {
  startedAt?: string;
  quick?: boolean;
  commit?: string | null;
  dirty?: boolean;
  runtime?: string;
  platform?: string;
  cpus?: number;
  cpuModel?: string | null;
  memoryMiB?: number;
  benchDir?: string | null;
  loadAverage?: { atStart?: number[]; atEnd?: number[] };
  results?: Record<string, unknown>[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** One figure of one workload on one target (a bench/suite.ts `runs` row, read defensively). */
export interface Row {
  workload: string;
  variant: string | null;
  target: string;
  description: string | null;
  durability: string;
  metric: string;
  unit: string;
  headline: boolean;
  /** null: not measured (NaN in the JSON). */
  median: number | null;
  min: number | null;
  max: number | null;
  params: Obj;
  cpu: { client: number; server: number | null; perMB: number | null } | null;
}

export interface Limit {
  key: string;
  label: string;
  description: string | null;
  /** MB/s. */
  median: number;
  min: number | null;
  max: number | null;
}

export interface Latency {
  target: string;
  durability: string;
  rate: number;
  sent: number | null;
  received: number | null;
  points: { percentile: number; ms: number }[];
}

export interface Suite {
  /** Why there are no suite figures at all; null when the suite ran. */
  error: string | null;
  quick: boolean | null;
  machine: Obj;
  limits: Limit[];
  targets: { name: string; status: string; reason: string | null }[];
  titles: Map<string, string>;
  runs: Row[];
  latency: Latency[];
  goals: Obj[];
  notes: string[];
  errors: { workload: string; target: string; durability: string | null; message: string }[];
}

function rowOf(r: Obj): Row {
  const cpu = isObj(r.cpu) ? r.cpu : null;
  return {
    workload: str(r.workload)?.toLowerCase() ?? '?',
    variant: str(r.variant),
    target: str(r.target) ?? '?',
    description: str(r.targetDescription),
    durability: str(r.durability) ?? 'os-cache',
    metric: str(r.metric) ?? '?',
    unit: str(r.unit) ?? '',
    headline: r.headline === true,
    median: num(r.median),
    min: num(r.min),
    max: num(r.max),
    params: isObj(r.params) ? r.params : {},
    cpu:
      cpu && num(cpu.clientSeconds) !== null
        ? { client: num(cpu.clientSeconds)!, server: num(cpu.serverSeconds), perMB: num(cpu.cpuSecondsPerMB) }
        : null,
  };
}

export const LIMIT_LABELS: Record<string, string> = {
  write_buffered: 'raw sequential write',
  write_fdatasync_1mib: 'raw write + fdatasync per MiB',
  page_cache_read: 'page-cache read',
  loopback_tcp: 'loopback TCP',
};

function limitsOf(v: unknown): Limit[] {
  if (!isObj(v)) return [];
  const out: Limit[] = [];
  for (const [key, f] of Object.entries(v)) {
    if (!isObj(f) || num(f.median) === null) continue;
    out.push({
      key,
      label: LIMIT_LABELS[key] ?? key.replace(/_/g, ' '),
      description: str(f.description),
      median: num(f.median)!,
      min: num(f.min),
      max: num(f.max),
    });
  }
  return out;
}

function latencyOf(v: unknown): Latency[] {
  return objs(v).map((c) => ({
    target: str(c.target) ?? '?',
    durability: str(c.durability) ?? 'os-cache',
    rate: num(c.ratePerSecond) ?? 0,
    sent: num(c.sent),
    received: num(c.received),
    points: objs(c.points)
      .map((p) => ({ percentile: num(p.percentile) ?? -1, ms: num(p.ms) ?? -1 }))
      .filter((p) => p.percentile >= 0 && p.ms >= 0),
  }));
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Reads the `suite` result of a run, or says why there is none. */
export function readSuite(run: RunFile): Suite {
  const suite: Suite = {
    error: null,
    quick: null,
    machine: {},
    limits: [],
    targets: [],
    titles: new Map(),
    runs: [],
    latency: [],
    goals: [],
    notes: [],
    errors: [],
  };
  const raw = (run.results ?? []).find((r) => isObj(r) && r.bench === 'suite');
  const limitsResult = (run.results ?? []).find((r) => isObj(r) && r.bench === 'limits');
  if (limitsResult && !limitsResult.error) suite.limits = limitsOf(limitsResult);
  if (raw === undefined) return { ...suite, error: SUITE_ABSENT };
  if (str(raw.error)) return { ...suite, error: `the suite failed: ${raw.error}` };
  try {
    suite.quick = typeof raw.quick === 'boolean' ? raw.quick : null;
    suite.machine = isObj(raw.machine) ? raw.machine : {};
    if (isObj(raw.limits)) suite.limits = limitsOf(raw.limits);
    suite.targets = objs(raw.targets).map((t) => ({
      name: str(t.name) ?? '?',
      status: str(t.status) ?? 'ran',
      reason: str(t.reason),
    }));
    for (const w of objs(raw.workloads)) if (str(w.name)) suite.titles.set(str(w.name)!, str(w.title) ?? '');
    suite.runs = objs(raw.runs).map(rowOf);
    suite.latency = latencyOf(raw.latency);
    suite.goals = objs(raw.goals);
    suite.notes = Array.isArray(raw.notes) ? raw.notes.map(String) : [];
    suite.errors = objs(raw.errors).map((e) => ({
      workload: str(e.workload) ?? '?',
      target: str(e.target) ?? '?',
      durability: str(e.durability),
      message: str(e.message) ?? 'failed',
    }));
  } catch (err) {
    suite.error = `the suite's results could not be read: ${message(err)}`;
  }
  return suite;
}

// ------------------------------------------------------------------ names, colours, units

const TARGET_NAMES: Record<string, string> = {
  freshet: 'Freshet',
  redis: 'Redis Streams',
  nats: 'NATS JetStream',
};
const TARGET_COLOURS: Record<string, string> = { freshet: '#0b6bcb', redis: '#d1492e', nats: '#15967a' };
const EXTRA_COLOURS = ['#7b5ea7', '#e69f00', '#cc79a7', '#56b4e9'];
export const LIMIT_COLOUR = '#8d96a0';

export const isFreshet = (target: string) => target.toLowerCase() === 'freshet';
export const targetName = (target: string) => TARGET_NAMES[target.toLowerCase()] ?? target;
function colourOf(target: string): string {
  const known = TARGET_COLOURS[target.toLowerCase()];
  if (known) return known;
  let h = 0;
  for (const c of target) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return EXTRA_COLOURS[h % EXTRA_COLOURS.length]!;
}

const DURABILITY_TITLES: Record<string, string> = {
  'os-cache': 'Acknowledged once in memory / the page cache',
  'fsync-always': 'Acknowledged only after an fsync covering the record',
};
const durabilityTitle = (d: string) => DURABILITY_TITLES[d] ?? d;
const durabilityRank = (d: string) => (d === 'os-cache' ? 0 : d === 'fsync-always' ? 1 : 2);
/** '5000/s' → '5,000/s'. */
const variantText = (v: string) => v.replace(/\d{4,}/g, (n) => Number(n).toLocaleString('en-US'));

/** Short names for tables; bench/suite.ts's `workloads[].title` is the long one. */
const SHORT_TITLES: Record<string, string> = {
  w1: 'produce 100 B, 1 partition',
  w1p: 'produce 100 B, 8 partitions × 4 producers',
  w2: 'produce 1 KiB, 1 partition',
  w2p: 'produce 1 KiB, 8 partitions × 4 producers',
  w2s: 'produce 1 KiB, fsync before ack',
  w3: 'consume from offset 0',
  w4: 'end-to-end latency',
  w5: 'HTTP produce, 100 connections',
  w6: 'many partitions',
};
/** 'w2s' → 'W2s'. */
export const workloadLabel = (w: string) => w.replace(/^w(\d)/, 'W$1');
const workloadRank = (w: string) => {
  const m = /^w(\d+)([a-z]*)$/.exec(w);
  return m ? Number(m[1]) * 10 + ['', 'p', 's'].indexOf(m[2]!) + 1 : 1000;
};

/** Throughput (anything per second) is better higher; times, sizes and losses are better lower. */
export function higherIsBetter(unit: string): boolean {
  return /\/s$/i.test(unit.trim());
}
export const isByteRate = (unit: string) => /^[kmg]i?b\/s$/i.test(unit.trim());
const isRecordRate = (unit: string) => /^(records|msgs?|messages)\/s$/i.test(unit.trim());

const METRIC_NAMES: Record<string, string> = {
  records_per_s: 'records/s',
  mb_per_s: 'MB/s',
  requests_per_s: 'requests/s',
  received_per_s: 'received/s',
  p50_ms: 'p50',
  p99_ms: 'p99',
  p999_ms: 'p99.9',
  max_ms: 'max',
  restart_serving_s: 'restart until all served',
  restart_listening_s: 'restart until listening',
  rss_mib: 'RSS after restart',
  rss_listening_mib: 'RSS when listening',
  rss_loaded_mib: 'RSS after producing',
  shutdown_s: 'shutdown',
  create_s: 'create partitions',
  produce_s: 'produce to all',
  lost: 'records lost',
};
const metricName = (m: string) => METRIC_NAMES[m] ?? m.replace(/_/g, ' ');
function unitOfMetric(metric: string): string {
  if (metric === 'mb_per_s') return 'MB/s';
  if (metric.endsWith('_per_s')) return `${metric.slice(0, -6)}/s`;
  if (metric.endsWith('_ms')) return 'ms';
  if (metric.endsWith('_mib')) return 'MiB';
  if (metric.endsWith('_s')) return 's';
  return '';
}

/**
 * A warning when other work kept the machine busy: a 1-minute load average above the CPU count when the run
 * started (at the end it includes the benchmark's own processes, so it says nothing about other work).
 */
export function busyMachine(run: RunFile): string | null {
  const cpus = run.cpus ?? 0;
  const load = run.loadAverage?.atStart?.[0];
  if (cpus <= 0 || typeof load !== 'number' || load <= cpus) return null;
  return `the machine was busy with other work when the run started (1-minute load average ${load} on ${cpus} CPUs): these figures are pessimistic and noisier than usual`;
}

// ------------------------------------------------------------------ numbers for humans

const trimDigits = (v: number) => {
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.1 ? 3 : 4;
  return String(Number(v.toFixed(digits)));
};

/** 3 significant digits, with k / M / G for large counts: `1.23M`, `412k`, `0.031`. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a >= 1e9) return `${trimDigits(v / 1e9)}G`;
  if (a >= 1e6) return `${trimDigits(v / 1e6)}M`;
  if (a >= 1e4) return `${trimDigits(v / 1e3)}k`;
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  return trimDigits(v);
}

export function formatValue(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (/^MB\/s$/i.test(unit) && v >= 10_000) return `${trimDigits(v / 1000)} GB/s`;
  if (/^MB\/s$/i.test(unit) && v >= 1000) return `${Math.round(v).toLocaleString('en-US')} MB/s`;
  return unit ? `${formatNumber(v)} ${unit}` : formatNumber(v);
}

// ------------------------------------------------------------------ what the figures mean

/** One (workload, variant, durability): every target's figures for it. */
export interface Group {
  workload: string;
  variant: string | null;
  durability: string;
  rows: Row[];
}

export function groupsOf(runs: readonly Row[]): Group[] {
  const groups = new Map<string, Group>();
  for (const row of runs) {
    const key = `${row.workload}|${row.variant ?? ''}|${row.durability}`;
    let g = groups.get(key);
    if (!g)
      groups.set(
        key,
        (g = { workload: row.workload, variant: row.variant, durability: row.durability, rows: [] }),
      );
    g.rows.push(row);
  }
  // Variants in the order the suite ran them (W3: decoded 100 B, raw 100 B, decoded 1 KiB, raw 1 KiB).
  const order = [...groups.values()];
  return order.sort(
    (a, b) =>
      workloadRank(a.workload) - workloadRank(b.workload) ||
      durabilityRank(a.durability) - durabilityRank(b.durability) ||
      order.indexOf(a) - order.indexOf(b),
  );
}

const valueBytesOf = (g: Group) =>
  num(g.rows.find((r) => num(r.params.valueBytes) !== null)?.params.valueBytes) ?? null;

/**
 * The figure a group is judged by: MB/s for 1 KiB records (the issue's goals are in MB/s there), else the
 * suite's headline (records/s, p99, requests/s, restart time).
 */
export function primaryMetric(g: Group): string {
  const bytes = valueBytesOf(g);
  if (bytes !== null && bytes >= 1024 && g.rows.some((r) => r.metric === 'mb_per_s')) return 'mb_per_s';
  return (g.rows.find((r) => r.headline) ?? g.rows[0]!).metric;
}

/** The figures of a group the summary table shows: the primary one, and the other one a goal is about. */
function summaryMetrics(g: Group): string[] {
  const primary = primaryMetric(g);
  const extra =
    g.workload === 'w4' ? ['p999_ms'] : g.workload === 'w6' && g.variant === 'restart' ? ['rss_mib'] : [];
  return [primary, ...extra.filter((m) => m !== primary && g.rows.some((r) => r.metric === m))];
}

/** The limits that bound a workload's throughput (as bench/suite.ts's ratios): its storage path and the loopback. */
const LIMITS_OF: Record<string, readonly string[]> = {
  w1: ['write_buffered', 'loopback_tcp'],
  w1p: ['write_buffered', 'loopback_tcp'],
  w2: ['write_buffered', 'loopback_tcp'],
  w2p: ['write_buffered', 'loopback_tcp'],
  w2s: ['write_fdatasync_1mib', 'loopback_tcp'],
  w3: ['page_cache_read', 'loopback_tcp'],
};

/** The binding (lowest) limit of a group in the unit of `metric`, or null where none applies or units do not convert. */
export function limitFor(
  g: Group,
  metric: string,
  limits: readonly Limit[],
): { label: string; value: number; min: number | null; max: number | null } | null {
  const bounding = (LIMITS_OF[g.workload] ?? [])
    .map((key) => limits.find((l) => l.key === key))
    .filter((l): l is Limit => l !== undefined && l.median > 0);
  if (bounding.length === 0) return null;
  const binding = bounding.reduce((a, b) => (b.median < a.median ? b : a));
  const unit = g.rows.find((r) => r.metric === metric)?.unit ?? unitOfMetric(metric);
  const bytes = valueBytesOf(g);
  const factor = isByteRate(unit) ? 1 : isRecordRate(unit) && bytes ? 1e6 / bytes : null;
  if (factor === null) return null;
  const scale = (v: number | null) => (v === null ? null : v * factor);
  return {
    label: binding.label,
    value: binding.median * factor,
    min: scale(binding.min),
    max: scale(binding.max),
  };
}

/** Peers that apply to a workload (bench/suite.ts runs W5 and W6 on Freshet alone). */
function peersFor(suite: Suite, workload: string): string[] {
  if (workload === 'w5' || workload === 'w6') return [];
  const fromTargets = suite.targets.map((t) => t.name).filter((t) => !isFreshet(t));
  const fromRuns = suite.runs.map((r) => r.target).filter((t) => !isFreshet(t));
  return [...new Set([...fromTargets, ...fromRuns])];
}

/** Why `target` has no figure in group `g`. */
function absenceReason(suite: Suite, g: Group, target: string): string {
  const error = suite.errors.find(
    (e) =>
      e.workload === g.workload &&
      e.target === target &&
      (e.durability === null || e.durability === g.durability),
  );
  if (error) return `failed: ${error.message}`;
  const t = suite.targets.find((x) => x.name === target);
  if (t && t.status !== 'ran') return `${t.status}: ${t.reason ?? 'no reason given'}`;
  if (g.workload === 'w3' && g.variant?.startsWith('raw')) return 'no raw-batch read (see decoded)';
  const note = suite.notes.find((n) => n.startsWith(`${g.workload}:`) && n.includes(target));
  if (note) return note.slice(g.workload.length + 1).trim();
  return g.durability === 'fsync-always' ? `offers no ${g.durability} durability` : 'not measured';
}

/** Why no peer has a figure in `g`: one reason when they share it. */
function peerReasons(suite: Suite, g: Group, peers: string[]): string {
  // Peers left out of the whole run: the line under the table says why, once.
  const statuses = peers.map((p) => suite.targets.find((t) => t.name === p)?.status ?? 'ran');
  if (statuses.every((st) => st === statuses[0] && st !== 'ran')) return `peers ${statuses[0]} in this run`;
  const reasons = peers.map((p) => absenceReason(suite, g, p));
  if (new Set(reasons).size === 1)
    return `${peers.length > 1 ? 'peers' : targetName(peers[0]!)}: ${reasons[0]}`;
  return peers.map((p, i) => `${targetName(p)}: ${reasons[i]}`).join('; ');
}

export interface SummaryRow {
  workload: string;
  /** The first column: 'W3 consume (decoded 100 B)'. */
  label: string;
  durability: string;
  metric: string;
  unit: string;
  freshet: string;
  freshetValue: number | null;
  bestPeer: string;
  limit: string;
  /** Freshet ÷ limit. */
  ratio: number | null;
}

function rowsLabel(g: Group, metric: string, primary: boolean): string {
  const base = `${workloadLabel(g.workload)} ${SHORT_TITLES[g.workload] ?? ''}`.trim();
  const parts = [
    g.variant && g.workload !== 'w6' ? variantText(g.variant) : null,
    g.workload === 'w4' || g.workload === 'w6' || !primary ? metricName(metric) : null,
  ].filter(Boolean);
  return parts.length ? `${base} (${parts.join(', ')})` : base;
}

/** The rows of the summary table: each suite group's figure with the best peer and the binding limit. */
export function summaryRows(suite: Suite): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const g of groupsOf(suite.runs)) {
    summaryMetrics(g).forEach((metric, i) => {
      const rows = g.rows.filter((r) => r.metric === metric);
      const unit = rows[0]?.unit ?? unitOfMetric(metric);
      const higher = higherIsBetter(unit);
      const freshet = rows.find((r) => isFreshet(r.target));
      const peers = rows.filter((r) => !isFreshet(r.target) && r.median !== null);
      const best = peers.length
        ? peers.reduce((a, b) => ((higher ? b.median! > a.median! : b.median! < a.median!) ? b : a))
        : null;
      const peerNames = peersFor(suite, g.workload);
      const bestPeer = best
        ? `${targetName(best.target)} ${formatValue(best.median, unit)}`
        : peerNames.length === 0
          ? suite.targets.some((t) => !isFreshet(t.name)) && (g.workload === 'w5' || g.workload === 'w6')
            ? '— (Freshet only)'
            : '— (no peers in this run)'
          : `— (${peerReasons(suite, g, peerNames)})`;
      const limit = limitFor(g, metric, suite.limits);
      const fv = freshet?.median ?? null;
      out.push({
        workload: g.workload,
        label: rowsLabel(g, metric, i === 0),
        durability: g.durability,
        metric,
        unit,
        freshet: freshet
          ? fv === null
            ? '— (no figure)'
            : formatValue(fv, unit)
          : `— (${absenceReason(suite, g, 'freshet')})`,
        freshetValue: fv,
        bestPeer,
        limit: limit ? `${formatValue(limit.value, unit)} (${limit.label})` : '—',
        ratio: limit && fv !== null ? fv / limit.value : null,
      });
    });
  }
  // Workloads that failed on Freshet have no rows at all: say so.
  for (const e of suite.errors.filter((x) => isFreshet(x.target))) {
    out.push({
      workload: e.workload,
      label: `${workloadLabel(e.workload)} ${SHORT_TITLES[e.workload] ?? ''}`.trim(),
      durability: e.durability ?? '',
      metric: '',
      unit: '',
      freshet: `— (failed: ${e.message})`,
      freshetValue: null,
      bestPeer: '—',
      limit: '—',
      ratio: null,
    });
  }
  return out;
}

/** Freshet's figures from the micro-benchmarks (storage, ipc), each against the limit it runs beside. */
export function microRows(run: RunFile): SummaryRow[] {
  const out: SummaryRow[] = [];
  const add = (r: Obj, label: string, key: string, limitKey: string, limitLabel: string, unit = 'MB/s') => {
    const v = num(r[key]);
    const l = num(r[limitKey]);
    out.push({
      workload: str(r.bench) ?? '?',
      label,
      durability: '',
      metric: key,
      unit,
      freshet: formatValue(v, unit),
      freshetValue: v,
      bestPeer: '—',
      limit: l === null ? '—' : `${formatValue(l, unit)} (${limitLabel})`,
      ratio: v !== null && l !== null && l > 0 ? v / l : null,
    });
  };
  for (const r of (run.results ?? []).filter(isObj)) {
    if (r.error) continue;
    if (r.bench === 'storage') {
      add(
        r,
        'storage: file-log append, flush interval',
        'append_mb_s',
        'raw_mb_s',
        'raw write of the same batches',
      );
      add(
        r,
        'storage: append, flush always, 8 appenders',
        'fsync_append_mb_s',
        'fsync_raw_mb_s',
        'raw write + fdatasync',
      );
      add(r, 'storage: read back', 'read_mb_s', 'raw_read_mb_s', 'raw page-cache read');
    } else if (r.bench === 'ipc') {
      add(r, 'ipc: shared-memory ring, 16 KiB batches', 'ring_16KiB_MBps', 'memcpy_16KiB_MBps', 'memcpy');
      add(r, 'ipc: shared-memory ring, 1 MiB batches', 'ring_1MiB_MBps', 'memcpy_1MiB_MBps', 'memcpy');
    }
  }
  return out;
}

// ------------------------------------------------------------------ goals (issue 4)

/** bench/suite.ts's goals, used when a run carries none (older results). */
const GOALS: readonly {
  workload: string;
  variant: string | null;
  metric: string;
  comparison: '>=' | '<=';
  goal: number;
}[] = [
  { workload: 'w1', variant: null, metric: 'records_per_s', comparison: '>=', goal: 1_000_000 },
  { workload: 'w2', variant: null, metric: 'mb_per_s', comparison: '>=', goal: 500 },
  { workload: 'w2s', variant: null, metric: 'mb_per_s', comparison: '>=', goal: 300 },
  { workload: 'w3', variant: 'decoded 100 B', metric: 'records_per_s', comparison: '>=', goal: 2_000_000 },
  { workload: 'w3', variant: 'raw 100 B', metric: 'records_per_s', comparison: '>=', goal: 2_000_000 },
  { workload: 'w3', variant: 'decoded 1 KiB', metric: 'mb_per_s', comparison: '>=', goal: 1500 },
  { workload: 'w3', variant: 'raw 1 KiB', metric: 'mb_per_s', comparison: '>=', goal: 1500 },
  { workload: 'w4', variant: '5000/s', metric: 'p99_ms', comparison: '<=', goal: 1 },
  { workload: 'w4', variant: '5000/s', metric: 'p999_ms', comparison: '<=', goal: 3 },
  { workload: 'w6', variant: 'restart', metric: 'rss_mib', comparison: '<=', goal: 2048 },
  { workload: 'w6', variant: 'restart', metric: 'restart_serving_s', comparison: '<=', goal: 10 },
];

/** The rows of issue 4's goals table. */
const ISSUE_GOALS = [
  {
    workload: 'w1',
    label: 'W1',
    peer: 'Redis Streams 385k rec/s (Bun client), 554k (redis-benchmark, C)',
    goal: '≥ 1,000,000 rec/s',
  },
  { workload: 'w2', label: 'W2', peer: 'Redis 224 MB/s, NATS 216 MB/s', goal: '≥ 500 MB/s' },
  { workload: 'w2s', label: 'W2s', peer: 'Redis `always` 52 MB/s', goal: '≥ 300 MB/s' },
  {
    workload: 'w3',
    label: 'W3',
    peer: 'Redis 1.7M rec/s (100 B), ~800 MB/s (1 KiB)',
    goal: '≥ 2M rec/s, ≥ 1.5 GB/s',
  },
  {
    workload: 'w4',
    label: 'W4 @5k/s',
    peer: 'Redis p99 1.26 ms, p99.9 4.3 ms',
    goal: 'p99 ≤ 1 ms, p99.9 ≤ 3 ms',
  },
  { workload: 'w6', label: 'W6', peer: '—', goal: '10,000 partitions, RSS ≤ 2 GiB, restart ≤ 10 s' },
] as const;

export interface GoalRow {
  label: string;
  peer: string;
  goal: string;
  measured: string;
  status: 'met' | 'not met' | 'partly met' | 'not measured';
}

/** Issue 4's goals with this run's Freshet figures: met, not met, partly met (some parts), or not measured (with why). */
export function goalRows(suite: Suite): GoalRow[] {
  const checks =
    suite.goals.length > 0
      ? suite.goals.map((g) => ({
          workload: str(g.workload) ?? '?',
          variant: str(g.variant),
          metric: str(g.metric) ?? '?',
          value: num(g.value),
          met: typeof g.met === 'boolean' ? g.met : null,
        }))
      : GOALS.map((g) => {
          const row = suite.runs.find(
            (r) =>
              isFreshet(r.target) &&
              r.workload === g.workload &&
              r.variant === g.variant &&
              r.metric === g.metric,
          );
          const value = row?.median ?? null;
          const met = value === null ? null : g.comparison === '>=' ? value >= g.goal : value <= g.goal;
          return { workload: g.workload, variant: g.variant, metric: g.metric, value, met };
        });
  return ISSUE_GOALS.map((issue) => {
    const parts = checks.filter((c) => c.workload === issue.workload);
    const why =
      suite.error ??
      suite.errors.find((e) => e.workload === issue.workload && isFreshet(e.target))?.message ??
      'not measured';
    if (parts.length === 0 || parts.every((p) => p.value === null)) {
      return { ...issue, measured: `— (${why})`, status: 'not measured' };
    }
    const measured = parts
      .map((p) => {
        const unit =
          suite.runs.find((r) => r.workload === p.workload && r.metric === p.metric)?.unit ??
          unitOfMetric(p.metric);
        const name =
          parts.length === 1
            ? ''
            : p.variant && issue.workload === 'w3'
              ? `${p.variant} `
              : `${metricName(p.metric)} `;
        const mark = p.met === null ? '' : p.met ? ' ✓' : ' ✗';
        return `${name}${formatValue(p.value, unit)}${mark}`;
      })
      .join(', ');
    const known = parts.filter((p) => p.met !== null);
    let status: GoalRow['status'] = known.every((p) => p.met)
      ? known.length === parts.length
        ? 'met'
        : 'partly met'
      : known.some((p) => p.met)
        ? 'partly met'
        : 'not met';
    let note = '';
    if (issue.workload === 'w6') {
      const partitions = num(suite.runs.find((r) => r.workload === 'w6')?.params.partitions);
      if (partitions !== null && partitions < 10_000) {
        note = ` (at ${formatNumber(partitions)} partitions, not 10,000: a quick run)`;
        if (status === 'met') status = 'partly met';
      }
    }
    return { ...issue, measured: measured + note, status };
  });
}

// ------------------------------------------------------------------ SVG, by hand

export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const px = (v: number) => String(Math.round(v * 10) / 10);
let svgIds = 0;

/** 0 and round steps up to at least `max`. */
function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 4;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * pow >= raw) ?? 10) * pow;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 0.999; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

export interface Bar {
  label: string;
  /** Stacked left to right; empty when there is no figure (`note` says why). */
  segments: { value: number; colour: string; light?: boolean }[];
  min?: number | null;
  max?: number | null;
  note?: string;
  /** Text after the bar; defaults to the total with the unit. */
  valueText?: string;
  bold?: boolean;
}

/**
 * A horizontal bar chart with min–max whiskers. The scale follows the solid bars (the systems under test); a
 * light bar (a limit) far beyond them is drawn broken at the right edge with its value written out, so a raw
 * disk 50 times faster does not flatten every other bar.
 */
export function barChart(opts: {
  title: string;
  /** The unit of the values ('MB/s'). */
  unit: string;
  /** The caption under the axis; defaults to `unit`. */
  axis?: string;
  bars: Bar[];
  width?: number;
  labelWidth?: number;
  valueWidth?: number;
}): string {
  const id = `c${++svgIds}`;
  const width = opts.width ?? 520;
  const labelW = opts.labelWidth ?? 118;
  const valueW = opts.valueWidth ?? 190;
  const plotW = width - labelW - valueW;
  const rowH = 30;
  const totals = opts.bars.map((b) => b.segments.reduce((s, g) => s + g.value, 0));
  const solidMax = Math.max(
    0,
    ...opts.bars.flatMap((b, i) =>
      b.segments.some((s) => !s.light) ? [Math.max(totals[i]!, b.max ?? 0)] : [],
    ),
  );
  const allMax = Math.max(0, ...totals, ...opts.bars.map((b) => b.max ?? 0));
  const ticks = niceTicks(solidMax > 0 && allMax > solidMax * 1.6 ? solidMax * 1.15 : allMax);
  const top = ticks.at(-1)!;
  const x = (v: number) => labelW + (Math.min(v, top) / top) * plotW;
  const axisY = opts.bars.length * rowH + 4;
  const height = axisY + 34;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}t">`,
    `<title id="${id}t">${esc(opts.title)}</title>`,
    `<defs><pattern id="${id}h" width="7" height="7" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="7" stroke="#ffffff" stroke-width="3" stroke-opacity="0.6"/></pattern></defs>`,
  ];
  for (const t of ticks) {
    out.push(
      `<line x1="${px(x(t))}" y1="2" x2="${px(x(t))}" y2="${axisY}" stroke="#e6e9ee"/>`,
      `<text x="${px(x(t))}" y="${axisY + 14}" class="tick" text-anchor="middle">${esc(formatNumber(t))}</text>`,
    );
  }
  out.push(
    `<text x="${labelW + plotW}" y="${axisY + 29}" class="axis" text-anchor="end">${esc(opts.axis ?? opts.unit)}</text>`,
  );
  opts.bars.forEach((bar, i) => {
    const y = i * rowH + 6;
    const mid = y + 9;
    out.push(
      `<text x="${labelW - 8}" y="${mid + 4}" class="label${bar.bold ? ' b' : ''}" text-anchor="end">${esc(bar.label)}</text>`,
    );
    if (bar.segments.length === 0) {
      out.push(
        `<text x="${labelW + 4}" y="${mid + 4}" class="missing">— ${esc(bar.note ?? 'no figure')}</text>`,
      );
      return;
    }
    let at = 0;
    for (const seg of bar.segments) {
      const x0 = x(at);
      at += seg.value;
      const w = px(Math.max(1.5, x(at) - x0));
      out.push(`<rect x="${px(x0)}" y="${y}" width="${w}" height="18" rx="2" fill="${seg.colour}"/>`);
      if (seg.light)
        out.push(`<rect x="${px(x0)}" y="${y}" width="${w}" height="18" rx="2" fill="url(#${id}h)"/>`);
    }
    const broken = at > top;
    if (broken) {
      const bx = labelW + plotW - 16;
      out.push(
        `<path d="M${bx} ${y - 3}l5 12l-5 12M${bx + 6} ${y - 3}l5 12l-5 12" fill="none" stroke="#fff" stroke-width="3"/>`,
      );
    } else if (bar.min != null && bar.max != null && bar.max > bar.min) {
      const a = px(x(bar.min));
      const b = px(x(bar.max));
      out.push(
        `<path d="M${a} ${mid - 6}v12M${a} ${mid}H${b}M${b} ${mid - 6}v12" stroke="#1d2733" stroke-width="1.3" fill="none" opacity="0.7"/>`,
      );
    }
    const end = broken ? labelW + plotW : Math.max(x(at), bar.max != null ? x(bar.max) : 0);
    out.push(
      `<text x="${px(end + 6)}" y="${mid + 4}" class="value${bar.bold ? ' b' : ''}">${esc(bar.valueText ?? formatValue(at, opts.unit))}${bar.note ? `<tspan class="aside"> ${esc(bar.note)}</tspan>` : ''}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('');
}

/** The HdrHistogram-style percentile axis: x = log10(1 / (1 - p)); the maximum sits just past 99.999. */
const PERCENTILE_TICKS: [number, string][] = [
  [50, '50%'],
  [90, '90%'],
  [99, '99%'],
  [99.9, '99.9%'],
  [99.99, '99.99%'],
  [100, 'max'],
];
const MAX_X = 5.6;
const percentileX = (p: number) => (p >= 100 ? MAX_X : Math.min(5.2, Math.log10(100 / (100 - p))));

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = Number((m * 10 ** e).toPrecision(6));
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
  }
  return ticks;
}

export interface Curve {
  name: string;
  colour: string;
  points: { percentile: number; ms: number }[];
}

/** Latency against percentile, both axes logarithmic, as HdrHistogram plots it; goals are open diamonds. */
export function percentileChart(opts: {
  title: string;
  curves: Curve[];
  goals?: { percentile: number; ms: number; label: string }[];
  width?: number;
}): string {
  const id = `c${++svgIds}`;
  const width = opts.width ?? 540;
  const height = 320;
  const m = { left: 58, right: 20, top: 16, bottom: 46 };
  const values = [
    ...opts.curves.flatMap((c) => c.points.filter((p) => p.percentile >= 50).map((p) => p.ms)),
    ...(opts.goals ?? []).map((g) => g.ms),
  ].filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(values.length ? Math.min(...values) : 0.1));
  const hi = 10 ** (Math.ceil(Math.log10(values.length ? Math.max(...values) : 10) * 2) / 2);
  const span = Math.log10(hi) - Math.log10(lo) || 1;
  const y = (v: number) =>
    m.top + (1 - (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * (height - m.top - m.bottom);
  const x0 = percentileX(50);
  const x = (p: number) => m.left + ((percentileX(p) - x0) / (MAX_X - x0)) * (width - m.left - m.right);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}t">`,
    `<title id="${id}t">${esc(opts.title)}</title>`,
  ];
  for (const t of logTicks(lo, hi)) {
    const major = Number.isInteger(Math.log10(t));
    out.push(
      `<line x1="${m.left}" y1="${px(y(t))}" x2="${width - m.right}" y2="${px(y(t))}" stroke="${major ? '#d3d9e0' : '#eef1f4'}"/>`,
      `<text x="${m.left - 6}" y="${px(y(t) + 4)}" class="tick" text-anchor="end">${esc(formatNumber(t))}</text>`,
    );
  }
  for (const [p, label] of PERCENTILE_TICKS) {
    out.push(
      `<line x1="${px(x(p))}" y1="${m.top}" x2="${px(x(p))}" y2="${height - m.bottom}" stroke="#e6e9ee"/>`,
      `<text x="${px(x(p))}" y="${height - m.bottom + 16}" class="tick" text-anchor="middle">${label}</text>`,
    );
  }
  out.push(
    `<text x="${(m.left + width - m.right) / 2}" y="${height - 8}" class="axis" text-anchor="middle">percentile (log scale of 1 / (1 − p))</text>`,
    `<text transform="translate(15 ${(m.top + height - m.bottom) / 2}) rotate(-90)" class="axis" text-anchor="middle">latency, ms (log scale)</text>`,
  );
  for (const c of opts.curves) {
    const pts = c.points.filter((p) => p.percentile >= 50 && p.ms > 0);
    if (pts.length === 0) continue;
    out.push(
      `<polyline points="${pts.map((p) => `${px(x(p.percentile))},${px(y(p.ms))}`).join(' ')}" fill="none" stroke="${c.colour}" stroke-width="2.5" stroke-linejoin="round"/>`,
      ...pts
        .filter((p) => PERCENTILE_TICKS.some(([t]) => t === p.percentile))
        .map(
          (p) =>
            `<circle cx="${px(x(p.percentile))}" cy="${px(y(p.ms))}" r="3.6" fill="${c.colour}"><title>${esc(`${c.name}: ${p.percentile >= 100 ? 'max' : `p${p.percentile}`} ${formatValue(p.ms, 'ms')}`)}</title></circle>`,
        ),
    );
  }
  // Goals last, so no curve hides them.
  for (const g of opts.goals ?? []) {
    out.push(
      `<path d="M${px(x(g.percentile))} ${px(y(g.ms) - 7)}l7 7l-7 7l-7 -7z" fill="#fff" fill-opacity="0.85" stroke="#1d2733" stroke-width="1.6"/>`,
      `<text x="${px(x(g.percentile) - 10)}" y="${px(y(g.ms) - 8)}" class="goal" text-anchor="end" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(g.label)}</text>`,
    );
  }
  out.push('</svg>');
  return out.join('');
}

// ------------------------------------------------------------------ HTML

const STYLE = `
:root{--ink:#1d2733;--muted:#5f6b78;--line:#e3e7ec;--bg:#f5f7fa;--card:#fff;--freshet:#0b6bcb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:28px 24px 60px}
header.top{background:linear-gradient(120deg,#0b3d73,#0b6bcb);color:#fff;padding:28px 24px 22px}
header.top div{max-width:1160px;margin:0 auto}
header.top h1{margin:0 0 4px;font-size:28px;font-weight:650;letter-spacing:-.01em}
header.top p{margin:0;opacity:.88}
.pill{display:inline-block;border-radius:999px;padding:1px 10px;font-size:12.5px;font-weight:600;background:rgba(255,255,255,.18);margin-left:6px;vertical-align:2px}
h2{font-size:21px;margin:38px 0 6px;letter-spacing:-.01em}
h2+p.lead,h3+p.lead{margin-top:0}
h3{font-size:16px;margin:24px 0 8px;color:#2b3a4b}
p.lead{color:var(--muted);max-width:900px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px 10px;box-shadow:0 1px 2px rgba(16,24,40,.04);overflow-x:auto}
.card h4{margin:0;font-size:15px}
.card .sub{margin:2px 0 8px;color:var(--muted);font-size:12.5px}
svg.chart{display:block;max-width:100%;height:auto;font-family:inherit}
svg .tick{font-size:11px;fill:#6b7785}
svg .axis{font-size:11.5px;fill:#4a5562}
svg .label{font-size:12.5px;fill:#2b3a4b}
svg .value{font-size:12.5px;fill:#1d2733}
svg .b{font-weight:650}
svg .aside{font-weight:400;fill:#6b7785;font-size:11.5px}
svg .missing{font-size:12px;fill:#8a94a0;font-style:italic}
svg .goal{font-size:11px;fill:#3b4450}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;font-size:13.5px}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef2f6;font-weight:600;color:#2b3a4b}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.fr{font-weight:650;color:var(--freshet)}
td.na,span.na{color:#8a94a0}
tr:last-child td{border-bottom:0}
table.compact{font-size:12.5px;margin-top:8px}table.compact td,table.compact th{padding:4px 7px;white-space:nowrap}
table.compact .sw{width:10px;height:10px;margin-right:6px;vertical-align:-1px}
td.ratio-cell,td.nw{white-space:nowrap}
td .sw{width:11px;height:11px;vertical-align:-1px}
.ratio{display:inline-block;width:64px;height:8px;background:#e6e9ee;border-radius:4px;margin-right:6px;vertical-align:1px;overflow:hidden}
.ratio i{display:block;height:100%;background:var(--freshet)}
.status{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;font-weight:650;white-space:nowrap}
.met{background:#dcf5e7;color:#116b3a}.not-met{background:#fde2e0;color:#a12a1c}.partly-met{background:#fff1cc;color:#7a5600}.not-measured{background:#eceff3;color:#5f6b78}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin:6px 0 10px;font-size:13px;color:#2b3a4b}
.legend span{display:inline-flex;align-items:center;gap:6px}
.sw{width:14px;height:14px;border-radius:3px;display:inline-block}
.sw.light{background-image:repeating-linear-gradient(45deg,rgba(255,255,255,.6) 0 2px,transparent 2px 5px)}
.problem{background:#fff4f2;border:1px solid #f3c1b9;border-left:4px solid #d1492e;border-radius:8px;padding:10px 14px;margin:10px 0}
.note{background:#fffaf0;border:1px solid #f1dfb0;border-radius:8px;padding:8px 14px;margin:10px 0;font-size:13.5px}
details{margin-top:8px}summary{cursor:pointer;color:#0b5aa8;font-size:13px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;background:#eef2f6;padding:1px 5px;border-radius:4px}
ul.fair li{margin:4px 0}
footer{margin-top:40px;color:var(--muted);font-size:13px}
`;

const legend = (items: { name: string; colour: string; light?: boolean }[]) =>
  `<div class="legend">${items.map((i) => `<span><i class="sw${i.light ? ' light' : ''}" style="background-color:${i.colour}"></i>${esc(i.name)}</span>`).join('')}</div>`;
const card = (title: string, sub: string, body: string) =>
  `<div class="card"><h4>${esc(title)}</h4>${sub ? `<p class="sub">${esc(sub)}</p>` : ''}${body}</div>`;
const problem = (html: string) => `<div class="problem">${html}</div>`;

/** Draws a section, or says why it could not be drawn: one bad figure never takes the report down. */
function safe(name: string, draw: () => string): string {
  try {
    return draw();
  } catch (err) {
    return problem(`The ${esc(name)} section could not be drawn: ${esc(message(err))}`);
  }
}

function targetsIn(suite: Suite, g: Group): string[] {
  const names = [...new Set(['freshet', ...peersFor(suite, g.workload), ...g.rows.map((r) => r.target)])];
  return names.sort((a, b) => Number(!isFreshet(a)) - Number(!isFreshet(b)));
}

/** The other throughput figure shown next to the primary one: MB/s next to records/s and back. */
const companionMetric = (metric: string) =>
  ({ records_per_s: 'mb_per_s', mb_per_s: 'records_per_s', requests_per_s: 'p99_ms' })[metric] ?? null;

function throughputCard(suite: Suite, g: Group): string {
  const metric = primaryMetric(g);
  const unit = g.rows.find((r) => r.metric === metric)?.unit ?? unitOfMetric(metric);
  const companion = companionMetric(metric);
  const bars: Bar[] = targetsIn(suite, g).map((target) => {
    const row = g.rows.find((r) => r.target === target && r.metric === metric);
    if (!row || row.median === null) {
      return {
        label: targetName(target),
        segments: [],
        note: row ? 'no figure' : absenceReason(suite, g, target),
      };
    }
    const other = companion ? g.rows.find((r) => r.target === target && r.metric === companion) : undefined;
    const otherText =
      other?.median != null
        ? `${companion === 'p99_ms' ? 'p99 ' : ''}${formatValue(other.median, other.unit)}`
        : '';
    return {
      label: targetName(target),
      segments: [{ value: row.median, colour: colourOf(target) }],
      min: row.min,
      max: row.max,
      bold: isFreshet(target),
      valueText: formatValue(row.median, unit),
      ...(otherText ? { note: otherText } : {}),
    };
  });
  const limit = limitFor(g, metric, suite.limits);
  if (limit) {
    bars.push({
      label: 'limit',
      segments: [{ value: limit.value, colour: LIMIT_COLOUR, light: true }],
      min: limit.min,
      max: limit.max,
      valueText: formatValue(limit.value, unit),
    });
  }
  const fr = g.rows.find((r) => isFreshet(r.target) && r.metric === metric);
  const ratio = limit
    ? ` · limit: ${limit.label}${fr?.median != null ? `, Freshet = ${(fr.median / limit.value).toFixed(2)} × it` : ''}`
    : '';
  const params = fr ? paramsText(fr.params) : '';
  const title = `${workloadLabel(g.workload)} · ${SHORT_TITLES[g.workload] ?? ''}${g.variant ? ` · ${variantText(g.variant)}` : ''}`;
  return card(title, `${params}${ratio}`, barChart({ title, unit, bars }));
}

function paramsText(p: Obj): string {
  const parts: string[] = [];
  if (num(p.records) !== null) parts.push(`${formatNumber(num(p.records)!)} records`);
  if (num(p.valueBytes) !== null)
    parts.push(
      `${num(p.valueBytes)! >= 1024 ? `${num(p.valueBytes)! / 1024} KiB` : `${num(p.valueBytes)} B`} values`,
    );
  if (num(p.partitions) !== null && num(p.partitions)! > 1)
    parts.push(`${formatNumber(num(p.partitions)!)} partitions`);
  if (num(p.producers) !== null && num(p.producers)! > 1) parts.push(`${num(p.producers)} producers`);
  if (num(p.connections) !== null) parts.push(`${num(p.connections)} connections, ${num(p.seconds)} s`);
  if (str(p.mode)) parts.push(`${p.mode} read`);
  return parts.join(', ');
}

function throughputSection(suite: Suite): string {
  if (suite.error) return problem(`No throughput figures: ${esc(suite.error)}.`);
  const groups = groupsOf(suite.runs).filter((g) => g.workload !== 'w4' && g.workload !== 'w6');
  const classes = [...new Set(groups.map((g) => g.durability))].sort(
    (a, b) => durabilityRank(a) - durabilityRank(b),
  );
  const items = new Map<string, { name: string; colour: string; light?: boolean }>();
  for (const g of groups)
    for (const t of targetsIn(suite, g)) items.set(t, { name: targetName(t), colour: colourOf(t) });
  const body = classes
    .map((d) => {
      const cards = groups
        .filter((g) => g.durability === d)
        .map((g) => safe(`${g.workload} chart`, () => throughputCard(suite, g)));
      return `<h3>${esc(durabilityTitle(d))} <span class="na">(${esc(d)})</span></h3><div class="grid">${cards.join('')}</div>`;
    })
    .join('');
  return (
    legend([
      ...items.values(),
      {
        name: 'limit of this machine (raw disk, page cache or loopback, whichever is lowest)',
        colour: LIMIT_COLOUR,
        light: true,
      },
    ]) + body
  );
}

function latencySection(suite: Suite): string {
  if (suite.error) return problem(`No latency figures: ${esc(suite.error)}.`);
  const rates = [
    ...new Set([
      ...suite.latency.map((c) => c.rate),
      ...suite.runs.filter((r) => r.workload === 'w4').map((r) => num(r.params.ratePerSecond) ?? 0),
    ]),
  ]
    .filter((r) => r > 0)
    .sort((a, b) => a - b);
  if (rates.length === 0) return problem('W4 did not produce latency curves in this run.');
  const cards = rates.map((rate) =>
    safe(`latency at ${rate}/s`, () => {
      const curves = suite.latency.filter((c) => c.rate === rate);
      const multi = new Set(curves.map((c) => c.durability)).size > 1;
      const chartCurves: Curve[] = curves.map((c) => ({
        name: `${targetName(c.target)}${multi ? ` (${c.durability})` : ''}`,
        colour: colourOf(c.target),
        points: c.points,
      }));
      const goals =
        rate === 5000
          ? [
              { percentile: 99, ms: 1, label: 'goal p99 ≤ 1 ms' },
              { percentile: 99.9, ms: 3, label: 'goal p99.9 ≤ 3 ms' },
            ]
          : [];
      const g: Group = {
        workload: 'w4',
        variant: `${rate}/s`,
        durability: 'os-cache',
        rows: suite.runs.filter((r) => r.workload === 'w4' && r.variant === `${rate}/s`),
      };
      const missing = targetsIn(suite, g)
        .filter((t) => !curves.some((c) => c.target === t))
        .map((t) => `<span class="na">— ${esc(targetName(t))}: ${esc(absenceReason(suite, g, t))}</span>`);
      const at = (c: Latency, p: number) =>
        formatValue(c.points.find((x) => x.percentile === p)?.ms ?? null, '');
      const lost = (c: Latency) =>
        c.sent === null || c.received === null ? '—' : formatNumber(Math.max(0, c.sent - c.received));
      const table = curves.length
        ? `<table class="compact"><tr><th>ms</th>${['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max'].map((h) => `<th class="num">${h}</th>`).join('')}<th class="num">lost</th></tr>${curves
            .map(
              (c) =>
                `<tr><td><i class="sw" style="background:${colourOf(c.target)}"></i>${esc(targetName(c.target))}</td>${[50, 90, 99, 99.9, 99.99, 100].map((p) => `<td class="num">${at(c, p)}</td>`).join('')}<td class="num">${lost(c)}</td></tr>`,
            )
            .join('')}</table>`
        : '';
      const title = `W4 · ${rate.toLocaleString('en-US')} records/s offered, 1 KiB values`;
      return card(
        title,
        'send time stamped in each record, consumer long-polling; every repetition merged into one HDR histogram',
        legend(chartCurves.map((c) => ({ name: c.name, colour: c.colour }))) +
          percentileChart({ title, curves: chartCurves, goals }) +
          (missing.length ? `<p class="sub">${missing.join('<br>')}</p>` : '') +
          table,
      );
    }),
  );
  return `<div class="grid">${cards.join('')}</div>`;
}

function cpuSection(suite: Suite): string {
  if (suite.error) return problem(`No CPU figures: ${esc(suite.error)}.`);
  const bars: Bar[] = [];
  for (const g of groupsOf(suite.runs).filter((x) => /^w[123]/.test(x.workload))) {
    const metric = primaryMetric(g);
    for (const target of targetsIn(suite, g)) {
      const row = g.rows.find((r) => r.target === target && r.metric === metric);
      const label = `${workloadLabel(g.workload)}${g.variant ? ` ${g.variant}` : ''}${g.durability === 'fsync-always' && g.workload !== 'w2s' ? ' fsync' : ''} · ${targetName(target)}`;
      const cpu = row?.cpu;
      if (!cpu || cpu.perMB === null) {
        if (row || !isFreshet(target)) continue;
        bars.push({ label, segments: [], note: absenceReason(suite, g, target) });
        continue;
      }
      const server = cpu.server ?? 0;
      const share = server + cpu.client > 0 ? server / (server + cpu.client) : 0;
      bars.push({
        label,
        bold: isFreshet(target),
        segments: [
          { value: cpu.perMB * 1000 * share, colour: colourOf(target) },
          { value: cpu.perMB * 1000 * (1 - share), colour: colourOf(target), light: true },
        ],
        valueText: `${formatNumber(cpu.perMB * 1000)} ms/MB`,
        note: `server ${Math.round(share * 100)}%`,
      });
    }
  }
  if (bars.length === 0) return problem('No workload in this run reported CPU per MB.');
  return (
    legend([
      { name: 'server (broker) CPU', colour: '#4a5562' },
      { name: 'client CPU (same runtime for every target)', colour: '#4a5562', light: true },
    ]) +
    `<div class="card">${barChart({ title: 'CPU per MB moved', unit: 'ms/MB', axis: 'CPU milliseconds per MB of record values (lower is better)', bars, width: 1100, labelWidth: 250, valueWidth: 200 })}</div>`
  );
}

function w6Section(suite: Suite): string {
  const rows = suite.runs.filter((r) => r.workload === 'w6' && isFreshet(r.target));
  if (rows.length === 0) {
    const e = suite.errors.find((x) => x.workload === 'w6');
    return problem(`No W6 figures: ${esc(e?.message ?? suite.error ?? 'not part of this run')}.`);
  }
  const bar = (r: Row): Bar => ({
    label: metricName(r.metric),
    segments: r.median === null ? [] : [{ value: r.median, colour: colourOf('freshet') }],
    min: r.min,
    max: r.max,
    ...(r.median === null ? { note: 'no figure' } : {}),
  });
  const goal = (label: string, value: number): Bar => ({
    label,
    segments: [{ value, colour: LIMIT_COLOUR, light: true }],
  });
  const rss = rows.filter((r) => r.unit === 'MiB');
  const times = rows.filter((r) => r.unit === 's');
  const partitions = num(rows[0]!.params.partitions);
  const sub =
    partitions !== null
      ? `${formatNumber(partitions)} partitions${partitions < 10_000 ? ' (quick run: the goal is for 10,000)' : ''}`
      : '';
  return `<div class="grid">${card('W6 · memory (RSS of the broker)', sub, barChart({ title: 'W6 RSS', unit: 'MiB', bars: [...rss.map(bar), goal('goal: ≤ 2 GiB', 2048)], labelWidth: 160, valueWidth: 120 }))}${card('W6 · times', sub, barChart({ title: 'W6 times', unit: 's', axis: 'seconds', bars: [...times.map(bar), goal('goal: restart ≤ 10 s', 10)], labelWidth: 160, valueWidth: 120 }))}</div>`;
}

// ---- the micro-benchmarks and any other workload

/** Every numeric figure of a result object as `median (min – max)`. */
function figuresTable(r: Obj): string {
  const rows = Object.entries(r)
    .filter(
      ([k, v]) =>
        k !== 'bench' &&
        !/_(min|max)$/.test(k) &&
        (num(v) !== null || typeof v === 'string' || typeof v === 'boolean'),
    )
    .map(([k, v]) => {
      const min = num(r[`${k}_min`]);
      const max = num(r[`${k}_max`]);
      const value = num(v) !== null ? formatNumber(v as number) : esc(String(v));
      return `<tr><td><code>${esc(k)}</code></td><td class="num">${value}</td><td class="num na">${min !== null && max !== null ? `${formatNumber(min)} – ${formatNumber(max)}` : ''}</td></tr>`;
    });
  return `<details><summary>All figures</summary><table><tr><th>figure</th><th class="num">median</th><th class="num">min – max</th></tr>${rows.join('')}</table></details>`;
}

function microBars(r: Obj, items: [string, string, boolean?][], colour = colourOf('freshet')): Bar[] {
  return items
    .filter(([key]) => num(r[key]) !== null)
    .map(([key, label, limit]) => ({
      label,
      segments: [{ value: num(r[key])!, colour: limit ? LIMIT_COLOUR : colour, light: limit === true }],
      min: num(r[`${key}_min`]),
      max: num(r[`${key}_max`]),
    }));
}

function microCard(r: Obj): string {
  const bench = str(r.bench) ?? '?';
  if (r.error) return card(bench, '', problem(`failed: ${esc(String(r.error))}`));
  if (bench === 'storage') {
    const bars = microBars(r, [
      ['append_mb_s', 'append, interval'],
      ['append_concurrent_mb_s', '8 appenders'],
      ['raw_mb_s', 'raw write', true],
      ['fsync_append_mb_s', 'append, always'],
      ['fsync_raw_mb_s', 'raw + fdatasync', true],
      ['read_mb_s', 'read back'],
      ['raw_read_mb_s', 'raw read', true],
    ]);
    return card(
      'Storage · FileLog against the raw disk',
      '16 KiB batches of 1 KiB records; hatched: plain writeSync/readSync of the same bytes',
      barChart({ title: 'storage', unit: 'MB/s', bars, labelWidth: 130 }) + figuresTable(r),
    );
  }
  if (bench === 'ipc') {
    const charts = ['16KiB', '1MiB'].map((size) =>
      barChart({
        title: `ipc ${size}`,
        unit: 'MB/s',
        axis: `MB/s, ${size.replace('KiB', ' KiB').replace('MiB', ' MiB')} batches`,
        labelWidth: 130,
        bars: microBars(r, [
          [`ring_${size}_MBps`, 'shared ring'],
          [`clone_${size}_MBps`, 'postMessage clone'],
          [`transfer_${size}_MBps`, 'transfer'],
          [`transfer_pooled_${size}_MBps`, 'transfer, pooled'],
          [`memcpy_${size}_MBps`, 'memcpy', true],
        ]),
      }),
    );
    return card(
      'IPC · main thread → partition worker',
      'the broker uses the shared-memory ring; hatched: memcpy of the same bytes',
      charts.join('') + figuresTable(r),
    );
  }
  if (bench === 'codecs') {
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd', 'bun_gzip', 'bun_zstd'];
    const chart = (what: string) =>
      barChart({
        title: `codecs ${what}`,
        unit: 'MB/s',
        axis: `MB/s, ${what}`,
        bars: microBars(
          r,
          codecs.map(
            (c) =>
              [
                `${c}_${what}_MBps`,
                `${c.replace('_', ' ')}${num(r[`${c}_ratio`]) ? ` (${r[`${c}_ratio`]}×)` : ''}`,
              ] as [string, string],
          ),
        ),
      });
    return card(
      'Codecs · compress and decompress record batches',
      '16 × 1 KiB JSON records per batch; compression ratio in brackets',
      chart('compress') + chart('decompress') + figuresTable(r),
    );
  }
  if (bench === 'produce') {
    const bars = microBars(r, [
      ['w1_rps', 'W1 records/s'],
      ['w2_rps', 'W2 records/s'],
      ['w3_rps', 'W3 consumer'],
      ['w3_raw_rps', 'W3 raw'],
    ]);
    return card(
      'Produce / consume (single-broker bench)',
      'bench/produce.ts: the client against one broker, records/s',
      barChart({ title: 'produce', unit: 'records/s', bars }) + figuresTable(r),
    );
  }
  return card(bench, 'figures of this workload', figuresTable(r).replace('<details>', '<details open>'));
}

function fairnessSection(run: RunFile, suite: Suite): string {
  const descriptions = new Map<string, Set<string>>();
  for (const r of suite.runs) {
    if (!r.description) continue;
    const key = `${r.target}|${r.durability}`;
    descriptions.set(key, (descriptions.get(key) ?? new Set()).add(r.description));
  }
  const rows = [...descriptions.entries()]
    .sort(
      ([a], [b]) => Number(!a.startsWith('freshet')) - Number(!b.startsWith('freshet')) || a.localeCompare(b),
    )
    .map(([key, set]) => {
      const [target, durability] = key.split('|') as [string, string];
      return `<tr><td class="nw"><i class="sw" style="background:${colourOf(target)}"></i> ${esc(targetName(target))}</td><td class="nw">${esc(durability)}</td><td>${[...set].map(esc).join('<br>')}</td></tr>`;
    });
  const skipped = suite.targets
    .filter((t) => t.status !== 'ran')
    .map(
      (t) =>
        `<tr><td>${esc(targetName(t.name))}</td><td>—</td><td class="na">${esc(t.status)}: ${esc(t.reason ?? '')}</td></tr>`,
    );
  const runtime = str(suite.machine.runtime) ?? run.runtime ?? 'the same runtime';
  return `<ul class="fair">
<li><b>Same records.</b> Every target gets the same number of records with values of the same size (100 B or 1 KiB of random bytes), and MB/s counts value bytes only, on every target and in both directions.</li>
<li><b>Same durability class.</b> Figures are compared only within a class: <i>os-cache</i> (acknowledged once in memory / the page cache: Freshet <code>flush.policy=interval</code>, Redis AOF <code>everysec</code>, NATS JetStream file storage) and <i>fsync-always</i> (acknowledged after an fsync covering the record: Freshet <code>flush.policy=always</code> with group commit, Redis <code>appendfsync always</code>). A target that cannot offer a class is left out of it, not put next to a faster class.</li>
<li><b>Same client runtime.</b> Every client runs in the benchmark process on ${esc(runtime)}; every server runs on 127.0.0.1 on this machine, started by the harness in a fresh temp dir for each repetition and stopped by PID after it.</li>
<li><b>Same accounting.</b> Throughput runs from the first send to the last acknowledgement (or the last record read), after a warm-up off the clock; CPU is the client process plus every server process, over the same interval. Figures are medians over the repetitions; whiskers show min and max.</li>
<li><b>Limits from the same run.</b> Raw sequential writes (buffered, and with fdatasync per MiB), page-cache reads and loopback TCP are measured in this run on this machine; a workload's limit is the lowest that bounds it.</li>
</ul>
<h3>What ran</h3>
<table><tr><th>target</th><th>durability</th><th>as described by the target (<code>describe()</code>)</th></tr>${rows.join('')}${skipped.join('')}</table>`;
}

function machineSection(run: RunFile, suite: Suite): string {
  const m = suite.machine;
  const load = (l: unknown) => (Array.isArray(l) ? l.join(' / ') : '—');
  const la = isObj(m.loadAverage) ? m.loadAverage : (run.loadAverage ?? {});
  const items: [string, unknown][] = [
    ['CPU', `${num(m.nproc) ?? run.cpus ?? '?'} × ${str(m.cpuModel) ?? run.cpuModel ?? '?'}`],
    ['memory', `${formatNumber(((num(m.memoryMiB) ?? run.memoryMiB ?? 0) as number) / 1024)} GiB`],
    ['OS', str(m.platform) ?? run.platform],
    ['runtime', str(m.runtime) ?? run.runtime],
    ['bench dir', str(m.benchDir) ?? run.benchDir ?? 'the OS temp dir'],
    ['load average (1/5/15 min)', `${load((la as Obj).atStart)} at start, ${load((la as Obj).atEnd)} at end`],
    ['commit', `${run.commit ?? '?'}${run.dirty ? ' with uncommitted changes' : ''}`],
    ['started', run.startedAt],
    ['mode', run.quick ? 'quick (about a tenth of the volume, one repetition; figures are noisier)' : 'full'],
  ];
  return `<table>${items.map(([k, v]) => `<tr><th style="width:220px">${esc(k)}</th><td>${esc(String(v ?? '—'))}</td></tr>`).join('')}</table>`;
}

function summaryHtml(rows: SummaryRow[]): string {
  const cell = (s: string) =>
    s.startsWith('—') ? `<td class="na">${esc(s)}</td>` : `<td class="num">${esc(s)}</td>`;
  return `<table><tr><th>workload</th><th class="num">Freshet</th><th class="num">best peer</th><th class="num">limit</th><th>Freshet ÷ limit</th></tr>${rows
    .map(
      (r) =>
        `<tr><td>${esc(r.label)}${r.durability === 'fsync-always' ? ' <span class="na">(fsync)</span>' : ''}</td>${cell(r.freshet).replace('class="num"', 'class="num fr"')}${cell(r.bestPeer)}${cell(r.limit)}<td class="ratio-cell">${r.ratio === null ? '<span class="na">—</span>' : `<span class="ratio"><i style="width:${Math.min(100, r.ratio * 100).toFixed(0)}%"></i></span>${r.ratio.toFixed(2)}`}</td></tr>`,
    )
    .join('')}</table>`;
}

function goalsHtml(rows: GoalRow[]): string {
  return `<table><tr><th>workload</th><th>best peer measured here</th><th>goal for Freshet</th><th>Freshet in this run</th><th>status</th></tr>${rows
    .map(
      (g) =>
        `<tr><td><b>${esc(g.label)}</b></td><td>${esc(g.peer.replace(/`/g, ''))}</td><td>${esc(g.goal)}</td><td>${esc(g.measured)}</td><td><span class="status ${g.status.replace(' ', '-')}">${esc(g.status)}</span></td></tr>`,
    )
    .join('')}</table>`;
}

function problemsHtml(run: RunFile, suite: Suite): string {
  const out: string[] = [];
  for (const r of (run.results ?? []).filter(isObj))
    if (r.error) out.push(`workload <b>${esc(String(r.bench))}</b> failed: ${esc(String(r.error))}`);
  for (const e of suite.errors)
    out.push(
      `suite: <b>${esc(workloadLabel(e.workload))}</b> on ${esc(targetName(e.target))}${e.durability ? ` (${esc(e.durability)})` : ''} failed: ${esc(e.message)}`,
    );
  const busy = busyMachine(run);
  const notes = [
    ...(busy ? [`<li><b>${esc(busy)}</b></li>`] : []),
    ...suite.notes.map((n) => `<li>${esc(n)}</li>`),
  ];
  return (
    (out.length ? problem(`<b>Problems in this run</b><br>${out.join('<br>')}`) : '') +
    (notes.length ? `<div class="note"><b>Notes</b><ul>${notes.join('')}</ul></div>` : '')
  );
}

export function renderHtml(run: RunFile): string {
  const suite = readSuite(run);
  const title = `Freshet load-test report — ${run.startedAt ?? 'unknown date'}`;
  const others = (run.results ?? []).filter((r) => isObj(r) && r.bench !== 'suite');
  const peers = suite.targets.filter((t) => !isFreshet(t.name));
  const peerLine = peers.length
    ? peers.map((p) => `${targetName(p.name)}: ${p.status}${p.reason ? ` (${p.reason})` : ''}`).join(' · ')
    : (suite.error ?? 'no peers');
  const sections = [
    `<h2>At a glance</h2><p class="lead">Each workload's main figure (median over the repetitions) for Freshet, the best peer in the same durability class, and this machine's limit for it. Peers: ${esc(peerLine)}.</p>${safe('summary', () => summaryHtml([...summaryRows(suite), ...microRows(run)]))}`,
    `<h3>Goals (issue 4)</h3>${safe('goals', () => goalsHtml(goalRows(suite)))}`,
    ...(suite.error === SUITE_ABSENT
      ? [
          '<div class="note">The comparative suite (W1–W6 against the peers and the limits) was not part of this run: <code>npm run bench -- suite</code> runs it.</div>',
        ]
      : [
          `<h2>Throughput</h2><p class="lead">Freshet against the peers and the machine's limit, one chart per workload, grouped by durability class so that only like is compared with like. Bars are medians, whiskers min–max; a hatched limit bar cut at the right edge is larger than the scale.</p>${safe('throughput', () => throughputSection(suite))}`,
          `<h2>Latency</h2><p class="lead">End-to-end latency (send → consumer receives) by percentile, HdrHistogram style: the percentile axis stretches the tail, the latency axis is logarithmic. Diamonds are issue 4's goals.</p>${safe('latency', () => latencySection(suite))}`,
          `<h2>CPU per MB moved</h2><p class="lead">Server plus client CPU time per MB (10<sup>6</sup> bytes) of record values produced or consumed: what each MB costs, whatever the throughput.</p>${safe('CPU', () => cpuSection(suite))}`,
          `<h2>Many partitions (W6)</h2>${safe('W6', () => w6Section(suite))}`,
        ]),
    others.length
      ? `<h2>Micro-benchmarks</h2><p class="lead">The hot paths on their own, each beside the plain operation it wraps.</p><div class="grid">${others.map((r) => safe(`${String(r.bench)} workload`, () => microCard(r))).join('')}</div>`
      : '',
    suite.error === SUITE_ABSENT
      ? ''
      : `<h2>How the comparison is fair</h2>${safe('fairness', () => fairnessSection(run, suite))}`,
    `<h2>Machine</h2>${safe('machine', () => machineSection(run, suite))}`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><header class="top"><div><h1>Freshet load-test report <span class="pill">${run.quick ? 'quick run' : 'full run'}</span></h1>
<p>${esc([run.startedAt ?? '', `commit ${run.commit ?? '?'}${run.dirty ? ' + uncommitted changes' : ''}`, `${run.cpus ?? '?'} × ${run.cpuModel ?? '?'}`, run.runtime ?? ''].filter(Boolean).join(' · '))}</p></div></header>
<main>${problemsHtml(run, suite)}${sections.join('\n')}
<footer>Made by <code>bench/report.ts</code> from <code>results.json</code> in this directory. Regenerate with <code>bun bench/report.ts &lt;run dir&gt;</code> or <code>npm run bench -- --report-only &lt;run dir&gt;</code>; a new run: <code>npm run bench</code> (<code>-- --quick</code> for the short one). MB = 10<sup>6</sup> bytes.</footer>
</main></body></html>
`;
}

// ------------------------------------------------------------------ Markdown

const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The summary table alone (suite rows, then the micro-benchmarks), as Markdown. */
export function summaryMarkdown(run: RunFile): string {
  const suite = readSuite(run);
  const rows = [...summaryRows(suite), ...microRows(run)];
  const lines = ['| workload | Freshet | best peer | limit | ratio |', '|---|---|---|---|---|'];
  if (suite.error) lines.push(`| suite | — (${mdCell(suite.error)}) | — | — | — |`);
  for (const r of rows) {
    const label = `${r.label}${r.durability === 'fsync-always' && r.workload !== 'w2s' ? ' (fsync)' : ''}`;
    lines.push(
      `| ${mdCell(label)} | ${mdCell(r.freshet)} | ${mdCell(r.bestPeer)} | ${mdCell(r.limit)} | ${r.ratio === null ? '—' : r.ratio.toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

export function goalsMarkdown(run: RunFile): string {
  const lines = [
    '| workload | best peer measured here | goal for Freshet | Freshet in this run | status |',
    '|---|---|---|---|---|',
  ];
  for (const g of goalRows(readSuite(run))) {
    const status = g.status === 'not met' ? '**not met**' : g.status;
    lines.push(`| ${g.label} | ${mdCell(g.peer)} | ${mdCell(g.goal)} | ${mdCell(g.measured)} | ${status} |`);
  }
  return lines.join('\n');
}

/** The lines under the summary table: which peers ran, and whether the machine was busy. */
function summaryFootnotes(run: RunFile): string[] {
  const peers = readSuite(run).targets.filter((t) => !isFreshet(t.name));
  const busy = busyMachine(run);
  return [
    ...(peers.length
      ? [
          `Peers: ${peers.map((p) => `${targetName(p.name)} ${p.status}${p.reason ? ` (${p.reason})` : ''}`).join('; ')}.`,
        ]
      : []),
    ...(busy ? [`**Warning:** ${busy}.`] : []),
  ];
}

export function renderMarkdown(run: RunFile): string {
  const suite = readSuite(run);
  const failed = (run.results ?? [])
    .filter((r) => isObj(r) && r.error)
    .map((r) => `- ${r.bench} failed: ${r.error}`);
  const suiteErrors = suite.errors.map(
    (e) => `- suite ${workloadLabel(e.workload)} on ${e.target}: ${e.message}`,
  );
  return [
    `# Freshet load-test report: ${run.startedAt ?? 'unknown date'}`,
    '',
    `${run.quick ? 'Quick run (about a tenth of the volume, one repetition)' : 'Full run'} · commit ${run.commit ?? '?'}${run.dirty ? ' with uncommitted changes' : ''} · ${run.cpus ?? '?'} × ${run.cpuModel ?? '?'}, ${formatNumber((run.memoryMiB ?? 0) / 1024)} GiB · ${run.platform ?? '?'} · ${run.runtime ?? '?'}`,
    '',
    '## Summary',
    '',
    summaryMarkdown(run),
    '',
    'Medians over the repetitions. *best peer*: the best of Redis Streams and NATS JetStream in the same durability class; ' +
      "*limit*: this machine's raw ceiling for the workload (disk, page cache or loopback TCP, whichever is lowest), in the workload's unit; *ratio*: Freshet ÷ limit.",
    ...summaryFootnotes(run),
    '',
    '## Goals (issue 4)',
    '',
    goalsMarkdown(run),
    '',
    ...(failed.length || suiteErrors.length ? ['## Problems', '', ...failed, ...suiteErrors, ''] : []),
    ...(suite.notes.length ? ['## Notes', '', ...suite.notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
}

// ------------------------------------------------------------------ files

/** `dir/results.json` or the file itself. */
export function resultsPath(path: string): string {
  return statSync(path).isDirectory() ? join(path, 'results.json') : path;
}

export interface Written {
  htmlPath: string;
  mdPath: string;
  /** The summary and goals tables, for the console. */
  summary: string;
}

/** Reads a run's results.json and writes report.html and report.md next to it. */
export function writeReport(path: string): Written {
  const file = resultsPath(path);
  const run = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
  const dir = dirname(file);
  const htmlPath = join(dir, 'report.html');
  const mdPath = join(dir, 'report.md');
  writeFileSync(htmlPath, renderHtml(run));
  writeFileSync(mdPath, renderMarkdown(run));
  const footnotes = summaryFootnotes(run).join('\n');
  return {
    htmlPath,
    mdPath,
    summary: `${summaryMarkdown(run)}\n${footnotes ? `\n${footnotes}\n` : ''}\n${goalsMarkdown(run)}`,
  };
}

if (import.meta.main) {
  const target = process.argv[2];
  if (!target) {
    process.stderr.write('usage: bun bench/report.ts <bench/results/<timestamp> | results.json>\n');
    process.exit(2);
  }
  const written = writeReport(target);
  process.stderr.write(`report: ${written.htmlPath}\nreport: ${written.mdPath}\n`);
  process.stdout.write(`${written.summary}\n`);
}
