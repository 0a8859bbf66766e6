/** @module Hand-written SVG charts for the report (bar charts and HdrHistogram-style percentile curves): no scripts, no network. */
import { formatNumber, formatValue } from './data.ts';

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
