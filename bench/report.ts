/** @module Turns a run's results.json into report.html (inline SVG charts: no scripts, no network) and report.md (summary and goals tables): `bun bench/report.ts <run dir | results.json>`. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunFile } from './report/data.ts';
import { renderHtml } from './report/html.ts';
import { goalsMarkdown, renderMarkdown, summaryFootnotes, summaryMarkdown } from './report/markdown.ts';

/*
 * The pieces live under bench/report/: data.ts reads results.json and picks the figures and goals, svg.ts draws
 * the charts, html.ts and markdown.ts render the two reports. This file re-exports what bench/run.ts,
 * bench/baseline.ts and the tests import, writes the files, and is the command-line entry.
 */

export {
  busyMachine,
  formatNumber,
  formatValue,
  type GoalRow,
  type Group,
  goalRows,
  groupsOf,
  higherIsBetter,
  isByteRate,
  isFreshet,
  type Latency,
  LIMIT_COLOUR,
  LIMIT_LABELS,
  type Limit,
  limitFor,
  microRows,
  primaryMetric,
  type Row,
  type RunFile,
  readSuite,
  SUITE_ABSENT,
  type Suite,
  type SummaryRow,
  summaryRows,
  targetName,
  workloadLabel,
} from './report/data.ts';
export { renderHtml } from './report/html.ts';
export { goalsMarkdown, renderMarkdown, summaryMarkdown } from './report/markdown.ts';
export { type Bar, barChart, type Curve, esc, percentileChart } from './report/svg.ts';

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
