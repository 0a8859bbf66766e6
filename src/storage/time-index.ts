/**
 * @module
 * The sparse time index of one segment (`<baseOffset>.timeindex`), as Kafka's TimeIndex.
 *
 * Byte layout: a flat array of 12-byte entries, big-endian, no header:
 *   timestamp      int64   the largest record timestamp seen in the segment so far
 *   relativeOffset int32   offset (- baseOffset) of the record that carries that timestamp
 * Entries are added alongside offset-index entries, only when the timestamp grew, and once more when the
 * segment is rolled, so a closed segment's last entry holds its largest timestamp (used by retention.ms).
 *
 * Crash behaviour: as the offset index, rebuilt from the `.log` whenever it is not trusted.
 */

export const TIME_INDEX_ENTRY_SIZE = 12;

export class TimeIndex {
  private timestamps: Float64Array;
  private relOffsets: Int32Array;
  private count = 0;

  constructor(capacity = 64) {
    this.timestamps = new Float64Array(capacity);
    this.relOffsets = new Int32Array(capacity);
  }

  get entries(): number {
    return this.count;
  }

  static decode(bytes: Uint8Array): TimeIndex | null {
    if (bytes.length % TIME_INDEX_ENTRY_SIZE !== 0) return null;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length / TIME_INDEX_ENTRY_SIZE;
    const index = new TimeIndex(Math.max(64, n));
    for (let i = 0; i < n; i++) {
      const ts = Number(dv.getBigInt64(i * TIME_INDEX_ENTRY_SIZE));
      const rel = dv.getInt32(i * TIME_INDEX_ENTRY_SIZE + 8);
      if (rel < 0 || !Number.isSafeInteger(ts)) return null;
      if (i > 0 && (ts <= index.timestamps[i - 1]! || rel < index.relOffsets[i - 1]!)) return null;
      index.timestamps[i] = ts;
      index.relOffsets[i] = rel;
    }
    index.count = n;
    return index;
  }

  encode(): Uint8Array {
    const out = new Uint8Array(this.count * TIME_INDEX_ENTRY_SIZE);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < this.count; i++) {
      dv.setBigInt64(i * TIME_INDEX_ENTRY_SIZE, BigInt(this.timestamps[i]!));
      dv.setInt32(i * TIME_INDEX_ENTRY_SIZE + 8, this.relOffsets[i]!);
    }
    return out;
  }

  /** Appends when `timestamp` is larger than the last entry's (the index only ever grows in time). */
  maybeAppend(timestamp: number, relativeOffset: number): void {
    if (this.count > 0 && timestamp <= this.timestamps[this.count - 1]!) return;
    if (this.count === this.timestamps.length) {
      const ts = new Float64Array(this.count * 2);
      ts.set(this.timestamps);
      this.timestamps = ts;
      const ro = new Int32Array(this.count * 2);
      ro.set(this.relOffsets);
      this.relOffsets = ro;
    }
    this.timestamps[this.count] = timestamp;
    this.relOffsets[this.count] = relativeOffset;
    this.count++;
  }

  /** Relative offset to start scanning from for the first record with timestamp >= `timestamp` (0: the start). */
  lookup(timestamp: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timestamps[mid]! < timestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    // Every record up to the found entry's offset has a timestamp < `timestamp`, so scanning may start there.
    return found < 0 ? 0 : this.relOffsets[found]!;
  }

  last(): { timestamp: number; relativeOffset: number } | null {
    if (this.count === 0) return null;
    return { timestamp: this.timestamps[this.count - 1]!, relativeOffset: this.relOffsets[this.count - 1]! };
  }
}
