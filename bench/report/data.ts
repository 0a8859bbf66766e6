/** @module The report's data: reads a run's results.json defensively, names and formats its figures, and picks the summary rows, limits and goals the report shows. */
import { FRESHET_GOALS } from '../goals.ts';

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

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
export const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
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

export const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

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
export function colourOf(target: string): string {
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
export const durabilityTitle = (d: string) => DURABILITY_TITLES[d] ?? d;
export const durabilityRank = (d: string) => (d === 'os-cache' ? 0 : d === 'fsync-always' ? 1 : 2);
/** '5000/s' → '5,000/s'. */
export const variantText = (v: string) => v.replace(/\d{4,}/g, (n) => Number(n).toLocaleString('en-US'));

/** Short names for tables; bench/suite.ts's `workloads[].title` is the long one. */
export const SHORT_TITLES: Record<string, string> = {
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
export const metricName = (m: string) => METRIC_NAMES[m] ?? m.replace(/_/g, ' ');
export function unitOfMetric(metric: string): string {
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
export function peersFor(suite: Suite, workload: string): string[] {
  if (workload === 'w5' || workload === 'w6') return [];
  const fromTargets = suite.targets.map((t) => t.name).filter((t) => !isFreshet(t));
  const fromRuns = suite.runs.map((r) => r.target).filter((t) => !isFreshet(t));
  return [...new Set([...fromTargets, ...fromRuns])];
}

/** Why `target` has no figure in group `g`. */
export function absenceReason(suite: Suite, g: Group, target: string): string {
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

/** Freshet's figures from the micro-benchmarks (storage, ipc, groups, kafka), each against the limit it runs beside. */
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
    } else if (r.bench === 'replication') {
      // RF=3 against RF=1 in the same cluster; the ratio is the median of the paired per-repetition ratios.
      add(
        r,
        'replication: W2 RF=3 acks=all vs RF=1',
        'w2_rf3_rps',
        'w2_rf1_rps',
        'RF=1, same cluster',
        'records/s',
      );
      const paired = num(r.w2_rf3_rf1_ratio);
      if (paired !== null && out.length > 0) out[out.length - 1]!.ratio = paired;
    } else if (r.bench === 'groups') {
      // Times have no limit; the group's consume rate is set against one consumer reading the same partitions.
      add(r, 'groups: 10 members join, cooperative-sticky', 'join_stable_cooperative_ms', '', '', 'ms');
      add(r, 'groups: 10 members join, range', 'join_stable_range_ms', '', '', 'ms');
      add(r, 'groups: rebalance after one leaves, cooperative', 'leave_stable_cooperative_ms', '', '', 'ms');
      add(r, 'groups: rebalance after one leaves, range', 'leave_stable_range_ms', '', '', 'ms');
      add(
        r,
        'groups: 4-member group consume',
        'group_consume_rps',
        'plain_consume_rps',
        'one consumer, assign()',
        'records/s',
      );
      // The bench's own ratio pairs each repetition with its neighbour in time: steadier than median ÷ median.
      const paired = num(r.group_plain_ratio);
      if (paired !== null && out.length > 0) out[out.length - 1]!.ratio = paired;
    } else if (r.bench === 'kafka') {
      // Kafka clients on the Kafka door against Freshet's HTTP client on the HTTP door, same broker, same run.
      const workloads = [
        ['w1', 'W1 produce 100 B'],
        ['w2', 'W2 produce 1 KiB'],
        ['w3_100', 'W3 consume 100 B'],
        ['w3_1k', 'W3 consume 1 KiB'],
      ] as const;
      for (const [w, label] of workloads) {
        for (const client of ['kcat', 'kafkajs'] as const) {
          add(
            r,
            `kafka: ${label}, ${client}`,
            `${w}_${client}_rps`,
            `${w}_http_rps`,
            'HTTP client',
            'records/s',
          );
          const paired = num(r[`${w}_${client}_vs_http`]);
          if (paired !== null) out[out.length - 1]!.ratio = paired;
        }
      }
    }
  }
  return out;
}

// ------------------------------------------------------------------ goals (issue 4)

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
      : FRESHET_GOALS.map((g) => {
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
