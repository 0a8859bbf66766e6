/**
 * @module
 * Leader epochs as a replicated log records them: the leader writes its epoch into every batch it appends
 * (`partitionLeaderEpoch`), followers keep the leader's batches as they are, so along one log the epochs
 * never decrease. That makes "where did epoch E end?" a binary search over offsets, answered from the
 * batch headers alone: no epoch cache file to keep in step with the log (Kafka keeps one,
 * `leader-epoch-checkpoint`; here the log is its own record, at the price of O(log n) header reads, which
 * happen only when a replica starts following a new leader).
 */
import fs from 'node:fs';
import type { LogSlice, PartitionLog } from './partition-log.ts';

/** Byte offset of partitionLeaderEpoch (int32) in a RecordBatch v2 header. */
const EPOCH_POSITION = 12;

function epochOfSlice(slice: LogSlice): number {
  if (slice.kind === 'bytes') {
    return new DataView(slice.bytes.buffer, slice.bytes.byteOffset + EPOCH_POSITION, 4).getInt32(0);
  }
  const buf = Buffer.alloc(4);
  const fd = fs.openSync(slice.path, 'r');
  try {
    fs.readSync(fd, buf, 0, 4, slice.position + EPOCH_POSITION);
  } finally {
    fs.closeSync(fd);
  }
  return buf.readInt32BE(0);
}

/** The leader epoch of the batch holding `offset` (logStartOffset <= offset < logEndOffset). */
export async function epochAt(log: PartitionLog, offset: number): Promise<number> {
  const read = await log.read(offset, 1);
  const first = read.slices[0];
  if (first === undefined) throw new Error(`no batch holds offset ${offset}`);
  return epochOfSlice(first);
}

/** The epoch of the log's last batch; -1 when the log holds none. */
export async function lastEpoch(log: PartitionLog): Promise<number> {
  if (log.logEndOffset <= log.logStartOffset) return -1;
  return epochAt(log, log.logEndOffset - 1);
}

export interface EpochEnd {
  /** The largest epoch in the log that is <= the one asked about; -1 when the log has none. */
  epoch: number;
  /** Where that epoch ends: the first offset of a later epoch, or logEndOffset. */
  endOffset: number;
}

/**
 * Kafka's OffsetsForLeaderEpoch, answered from the log: the largest epoch present that is <= `epoch`, and
 * the offset at which it ends. A follower whose last batch has epoch E asks the leader this for E, then cuts
 * its own log at the smaller of the leader's end and its own end for the answered epoch: what is left is a
 * prefix of the leader's log.
 */
export async function epochEnd(log: PartitionLog, epoch: number): Promise<EpochEnd> {
  let lo = log.logStartOffset;
  let hi = log.logEndOffset;
  // First offset whose batch's epoch is > epoch (hi when there is none).
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await epochAt(log, mid)) > epoch) hi = mid;
    else lo = mid + 1;
  }
  if (lo <= log.logStartOffset) return { epoch: -1, endOffset: log.logStartOffset };
  return { epoch: await epochAt(log, lo - 1), endOffset: lo };
}
