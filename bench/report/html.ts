/** @module Renders a run as report.html: the sections, tables and inline SVG charts. */
import {
  absenceReason,
  busyMachine,
  colourOf,
  durabilityRank,
  durabilityTitle,
  formatNumber,
  formatValue,
  type GoalRow,
  type Group,
  goalRows,
  groupsOf,
  isFreshet,
  isObj,
  type Latency,
  LIMIT_COLOUR,
  limitFor,
  message,
  metricName,
  microRows,
  num,
  type Obj,
  peersFor,
  primaryMetric,
  type Row,
  type RunFile,
  readSuite,
  SHORT_TITLES,
  SUITE_ABSENT,
  type Suite,
  type SummaryRow,
  str,
  summaryRows,
  targetName,
  unitOfMetric,
  variantText,
  workloadLabel,
} from './data.ts';
import { type Bar, barChart, type Curve, esc, percentileChart } from './svg.ts';

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
