/**
 * @module
 * A single-producer/single-consumer byte ring over a SharedArrayBuffer: the main thread copies a produce
 * request's record batches in once (`RingWriter.write`), posts the small `RingSlot` it gets back, and the
 * partition worker reads the bytes in place (`RingReader.view`, no copy) and hands the space back
 * (`RingReader.release`). No structured clone ever copies batch bytes.
 *
 * Byte layout of the SharedArrayBuffer:
 *
 *   bytes 0..3     HEAD      write cursor (Int32), stored only by the writer
 *   bytes 4..7     CAPACITY  data bytes (Int32), set once by createRing
 *   bytes 8..11    MAGIC     0x46524e47 ("FRNG"), so openRing rejects a buffer that is not a ring
 *   bytes 64..67   TAIL      release cursor (Int32), stored by the reader (and by the writer only while
 *                            the ring is empty, see "rewind"); on its own cache line so the two threads'
 *                            stores do not contend for one line
 *   bytes 128..    data, CAPACITY bytes
 *
 * Cursors count bytes modulo 2 × capacity (capacity ≤ 2^30, so they fit an Int32 and never overflow);
 * the byte position of a cursor is `cursor mod capacity`. Counting to 2 × capacity rather than capacity
 * tells a full ring (HEAD − TAIL = capacity) from an empty one (0) without giving up a byte. Plain 32-bit
 * counters wrapping at 2^32 would not work: a capacity that does not divide 2^32 would shift positions at
 * every wrap.
 *
 * A message is always contiguous: when the space left before the end of the data area is too small, the
 * writer skips it (the skipped bytes count as used until the message is released) and places the message at
 * position 0. When the ring is empty, the writer rewinds both cursors to position 0 first, so any message of
 * up to `capacity` bytes fits an empty ring, wherever the cursors were.
 *
 * Memory order: the writer copies the bytes, then stores HEAD; the reader loads HEAD before it hands out a
 * view, so it sees the bytes (Atomics are sequentially consistent). The reader stores TAIL only after the
 * last use of the bytes, and the writer loads TAIL before it reuses space. The slot itself travels by
 * postMessage, which keeps order between one sender and one receiver.
 *
 * Releases are in FIFO order: slots are released in the order `write` returned them, each once
 * (`release` throws otherwise, because releasing a later slot first would free the bytes of an earlier one
 * still in use). Empty messages are the exception: they take no space and may be released in any order. A worker whose appends may finish out of order uses `complete` instead, which holds a slot
 * back until every earlier one is released.
 */

/** Where a message sits in the ring: small enough to post. */
export interface RingSlot {
  /** Byte position of the message in the data area. */
  offset: number;
  /** Length of the message in bytes. */
  length: number;
  /** The write cursor before this message (including any bytes skipped to wrap): checks FIFO release. */
  cursor: number;
}

/** The largest ring: cursors count to 2 × capacity in a signed 32-bit integer. */
export const RING_MAX_CAPACITY = 2 ** 30;

const HEAD = 0;
const CAPACITY = 1;
const MAGIC = 2;
const TAIL = 16;
const MAGIC_VALUE = 0x46524e47;
const HEADER_BYTES = 128;
/** The cursor of an empty message: not in the ring, nothing to release. */
const NO_CURSOR = -1;

/** What both sides derive from the buffer. */
class RingView {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  protected readonly control: Int32Array;
  protected readonly data: Uint8Array;
  /** Cursors wrap here. */
  protected readonly modulus: number;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.control = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.capacity = Atomics.load(this.control, CAPACITY);
    this.data = new Uint8Array(sab, HEADER_BYTES, this.capacity);
    this.modulus = 2 * this.capacity;
  }

  /** Bytes in use (written and not yet released, skipped bytes included). */
  get usedBytes(): number {
    return this.distance(Atomics.load(this.control, TAIL), Atomics.load(this.control, HEAD));
  }

  /** Bytes not in use. A write of this many may still fail when the free space is split by the wrap. */
  get freeBytes(): number {
    return this.capacity - this.usedBytes;
  }

  /** How far cursor `to` is ahead of cursor `from`. */
  protected distance(from: number, to: number): number {
    const d = to - from;
    return d < 0 ? d + this.modulus : d;
  }

  protected position(cursor: number): number {
    return cursor >= this.capacity ? cursor - this.capacity : cursor;
  }

  protected advance(cursor: number, bytes: number): number {
    const next = cursor + bytes;
    return next >= this.modulus ? next - this.modulus : next;
  }
}

/** The producing side (main thread). Only one writer per ring. */
export class RingWriter extends RingView {
  /**
   * Copies `bytes` into the ring and returns its slot, or null when the ring has no room for it now (the
   * caller answers with back-pressure and the client retries). Throws RangeError when `bytes` is larger than
   * the whole ring: that message could never fit.
   */
  write(bytes: Uint8Array): RingSlot | null {
    const length = bytes.byteLength;
    if (length > this.capacity) {
      throw new RangeError(`a ${length}-byte message can never fit a ${this.capacity}-byte ring`);
    }
    // An empty message takes no space and no place in the release order (it would share its cursor with
    // the next message otherwise).
    if (length === 0) return { offset: 0, length: 0, cursor: NO_CURSOR };
    let head = Atomics.load(this.control, HEAD);
    const tail = Atomics.load(this.control, TAIL);
    let used = this.distance(tail, head);
    let position = this.position(head);
    if (used === 0 && position !== 0) {
      // Rewind: with nothing outstanding the reader has no slot to release, so it does not store TAIL until
      // it gets the next one, and the writer may move both cursors to position 0 (the next multiple of
      // capacity). The exchange fails only if the reader released a slot it never got: then skip the rewind.
      const rewound = head < this.capacity ? this.capacity : 0;
      if (Atomics.compareExchange(this.control, TAIL, tail, rewound) === tail) {
        Atomics.store(this.control, HEAD, rewound);
        head = rewound;
        position = 0;
        used = 0;
      }
    }
    let offset = position;
    let skip = 0;
    if (this.capacity - position < length) {
      skip = this.capacity - position;
      offset = 0;
    }
    if (used + skip + length > this.capacity) return null;
    this.data.set(bytes, offset);
    // Published only now, after the copy: see "Memory order" above.
    Atomics.store(this.control, HEAD, this.advance(head, skip + length));
    return { offset, length, cursor: head };
  }
}

/** The consuming side (the partition worker). Only one reader per ring. */
export class RingReader extends RingView {
  /** Slots completed out of order, by cursor, until every earlier slot is released. */
  private readonly completed = new Map<number, RingSlot>();

  /**
   * The slot's bytes, in place in shared memory (no copy). Valid until the slot is released: the writer
   * reuses the space after that, so copy anything that must outlive the release.
   */
  view(slot: RingSlot): Uint8Array {
    if (isEmptySlot(slot)) return new Uint8Array(0);
    this.check(slot, Atomics.load(this.control, TAIL));
    return this.data.subarray(slot.offset, slot.offset + slot.length);
  }

  /**
   * Hands the slot's space back to the writer. Slots must be released in the order they were written, each
   * once: anything else throws (and leaves the ring as it was).
   */
  release(slot: RingSlot): void {
    if (isEmptySlot(slot)) return;
    const tail = Atomics.load(this.control, TAIL);
    if (slot.cursor !== tail) {
      throw new Error(
        `ring slots must be released in the order they were written, each once: the next to release ` +
          `starts at cursor ${tail}, not ${slot.cursor}`,
      );
    }
    const end = this.check(slot, tail);
    Atomics.store(this.control, TAIL, end);
    this.releaseCompleted(end);
  }

  /**
   * Marks the slot as done with, in any order: it is released once every slot written before it has been
   * released too (by `release` or `complete`). For a worker whose appends finish out of order.
   */
  complete(slot: RingSlot): void {
    if (isEmptySlot(slot)) return;
    const tail = Atomics.load(this.control, TAIL);
    if (slot.cursor === tail) {
      this.release(slot);
      return;
    }
    this.check(slot, tail);
    if (this.completed.has(slot.cursor))
      throw new Error(`ring slot at cursor ${slot.cursor} completed twice`);
    this.completed.set(slot.cursor, slot);
  }

  /** Slots completed but still waiting for an earlier one. */
  get pendingCompletions(): number {
    return this.completed.size;
  }

  private releaseCompleted(tail: number): void {
    let next = this.completed.get(tail);
    while (next) {
      this.completed.delete(tail);
      tail = this.check(next, tail);
      Atomics.store(this.control, TAIL, tail);
      next = this.completed.get(tail);
    }
  }

  /**
   * Checks that `slot` is one the writer has published and not yet released, and returns the cursor after
   * it. Loading HEAD here is also what makes the writer's copy visible before the bytes are read.
   */
  private check(slot: RingSlot, tail: number): number {
    const head = Atomics.load(this.control, HEAD);
    const { offset, length, cursor } = slot;
    const position = this.position(cursor);
    // A slot starts where its cursor points, or at 0 when the writer skipped the end of the data area.
    const skip = offset === position ? 0 : offset === 0 ? this.capacity - position : -1;
    const valid =
      Number.isInteger(cursor) &&
      cursor >= 0 &&
      cursor < this.modulus &&
      Number.isInteger(length) &&
      length >= 0 &&
      skip >= 0 &&
      offset + length <= this.capacity &&
      this.distance(tail, cursor) + skip + length <= this.distance(tail, head);
    if (!valid) {
      throw new Error(
        `not a live ring slot: ${JSON.stringify(slot)} (released, from another ring, or altered; ` +
          `live cursors ${tail}..${head} of ${this.modulus})`,
      );
    }
    return this.advance(cursor, skip + length);
  }
}

function isEmptySlot(slot: RingSlot): boolean {
  return slot.cursor === NO_CURSOR && slot.length === 0;
}

/** Makes a ring of `capacity` data bytes (1 to RING_MAX_CAPACITY). Send `sab` to the worker, keep `writer`. */
export function createRing(capacity: number): { sab: SharedArrayBuffer; writer: RingWriter } {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > RING_MAX_CAPACITY) {
    throw new RangeError(`ring capacity must be an integer from 1 to ${RING_MAX_CAPACITY}, not ${capacity}`);
  }
  const sab = new SharedArrayBuffer(HEADER_BYTES + capacity);
  const control = new Int32Array(sab, 0, HEADER_BYTES / 4);
  Atomics.store(control, CAPACITY, capacity);
  Atomics.store(control, MAGIC, MAGIC_VALUE);
  return { sab, writer: new RingWriter(sab) };
}

/** The reading side of a ring made by `createRing`, on the worker. */
export function openRing(sab: SharedArrayBuffer): RingReader {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < HEADER_BYTES) {
    throw new TypeError('openRing needs the SharedArrayBuffer made by createRing');
  }
  const control = new Int32Array(sab, 0, HEADER_BYTES / 4);
  const capacity = Atomics.load(control, CAPACITY);
  if (Atomics.load(control, MAGIC) !== MAGIC_VALUE || sab.byteLength !== HEADER_BYTES + capacity) {
    throw new TypeError('openRing needs the SharedArrayBuffer made by createRing');
  }
  return new RingReader(sab);
}
