/**
 * @module
 * The shared-memory produce ring: placement, wrap-around, back-pressure and release order by example, a
 * model-based fuzz of interleaved writes and releases, and a run across a real worker_threads Worker.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { transformWithOxc } from 'vite';
import { describe, expect, it } from 'vitest';
import { createRing, openRing, RING_MAX_CAPACITY, type RingSlot } from '../../src/ipc/ring.ts';

/** `length` bytes of a pattern that differs per `seed`, so overwritten or misplaced bytes show. */
function pattern(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (seed * 131 + i * 7) & 0xff;
  return bytes;
}

/** Whether `view` holds `pattern(view.length, seed)`; toEqual on every step would dominate the run time. */
function holds(view: Uint8Array, seed: number): boolean {
  const expected = pattern(view.length, seed);
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).equals(expected);
}

function ring(capacity: number) {
  const { sab, writer } = createRing(capacity);
  return { writer, reader: openRing(sab) };
}

describe('ring by example', () => {
  it('passes bytes through shared memory without copying them on the reading side', () => {
    const { writer, reader } = ring(100);
    const slot = writer.write(pattern(40, 1))!;
    expect(slot).toEqual({ offset: 0, length: 40, cursor: 0 });
    const view = reader.view(slot);
    expect(view).toEqual(pattern(40, 1));
    expect(view.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(writer.freeBytes).toBe(60);
    expect(reader.usedBytes).toBe(40);
    reader.release(slot);
    expect(writer.freeBytes).toBe(100);
  });

  it('answers null when full and takes writes again once space is released', () => {
    const { writer, reader } = ring(100);
    const a = writer.write(pattern(50, 1))!;
    const b = writer.write(pattern(50, 2))!;
    expect(writer.freeBytes).toBe(0);
    expect(writer.write(pattern(1, 3))).toBeNull();
    reader.release(a);
    const c = writer.write(pattern(50, 3))!;
    expect(c.offset).toBe(0);
    expect(reader.view(b)).toEqual(pattern(50, 2));
    expect(reader.view(c)).toEqual(pattern(50, 3));
  });

  it('never splits a message: it skips the end of the ring and starts again at 0', () => {
    const { writer, reader } = ring(100);
    const a = writer.write(pattern(60, 1))!;
    const b = writer.write(pattern(30, 2))!;
    reader.release(a);
    // 10 bytes left at the end, 60 free at the start: the message goes to 0 and the 10 count as used.
    const c = writer.write(pattern(20, 3))!;
    expect(c.offset).toBe(0);
    expect(writer.usedBytes).toBe(30 + 10 + 20);
    expect(reader.view(b)).toEqual(pattern(30, 2));
    expect(reader.view(c)).toEqual(pattern(20, 3));
    reader.release(b);
    reader.release(c);
    expect(writer.freeBytes).toBe(100);
  });

  it('refuses a wrapped message when the skipped bytes would not leave room for it', () => {
    const { writer, reader } = ring(100);
    const a = writer.write(pattern(50, 1))!;
    writer.write(pattern(40, 2));
    reader.release(a);
    // 50 bytes are free, but only 10 at the end and 50 at the start: 51 fits nowhere.
    expect(writer.write(pattern(51, 3))).toBeNull();
    expect(writer.write(pattern(50, 3))!.offset).toBe(0);
  });

  it('rewinds an empty ring so that a message as large as the ring fits wherever the cursors were', () => {
    const { writer, reader } = ring(100);
    for (let i = 0; i < 7; i++) reader.release(writer.write(pattern(37, i))!);
    const whole = writer.write(pattern(100, 9))!;
    expect(whole.offset).toBe(0);
    expect(reader.view(whole)).toEqual(pattern(100, 9));
    reader.release(whole);
    expect(writer.freeBytes).toBe(100);
  });

  it('throws for a message larger than the ring, which could never fit', () => {
    const { writer } = ring(100);
    expect(() => writer.write(new Uint8Array(101))).toThrow(/101-byte message can never fit a 100-byte ring/);
  });

  it('gives empty messages no place in the ring and no release order', () => {
    const { writer, reader } = ring(10);
    const a = writer.write(pattern(4, 1))!;
    const empty = writer.write(new Uint8Array(0))!;
    const b = writer.write(pattern(4, 2))!;
    expect(reader.view(empty)).toHaveLength(0);
    reader.release(empty);
    reader.release(empty);
    reader.release(a);
    reader.release(b);
    expect(writer.freeBytes).toBe(10);
  });

  it('throws on a release out of order, a double release and a view after release, changing nothing', () => {
    const { writer, reader } = ring(100);
    const a = writer.write(pattern(10, 1))!;
    const b = writer.write(pattern(10, 2))!;
    expect(() => reader.release(b)).toThrow(/released in the order they were written/);
    expect(writer.usedBytes).toBe(20);
    reader.release(a);
    expect(() => reader.release(a)).toThrow(/released in the order they were written/);
    expect(() => reader.view(a)).toThrow(/not a live ring slot/);
    expect(reader.view(b)).toEqual(pattern(10, 2));
    expect(writer.usedBytes).toBe(10);
  });

  it('rejects slots that were never written or were altered', () => {
    const { writer, reader } = ring(100);
    const a = writer.write(pattern(10, 1))!;
    expect(() => reader.view({ ...a, length: 11 })).toThrow(/not a live ring slot/);
    expect(() => reader.view({ ...a, offset: 5 })).toThrow(/not a live ring slot/);
    expect(() => reader.view({ offset: 10, length: 5, cursor: 10 })).toThrow(/not a live ring slot/);
    expect(() => reader.release({ ...a, length: 50 })).toThrow(/not a live ring slot/);
    expect(() => reader.view({ ...a, cursor: 1.5 })).toThrow(/not a live ring slot/);
    expect(writer.usedBytes).toBe(10);
  });

  it('holds completed slots back until every earlier one is released', () => {
    const { writer, reader } = ring(100);
    const [a, b, c, d] = [1, 2, 3, 4].map((i) => writer.write(pattern(10, i))!) as [
      RingSlot,
      RingSlot,
      RingSlot,
      RingSlot,
    ];
    reader.complete(c);
    reader.complete(b);
    expect(reader.pendingCompletions).toBe(2);
    expect(writer.usedBytes).toBe(40);
    expect(() => reader.complete(b)).toThrow(/completed twice/);
    reader.release(a);
    expect(reader.pendingCompletions).toBe(0);
    expect(writer.usedBytes).toBe(10);
    reader.complete(d);
    expect(writer.freeBytes).toBe(100);
  });

  it('keeps working after its cursors wrap many times, for capacities that do not divide 2^32', () => {
    for (const capacity of [1, 3, 7, 1000, 4099]) {
      const { writer, reader } = ring(capacity);
      const pending: Array<{ slot: RingSlot; seed: number }> = [];
      let seed = 0;
      for (let step = 0; step < 5000; step++) {
        const size = (step * 7919) % (capacity + 1);
        const slot = writer.write(pattern(size, ++seed));
        if (slot) pending.push({ slot, seed });
        else {
          expect(pending.length).toBeGreaterThan(0);
          const first = pending.shift()!;
          expect(holds(reader.view(first.slot), first.seed)).toBe(true);
          reader.release(first.slot);
        }
        expect(writer.usedBytes).toBeLessThanOrEqual(capacity);
      }
      for (const { slot, seed } of pending) {
        expect(holds(reader.view(slot), seed)).toBe(true);
        reader.release(slot);
      }
      expect(writer.freeBytes).toBe(capacity);
    }
  });

  it('validates its capacity and its buffer', () => {
    expect(() => createRing(0)).toThrow(RangeError);
    expect(() => createRing(1.5)).toThrow(RangeError);
    expect(() => createRing(RING_MAX_CAPACITY + 1)).toThrow(RangeError);
    expect(() => openRing(new SharedArrayBuffer(4096))).toThrow(/made by createRing/);
    expect(() => openRing(new ArrayBuffer(4096) as unknown as SharedArrayBuffer)).toThrow(
      /made by createRing/,
    );
    const { sab } = createRing(64);
    expect(openRing(sab).capacity).toBe(64);
  });
});

/** What the fuzz does to the ring; `pick` chooses among outstanding slots. */
type Op =
  | { kind: 'write'; size: number }
  | { kind: 'release' }
  | { kind: 'complete'; pick: number }
  | { kind: 'misrelease'; pick: number };

describe('ring under random interleavings (model-based)', () => {
  it('matches a simple model of positions and keeps every live message intact', () => {
    const opArb = (capacity: number): fc.Arbitrary<Op> =>
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc.integer({ min: 0, max: capacity + 2 }).map((size) => ({ kind: 'write', size }) as Op),
        },
        { weight: 3, arbitrary: fc.constant({ kind: 'release' } as Op) },
        { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'complete', pick }) as Op) },
        { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'misrelease', pick }) as Op) },
      );
    const scenario = fc
      .integer({ min: 1, max: 200 })
      .chain((capacity) => fc.tuple(fc.constant(capacity), fc.array(opArb(capacity), { maxLength: 150 })));

    fc.assert(
      fc.property(scenario, ([capacity, ops]) => {
        const { writer, reader } = ring(capacity);
        // The model: where the next write goes, the bytes in use, and the outstanding messages in write order,
        // each with the space it holds (its bytes plus any skipped before it).
        let headPosition = 0;
        let used = 0;
        const live: Array<{ slot: RingSlot; seed: number; held: number; done: boolean }> = [];
        let seed = 0;
        const dropReleasedPrefix = () => {
          while (live[0]?.done) used -= live.shift()!.held;
        };

        for (const op of ops) {
          if (op.kind === 'write') {
            const bytes = pattern(op.size, ++seed);
            if (op.size > capacity) {
              expect(() => writer.write(bytes)).toThrow(RangeError);
              continue;
            }
            const slot = writer.write(bytes);
            if (op.size === 0) {
              expect(slot).not.toBeNull();
              continue;
            }
            if (used === 0) headPosition = 0;
            const skip = capacity - headPosition < op.size ? capacity - headPosition : 0;
            const fits = used + skip + op.size <= capacity;
            expect(slot !== null).toBe(fits);
            if (!slot) continue;
            expect(slot.offset).toBe(skip > 0 ? 0 : headPosition);
            headPosition = (slot.offset + op.size) % capacity;
            used += skip + op.size;
            live.push({ slot, seed, held: skip + op.size, done: false });
          } else if (op.kind === 'release') {
            if (live.length === 0) continue;
            reader.release(live[0]!.slot);
            live[0]!.done = true;
            dropReleasedPrefix();
          } else if (op.kind === 'complete') {
            const waiting = live.filter((l) => !l.done);
            if (waiting.length === 0) continue;
            const chosen = waiting[op.pick % waiting.length]!;
            reader.complete(chosen.slot);
            chosen.done = true;
            dropReleasedPrefix();
          } else {
            if (live.length < 2) continue;
            const later = live[1 + (op.pick % (live.length - 1))]!;
            expect(() => reader.release(later.slot)).toThrow(/released in the order/);
          }
          expect(writer.usedBytes).toBe(used);
          expect(reader.freeBytes).toBe(capacity - used);
          expect(reader.pendingCompletions).toBe(live.filter((l) => l.done).length);
          for (const l of live) expect(holds(reader.view(l.slot), l.seed)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/** Turns ring.ts into JavaScript a plain Node worker can import (vitest's transform does not reach workers). */
async function transpiledRing(dir: string): Promise<string> {
  const source = fs.readFileSync(new URL('../../src/ipc/ring.ts', import.meta.url), 'utf8');
  const { code } = await transformWithOxc(source, 'ring.ts', { lang: 'ts' });
  const file = path.join(dir, 'ring.mjs');
  fs.writeFileSync(file, code);
  return file;
}

const WORKER_SOURCE = `
import { parentPort, workerData } from 'node:worker_threads';
import { openRing } from './ring.mjs';
const reader = openRing(workerData.sab);
let held = null;
function sumOf(bytes) {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (Math.imul(sum, 31) + bytes[i]) >>> 0;
  return sum;
}
function finish(entry) {
  reader.complete(entry.slot);
  parentPort.postMessage(entry.ack);
}
function flushHeld() {
  if (held) finish(held);
  held = null;
}
parentPort.on('message', (message) => {
  if (message === 'close') return parentPort.close();
  const bytes = reader.view(message.slot);
  const entry = { slot: message.slot, ack: { id: message.id, sum: sumOf(bytes), length: bytes.length } };
  if (message.id % 2 === 1 && !held) {
    // Hold an odd message back and finish it after the next one (or shortly): out-of-order completion.
    held = entry;
    setImmediate(flushHeld);
    return;
  }
  finish(entry);
  flushHeld();
});
`;

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum = (Math.imul(sum, 31) + bytes[i]!) >>> 0;
  return sum;
}

describe('ring across a worker_threads Worker', () => {
  it('delivers every message intact while the ring fills, wraps and drains', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-ring-'));
    try {
      await transpiledRing(dir);
      const workerFile = path.join(dir, 'worker.mjs');
      fs.writeFileSync(workerFile, WORKER_SOURCE);
      const capacity = 64 * 1024;
      const { sab, writer } = createRing(capacity);
      const worker = new Worker(workerFile, { workerData: { sab } });
      const expected = new Map<number, { sum: number; length: number }>();
      let acked = 0;
      let fullCount = 0;
      let wake: (() => void) | null = null;
      const failures: unknown[] = [];
      worker.on('error', (err) => failures.push(err));
      worker.on('message', (ack: { id: number; sum: number; length: number }) => {
        if (ack.sum !== expected.get(ack.id)?.sum || ack.length !== expected.get(ack.id)?.length) {
          failures.push(new Error(`message ${ack.id} arrived corrupted`));
        }
        expected.delete(ack.id);
        acked++;
        wake?.();
      });

      const count = 3000;
      let random = 12345;
      for (let id = 0; id < count; id++) {
        random = (Math.imul(random, 1103515245) + 12345) >>> 0;
        // Up to 20 KiB: a few messages fill the ring, so null, skips and rewinds all happen.
        const bytes = pattern((random >>> 8) % (20 * 1024), id);
        expected.set(id, { sum: checksum(bytes), length: bytes.length });
        let slot = writer.write(bytes);
        while (!slot) {
          fullCount++;
          await new Promise<void>((resolve) => (wake = resolve));
          slot = writer.write(bytes);
        }
        worker.postMessage({ id, slot });
        if (failures.length > 0) break;
      }
      while (acked < count && failures.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      worker.postMessage('close');
      await worker.terminate();
      expect(failures).toEqual([]);
      expect(expected.size).toBe(0);
      expect(fullCount).toBeGreaterThan(0);
      expect(writer.freeBytes).toBe(capacity);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
