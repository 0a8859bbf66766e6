/**
 * @module
 * Replication under faults (run by test/cluster/fault-checker.ts, checked by fault-verify.ts): producers
 * with unique values and acks=all while brokers are killed with SIGKILL and restarted, frozen with
 * SIGSTOP, and etcd is killed once; after healing, every acknowledged value is at its offset, no value
 * appears more often than it was sent, and the three replicas are byte-identical below the high watermark.
 * Real processes; the run lasts FRESHET_TEST_FAULT_SECONDS (default 25; `npm run chaos` runs longer), its
 * schedule seeded by FRESHET_TEST_FAULT_SEED.
 */
import { describe, expect, it } from 'vitest';
import { runFaultCheck } from './fault-checker.ts';
import { formatReport } from './fault-verify.ts';

const SECONDS = Number(process.env.FRESHET_TEST_FAULT_SECONDS ?? 25);
const SEED = Number(process.env.FRESHET_TEST_FAULT_SEED ?? 7);
/** Below this many acknowledged values the run proved nothing (a stalled cluster acknowledges none). */
const MIN_ACKED = Math.max(100, SECONDS * 10);

describe('replication under kills, pauses and an etcd restart', () => {
  it(
    `loses no acknowledged value, duplicates only retried ones and keeps replicas identical (${SECONDS} s)`,
    async () => {
      expect(Number.isFinite(SECONDS) && SECONDS > 0, 'FRESHET_TEST_FAULT_SECONDS').toBe(true);
      const report = await runFaultCheck({ seconds: SECONDS, seed: SEED });
      console.log(formatReport(report));
      expect(report.violations).toEqual([]);
      expect(report.lost).toBe(0);
      expect(report.misplaced).toBe(0);
      expect(report.unexplainedDuplicates).toBe(0);
      expect(report.unknown).toBe(0);
      expect(report.orderViolations).toBe(0);
      expect(report.divergentPartitions).toBe(0);
      expect(report.healMs).not.toBeNull();
      expect(report.acked).toBeGreaterThanOrEqual(MIN_ACKED);
      expect(report.faults.kill + report.faults.pause).toBeGreaterThan(0);
      // The etcd outage is scheduled in the run's first half, so a run of 20 s or more always has it.
      if (SECONDS >= 20) expect(report.faults['etcd-kill']).toBe(1);
      expect(report.partitions).toHaveLength(3);
    },
    SECONDS * 1000 + 240_000,
  );
});
