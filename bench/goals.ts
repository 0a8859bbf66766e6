/**
 * @module
 * Issue 4's goals for Freshet on this kind of machine, declared once: the suite checks its medians against
 * them, and the report falls back to them for results written before the suite carried its own goal rows.
 */

export interface Goal {
  workload: string;
  variant: string | null;
  metric: string;
  comparison: '>=' | '<=';
  goal: number;
}

export const FRESHET_GOALS: readonly Goal[] = [
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
