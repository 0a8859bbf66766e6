/** @module Renders a run as report.md: the summary and goals tables, footnotes and notes. */
import {
  busyMachine,
  formatNumber,
  goalRows,
  isFreshet,
  isObj,
  microRows,
  type RunFile,
  readSuite,
  summaryRows,
  targetName,
  workloadLabel,
} from './data.ts';

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
export function summaryFootnotes(run: RunFile): string[] {
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
