/**
 * @module
 * The sparse offset index of one segment (`<baseOffset>.index`), as Kafka's OffsetIndex.
 *
 * Byte layout: a flat array of 8-byte entries, big-endian, no header:
 *   relativeOffset int32   lastOffset of an indexed batch - the segment's baseOffset
 *   position       int32   byte position of that batch in the `.log`
 * One entry is added per `index.interval.bytes` of log; entries increase strictly in both fields.
 *
 * Crash behaviour: the file is written whole when a segment is flushed, rolled or closed, so it can lag
 * the `.log` or be torn. It is trusted only below the recovery point and only after `validate` agrees with
 * the log's size; otherwise the owner rebuilds it from the `.log` (recovery never needs it).
 */

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class OffsetIndex {
  private relOffsets: Int32Array;
  private positions: Int32Array;
  private count = 0;

  constructor(capacity = 64) {
    this.relOffsets = new Int32Array(capacity);
    this.positions = new Int32Array(capacity);
  }

  get entries(): number {
    return this.count;
  }

  /** Decodes an index file's bytes; returns null when the bytes are not a well-formed index for a log of `logSize` bytes. */
  static decode(bytes: Uint8Array, logSize: number): OffsetIndex | null {
    if (bytes.length % OFFSET_INDEX_ENTRY_SIZE !== 0) return null;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.length / OFFSET_INDEX_ENTRY_SIZE;
    const index = new OffsetIndex(Math.max(64, n));
    for (let i = 0; i < n; i++) {
      const rel = dv.getInt32(i * OFFSET_INDEX_ENTRY_SIZE);
      const pos = dv.getInt32(i * OFFSET_INDEX_ENTRY_SIZE + 4);
      if (rel < 0 || pos < 0 || pos >= logSize) return null;
      if (i > 0 && (rel <= index.relOffsets[i - 1]! || pos <= index.positions[i - 1]!)) return null;
      index.relOffsets[i] = rel;
      index.positions[i] = pos;
    }
    index.count = n;
    return index;
  }

  encode(): Uint8Array {
    const out = new Uint8Array(this.count * OFFSET_INDEX_ENTRY_SIZE);
    const dv = new DataView(out.buffer);
    for (let i = 0; i < this.count; i++) {
      dv.setInt32(i * OFFSET_INDEX_ENTRY_SIZE, this.relOffsets[i]!);
      dv.setInt32(i * OFFSET_INDEX_ENTRY_SIZE + 4, this.positions[i]!);
    }
    return out;
  }

  append(relativeOffset: number, position: number): void {
    if (this.count === this.relOffsets.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.relOffsets = grow(this.relOffsets);
      this.positions = grow(this.positions);
    }
    this.relOffsets[this.count] = relativeOffset;
    this.positions[this.count] = position;
    this.count++;
  }

  /** Position of the last indexed batch whose last offset is <= `relativeOffset` (0: scan from the start). */
  lookup(relativeOffset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.relOffsets[mid]! <= relativeOffset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? 0 : this.positions[found]!;
  }

  /** The last entry, or null. */
  last(): { relativeOffset: number; position: number } | null {
    if (this.count === 0) return null;
    return { relativeOffset: this.relOffsets[this.count - 1]!, position: this.positions[this.count - 1]! };
  }

  /** Drops entries for batches at or after byte `position` (the log was cut there). */
  truncateToPosition(position: number): void {
    while (this.count > 0 && this.positions[this.count - 1]! >= position) this.count--;
  }
}
