/**
 * @module
 * The verdict of a fault check (test/cluster/fault-checker.ts runs it): after the cluster has healed, it
 * reads every partition from its leader and every replica's segment files, and checks:
 *
 * - every acknowledged value is in its partition, at the offset it was acknowledged with (`lost`,
 *   `misplaced`);
 * - no value appears more often than it was sent: twice only if the producer retried it (`unexplained
 *   duplicates`), and no value appears that was never sent to that partition (`unknown`);
 * - the log respects real time: a value acknowledged before another was first sent has the lower offset
 *   (`order violations`), and has no gaps;
 * - all three replicas' segment files, parsed as RecordBatches (CRC checked), are byte-identical over every
 *   batch below the high watermark (a SHA-256 per replica).
 *
 * It knows the run only through CheckedRun (what was sent, where the brokers are, where to record what it
 * finds), and formats the report the test and `npm run chaos` print. Its getJson is the checker's too.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkBatch } from '../../src/records/batch-header.ts';
import { waitFor } from './support.ts';

export interface PartitionReport {
  partition: number;
  leader: number;
  highWatermark: number;
  /** SHA-256 (hex, first 16 digits) of each replica's batches below the high watermark, by node id. */
  hashes: Record<number, string>;
}

/** What verification found, counted (each also listed among the violations, but the allowed ones). */
export interface Findings {
  /** Acknowledged values missing from their partition. */
  lost: number;
  /** Acknowledged values in their partition, but not at the offset acknowledged. */
  misplaced: number;
  /** Values in the log more often than they were sent. */
  unexplainedDuplicates: number;
  /** Values in the log more than once, each of them retried (allowed). */
  retriedDuplicates: number;
  /** Values in a partition they were never sent to. */
  unknown: number;
  /** Values never acknowledged that are in the log all the same (allowed: their outcome was unknown). */
  unackedPresent: number;
  /** Acknowledged values ordered against real time. */
  orderViolations: number;
  divergentPartitions: number;
}

/** The nemesis's faults, as the report counts them. */
export type FaultKind = 'kill' | 'pause' | 'etcd-kill';

/** What runFaultCheck (fault-checker.ts) returns and formatReport prints. */
export interface FaultCheckReport extends Findings {
  seed: number;
  seconds: number;
  /** Distinct values sent. */
  sent: number;
  /** Produce requests (first attempts and retries). */
  attempts: number;
  acked: number;
  /** Failed produce requests: each may or may not have been appended. */
  indeterminate: number;
  /** Failed requests by reason (`timeout`, `network`, or the error code). */
  failures: Record<string, number>;
  /** Values sent more than once. */
  retried: number;
  /** Values never acknowledged (given up after fault-checker.ts's MAX_ATTEMPTS, or cut by the deadline). */
  unacked: number;
  faults: Record<FaultKind, number>;
  /** How long the cluster took to heal after the faults ended; null if it never did. */
  healMs: number | null;
  partitions: PartitionReport[];
  /**
   * Every violation found (the first MAX_LISTED of fault-checker.ts in detail); empty when the run is
   * correct.
   */
  violations: string[];
  /** The kept work dir (data dirs, broker and etcd logs) with a violation or `keep`, else null. */
  workDir: string | null;
}

/** A value as its producer sent it: where to, how often, and whether and where it was acknowledged. */
export interface SentValue {
  value: string;
  partition: number;
  attempts: number;
  /** performance.now() when first sent. */
  firstSentAt: number;
  acked: { offset: number; at: number } | null;
  /** Each attempt, for violation messages: `broker 2 at 23:51:05.712 → offset 17 (380 ms)`. */
  history: string[];
}

/** What verify needs of a run whose cluster has healed: its shape, what was sent, and where to record. */
export interface CheckedRun {
  topic: string;
  /** Partitions of `topic`, numbered from 0. */
  partitionCount: number;
  /** The brokers, each holding a replica of every partition. */
  nodeIds: readonly number[];
  /** Every value sent, by value. */
  sent: ReadonlyMap<string, SentValue>;
  /** Each broker's address, by node id. */
  brokerUrls: ReadonlyMap<number, string>;
  /** A partition's leader in the cluster's current view, -1 if it has none; throws if no broker answers. */
  leaderOf(partition: number): Promise<number>;
  /** A broker's data dir. */
  dataDir(nodeId: number): string;
  /** Records a violation. */
  violation(text: string): void;
  /** Counted into as verify goes. */
  found: Findings;
  /** Appended to, one per partition checked (so those checked before a failure are still reported). */
  partitions: PartitionReport[];
}

export interface ErrorBody {
  error?: { code?: string; message?: string };
}

interface RecordsBody {
  records: Array<{ offset: number; value: string | null }>;
  nextOffset: number;
  highWatermark: number;
}

/**
 * GET as JSON (the checker's own requests too); throws on a non-200 answer (with its error code) or after
 * `timeoutMs`.
 */
export async function getJson<T>(url: string, timeoutMs: number): Promise<T> {
  const res = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) {
    let code = `HTTP ${res.status}`;
    try {
      code = (JSON.parse(text) as ErrorBody).error?.code ?? code;
    } catch {
      // Not JSON: keep the status.
    }
    throw new Error(`GET ${url}: ${code}`);
  }
  return JSON.parse(text) as T;
}

/** Every record of a partition up to its high watermark, read from its leader. */
async function readPartition(
  run: CheckedRun,
  partition: number,
): Promise<{ leader: number; highWatermark: number; records: RecordsBody['records'] }> {
  const { value } = await waitFor(`a full read of partition ${partition}`, 20_000, async () => {
    const leader = await run.leaderOf(partition);
    const url = run.brokerUrls.get(leader);
    if (url === undefined) throw new Error(`partition ${partition} has no leader (${leader})`);
    const records: RecordsBody['records'] = [];
    let offset = 0;
    let highWatermark = Number.POSITIVE_INFINITY;
    while (offset < highWatermark) {
      const body = await getJson<RecordsBody>(
        `${url}/v1/topics/${run.topic}/partitions/${partition}/records?offset=${offset}&maxBytes=1048576`,
        10_000,
      );
      highWatermark = body.highWatermark;
      if (body.records.length === 0 && offset < highWatermark) {
        throw new Error(
          `partition ${partition}: no records at ${offset} below the high watermark ${highWatermark}`,
        );
      }
      records.push(...body.records);
      offset = body.nextOffset;
    }
    return { leader, highWatermark, records };
  });
  return value;
}

/** A replica's batches below `highWatermark`, from its segment files: SHA-256 and the offset they end at. */
function replicaDigest(
  dataDir: string,
  topic: string,
  partition: number,
  highWatermark: number,
): { hash: string; endOffset: number; problem: string | null } {
  const dir = path.join(dataDir, `${topic}-${partition}`);
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .sort();
  const hash = createHash('sha256');
  let endOffset = 0;
  for (const name of files) {
    const bytes = readFileSync(path.join(dir, name));
    for (let pos = 0; pos < bytes.length; ) {
      let header: ReturnType<typeof checkBatch>;
      try {
        header = checkBatch(bytes, pos);
      } catch (err) {
        // A torn tail past the high watermark is the broker's to truncate; below it, corruption.
        if (endOffset < highWatermark) {
          const reason = err instanceof Error ? err.message : String(err);
          return { hash: '', endOffset, problem: `${name} at byte ${pos}: ${reason}` };
        }
        break;
      }
      const lastOffset = header.baseOffset + header.lastOffsetDelta;
      if (lastOffset < highWatermark) {
        if (header.baseOffset !== endOffset) {
          const problem = `${name}: batch at offset ${header.baseOffset} follows offset ${endOffset - 1}`;
          return { hash: '', endOffset, problem };
        }
        hash.update(bytes.subarray(pos, pos + header.sizeInBytes));
        endOffset = lastOffset + 1;
      }
      pos += header.sizeInBytes;
    }
  }
  return { hash: hash.digest('hex').slice(0, 16), endOffset, problem: null };
}

/** Reads every partition and every replica's files, and checks them against what was sent and acked. */
export async function verify(run: CheckedRun): Promise<void> {
  const { found } = run;
  for (let partition = 0; partition < run.partitionCount; partition++) {
    const { leader, highWatermark, records } = await readPartition(run, partition);
    const atOffset = new Map<number, string | null>();
    const copies = new Map<string, number>();
    const offsetsOf = new Map<string, number[]>();
    for (const [i, record] of records.entries()) {
      if (i > 0 && record.offset !== records[i - 1]!.offset + 1) {
        run.violation(`partition ${partition}: offset ${record.offset} follows ${records[i - 1]!.offset}`);
      }
      atOffset.set(record.offset, record.value);
      const value = record.value ?? '<null>';
      copies.set(value, (copies.get(value) ?? 0) + 1);
      offsetsOf.set(value, [...(offsetsOf.get(value) ?? []), record.offset]);
    }
    for (const [value, count] of copies) {
      const entry = run.sent.get(value);
      if (entry === undefined || entry.partition !== partition) {
        found.unknown++;
        run.violation(`partition ${partition}: value '${value}' was never sent to it (${count}x)`);
      } else if (count > entry.attempts) {
        found.unexplainedDuplicates++;
        run.violation(
          `partition ${partition}: '${value}' appears ${count} times (offsets ${offsetsOf.get(value)!.join(', ')}) ` +
            `but was sent ${entry.attempts} time(s): ${entry.history.join('; ')}`,
        );
      } else if (count > 1) {
        found.retriedDuplicates++;
      }
      if (entry?.acked === null && entry.partition === partition) found.unackedPresent++;
    }
    const acked = [...run.sent.values()].filter((v) => v.partition === partition && v.acked !== null);
    for (const entry of acked) {
      const offset = entry.acked!.offset;
      const holds = atOffset.get(offset) ?? '(nothing)';
      if (holds === entry.value) continue;
      if (copies.has(entry.value)) {
        found.misplaced++;
        run.violation(
          `partition ${partition}: '${entry.value}' was acked at offset ${offset}, which holds ` +
            `'${holds}'; the value is at ${offsetsOf.get(entry.value)!.join(', ')}: ` +
            entry.history.join('; '),
        );
      } else {
        found.lost++;
        run.violation(
          `partition ${partition}: '${entry.value}' was acked at offset ${offset} (high watermark ` +
            `${highWatermark}) and is gone; the offset holds '${holds}': ${entry.history.join('; ')}`,
        );
      }
    }
    // Real-time order: walking down the offsets, a value whose first send came after some higher-offset
    // value was already acknowledged would have been appended after it.
    let earliestAckAbove = Number.POSITIVE_INFINITY;
    let earliestAckAboveValue = '';
    for (const entry of [...acked].sort((a, b) => b.acked!.offset - a.acked!.offset)) {
      if (earliestAckAbove < entry.firstSentAt) {
        found.orderViolations++;
        run.violation(
          `partition ${partition}: '${entry.value}' (offset ${entry.acked!.offset}) was first sent after ` +
            `'${earliestAckAboveValue}' (a higher offset) was acknowledged`,
        );
      }
      if (entry.acked!.at < earliestAckAbove) {
        earliestAckAbove = entry.acked!.at;
        earliestAckAboveValue = entry.value;
      }
    }

    const hashes: Record<number, string> = {};
    for (const nodeId of run.nodeIds) {
      const digest = replicaDigest(run.dataDir(nodeId), run.topic, partition, highWatermark);
      if (digest.problem !== null) {
        run.violation(`partition ${partition}, replica ${nodeId}: ${digest.problem}`);
      } else if (digest.endOffset !== highWatermark) {
        run.violation(
          `partition ${partition}, replica ${nodeId}: its batches below the high watermark ${highWatermark} ` +
            `end at ${digest.endOffset}`,
        );
      }
      hashes[nodeId] = digest.hash || '(unreadable)';
    }
    if (new Set(Object.values(hashes)).size !== 1) {
      found.divergentPartitions++;
      run.violation(
        `partition ${partition}: replicas differ below the high watermark: ${JSON.stringify(hashes)}`,
      );
    }
    run.partitions.push({ partition, leader, highWatermark, hashes });
  }
}

/** The report as the lines the test and the command print. */
export function formatReport(report: FaultCheckReport): string {
  const failures = Object.entries(report.failures)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, count]) => `${reason} ${count}`)
    .join(', ');
  const lines = [
    `fault check (seed ${report.seed}, ${report.seconds} s):`,
    `  sent ${report.sent} values in ${report.attempts} requests; acked ${report.acked}; ` +
      `indeterminate ${report.indeterminate} requests${failures ? ` (${failures})` : ''}`,
    `  retried ${report.retried} values; unacked ${report.unacked} (of which in the log: ${report.unackedPresent}); ` +
      `duplicates of retried values ${report.retriedDuplicates}`,
    `  lost ${report.lost}, misplaced ${report.misplaced}, unexplained duplicates ${report.unexplainedDuplicates}, ` +
      `unknown values ${report.unknown}, order violations ${report.orderViolations}, ` +
      `divergent partitions ${report.divergentPartitions}`,
    `  faults: kill -9 ${report.faults.kill}, SIGSTOP ${report.faults.pause}, etcd kill ${report.faults['etcd-kill']}; ` +
      `healed ${report.healMs === null ? 'never' : `in ${(report.healMs / 1000).toFixed(1)} s`}`,
    ...report.partitions.map(
      (p) =>
        `  partition ${p.partition}: leader ${p.leader}, high watermark ${p.highWatermark}, replica sha256 ` +
        Object.entries(p.hashes)
          .map(([nodeId, hash]) => `${nodeId}=${hash}`)
          .join(' '),
    ),
    report.violations.length === 0
      ? '  no violations'
      : `  VIOLATIONS:\n${report.violations.map((v) => `    - ${v}`).join('\n')}`,
  ];
  if (report.workDir !== null) lines.push(`  kept for inspection: ${report.workDir}`);
  return lines.join('\n');
}
