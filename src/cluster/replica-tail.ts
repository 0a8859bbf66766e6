/**
 * @module
 * The leader's copy of what it appended last, per partition, so it can answer its followers' fetches for
 * the newest records from memory: no round trip to the partition worker, no file read, on the path every
 * acks=all produce waits on. The bytes are exactly those the log stored (the client's batches with the
 * baseOffset and partitionLeaderEpoch the append gave them; neither is covered by the batch CRC, and the log
 * rewrites nothing else). One budget bounds all partitions together; the oldest appends go first.
 * A fetch the cache cannot answer whole falls back to the log.
 */
import {
  batchSizeAt,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
} from '../records/batch-header.ts';

/** Bytes kept over all partitions of this broker. */
export const TAIL_BUDGET_BYTES = 64 * 1024 * 1024;

interface Entry {
  base: number;
  /** Offset after the last record. */
  end: number;
  bytes: Uint8Array;
  owner: ReplicaTail;
}

export class TailBudget {
  private readonly queue: Entry[] = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly limit = TAIL_BUDGET_BYTES) {}

  add(entry: Entry): void {
    this.queue.push(entry);
    this.bytes += entry.bytes.length;
    while (this.bytes > this.limit && this.head < this.queue.length) {
      const old = this.queue[this.head++]!;
      this.bytes -= old.bytes.length;
      old.owner.evict(old);
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Entries dropped by their owner no longer count (the queue forgets them when they reach its front). */
  release(entry: Entry): void {
    this.bytes -= entry.bytes.length;
    entry.bytes = new Uint8Array(0);
  }
}

export class ReplicaTail {
  private entries: Entry[] = [];

  constructor(private readonly budget: TailBudget) {}

  /**
   * Keeps a copy of `batches` as the log stored them: appended at `baseOffset` under leader `epoch`. An
   * append that does not follow the cached ones (an earlier one failed) starts the cache over.
   */
  appended(batches: Uint8Array, baseOffset: number, epoch: number): void {
    const last = this.entries.at(-1);
    if (last && last.end !== baseOffset) this.clear();
    const copy = batches.slice();
    let pos = 0;
    let next = baseOffset;
    while (pos < copy.length) {
      const size = batchSizeAt(copy, pos);
      if (size <= 0 || pos + size > copy.length) {
        this.clear(); // not what the log stored: keep nothing
        return;
      }
      const header = readBatchHeader(copy, pos);
      setBaseOffset(copy, pos, next);
      setPartitionLeaderEpoch(copy, pos, epoch);
      next += header.lastOffsetDelta + 1;
      pos += size;
    }
    const entry: Entry = { base: baseOffset, end: next, bytes: copy, owner: this };
    this.entries.push(entry);
    this.budget.add(entry);
  }

  /**
   * Whole batches from `offset` (a batch boundary), up to `maxBytes` (at least one batch), or null when the
   * cache does not start at or before it.
   */
  read(offset: number, maxBytes: number): Uint8Array | null {
    const i = this.entries.findIndex((e) => e.base <= offset && offset < e.end);
    if (i < 0) return null;
    const first = this.entries[i]!;
    let start = 0;
    let at = first.base;
    while (at < offset) {
      const size = batchSizeAt(first.bytes, start);
      at += readBatchHeader(first.bytes, start).lastOffsetDelta + 1;
      start += size;
    }
    if (at !== offset) return null; // not a batch boundary: let the log answer
    const parts: Uint8Array[] = [first.bytes.subarray(start)];
    let total = parts[0]!.length;
    for (let j = i + 1; j < this.entries.length && total + this.entries[j]!.bytes.length <= maxBytes; j++) {
      parts.push(this.entries[j]!.bytes);
      total += this.entries[j]!.bytes.length;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let pos = 0;
    for (const part of parts) {
      out.set(part, pos);
      pos += part.length;
    }
    return out;
  }

  evict(entry: Entry): void {
    const i = this.entries.indexOf(entry);
    // Entries go oldest first; dropping one drops everything before it too (the cache stays contiguous).
    if (i >= 0) this.entries.splice(0, i + 1);
  }

  clear(): void {
    for (const e of this.entries) this.budget.release(e);
    this.entries = [];
  }
}
