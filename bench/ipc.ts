/** @module Main thread → partition worker transport: the shared-memory ring (copy in + small postMessage) against postMessage with structured clone and with transfer, for 16 KiB and 1 MiB batches. */

import { Worker } from 'node:worker_threads';
import { createRing, type RingWriter } from '../src/ipc/ring.ts';
import { seededRandom } from '../test/support/seeded-random.ts';
import {
  type BenchOptions,
  KIB,
  MIB,
  mbPerSec,
  median,
  progress,
  putSummary,
  round,
  runDirectly,
  settle,
} from './harness.ts';
import type { IpcBenchAck, IpcBenchMessage } from './ipc-worker.ts';
import { touch } from './ipc-worker.ts';

/*
 * What is measured, and why it is fair:
 *
 * - One worker thread, started once. For each batch size, each transport moves the same volume from the main
 *   thread to the worker, which reads one byte per cache line of every batch (what appending would pull into
 *   its core anyway) and acknowledges with that checksum; the main thread checks every checksum. The clock
 *   runs from the first send to the last acknowledgement.
 * - Every transport keeps the same window in flight: at most WINDOW_MESSAGES messages and WINDOW_BYTES bytes,
 *   as the broker has many produce requests in flight. Sources are POOL distinct batches of random bytes,
 *   made before any clock starts.
 *     ring             copy the batch into the SharedArrayBuffer ring (RingWriter.write) and post the slot;
 *                      the worker reads in place and releases. The broker's path. Ring size: the default
 *                      max.in.flight.bytes (64 MiB), larger than the window, so it never fills.
 *     clone            post the Uint8Array: structured clone copies it (serialize + deserialize).
 *     transfer         allocate a fresh buffer, copy the batch in, post it with transfer (no copy in
 *                      postMessage). What the broker would pay when the batch is part of a larger body.
 *     transfer_pooled  post one of a pool of pre-filled buffers with transfer; the worker transfers it back in
 *                      its acknowledgement. No copy and no allocation anywhere: a lower bound for passing
 *                      bytes by postMessage, not something the broker can do with bytes from a request.
 * - Transports alternate within each repetition (order rotated every repetition), so machine noise hits
 *   all; each reports the median of REPEATS runs (with min and max), after one warm-up run.
 * - memcpy_MBps is Uint8Array.set of the same batches into one buffer: the copy the ring pays, alone.
 */

const SIZES = [
  ['16KiB', 16 * KIB],
  ['1MiB', MIB],
] as const;
const MODES = ['ring', 'clone', 'transfer', 'transfer_pooled'] as const;
type Mode = (typeof MODES)[number];
const POOL = 8;
const WINDOW_MESSAGES = 256;
const WINDOW_BYTES = 32 * MIB;
const RING_BYTES = 64 * MIB;
const REPEATS = 3;

function randomBytes(size: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const words = new Uint32Array(size / 4);
  for (let i = 0; i < words.length; i++) words[i] = random() * 4294967296;
  return new Uint8Array(words.buffer);
}

/** The main thread's side of one worker: sends, and resolves waits when acknowledgements arrive. */
class Channel {
  private waiter: (() => void) | null = null;
  private onAck: ((ack: IpcBenchAck) => void) | null = null;

  constructor(readonly worker: Worker) {
    worker.on('message', (ack: IpcBenchAck) => {
      this.onAck?.(ack);
      const wake = this.waiter;
      this.waiter = null;
      wake?.();
    });
  }

  listen(onAck: ((ack: IpcBenchAck) => void) | null): void {
    this.onAck = onAck;
  }

  /** Resolves at the next acknowledgement. */
  next(): Promise<void> {
    return new Promise((resolve) => (this.waiter = resolve));
  }

  post(message: IpcBenchMessage, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }
}

interface Setup {
  channel: Channel;
  ring: RingWriter;
  sources: Uint8Array[];
  sums: number[];
  /** transfer_pooled's idle buffers (one per window slot), each with the index of the source it holds. */
  pool: Array<{ bytes: Uint8Array; source: number }>;
}

/** Moves `count` batches by `mode`; returns the milliseconds from the first send to the last acknowledgement. */
async function move(setup: Setup, mode: Mode, count: number): Promise<number> {
  const { channel, ring, sources, sums } = setup;
  const size = sources[0]!.length;
  const window = Math.max(1, Math.min(WINDOW_MESSAGES, Math.floor(WINDOW_BYTES / size)));
  // Acknowledgements come in send order, so which source each one answers for is a queue.
  const sent: number[] = [];
  let acked = 0;
  let failure: Error | null = null;
  const idle = setup.pool;
  channel.listen((ack) => {
    const source = sent[acked]!;
    if (ack.sum !== sums[source]) failure ??= new Error(`${mode}: checksum mismatch on message ${acked}`);
    acked++;
    // A transferred buffer comes back as a new ArrayBuffer: it goes back to the pool as what it holds.
    if (ack.bytes) idle.push({ bytes: ack.bytes, source });
  });

  const started = performance.now();
  for (let i = 0; i < count; i++) {
    while (i - acked >= window) await channel.next();
    const source = i % POOL;
    const bytes = sources[source]!;
    switch (mode) {
      case 'ring': {
        let slot = ring.write(bytes);
        while (!slot) {
          await channel.next();
          slot = ring.write(bytes);
        }
        sent.push(source);
        channel.post({ kind: 'ring', slot });
        break;
      }
      case 'clone':
        sent.push(source);
        channel.post({ kind: 'clone', bytes });
        break;
      case 'transfer': {
        const fresh = new Uint8Array(size);
        fresh.set(bytes);
        sent.push(source);
        channel.post({ kind: 'transfer', bytes: fresh }, [fresh.buffer]);
        break;
      }
      case 'transfer_pooled': {
        // The window never exceeds the pool, so a buffer is always idle here.
        const entry = idle.pop()!;
        sent.push(entry.source);
        channel.post({ kind: 'transfer-pooled', bytes: entry.bytes }, [entry.bytes.buffer as ArrayBuffer]);
        break;
      }
    }
  }
  while (acked < count) await channel.next();
  const elapsed = performance.now() - started;
  channel.listen(null);
  if (failure) throw failure;
  if (mode === 'ring' && ring.freeBytes !== ring.capacity) throw new Error('ring: bytes left unreleased');
  return elapsed;
}

function memcpyMs(sources: Uint8Array[], count: number): number {
  const target = new Uint8Array(sources[0]!.length);
  const started = performance.now();
  for (let i = 0; i < count; i++) target.set(sources[i % POOL]!);
  return performance.now() - started;
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  if (!process.versions.bun) throw new Error('bench/ipc.ts runs under Bun (its worker is TypeScript)');
  const volume = opts.quick ? 64 * MIB : 512 * MIB;
  const result: Record<string, unknown> = {
    bench: 'ipc',
    quick: opts.quick,
    volume_MiB_per_run: volume / MIB,
    window: `${WINDOW_MESSAGES} messages / ${WINDOW_BYTES / MIB} MiB`,
    repeats: REPEATS,
  };
  const worker = new Worker(new URL('./ipc-worker.ts', import.meta.url));
  try {
    const channel = new Channel(worker);
    const { sab, writer: ring } = createRing(RING_BYTES);
    const opened = channel.next();
    channel.post({ kind: 'open-ring', sab });
    await opened;

    for (const [label, size] of SIZES) {
      const count = volume / size;
      const sources = Array.from({ length: POOL }, (_, i) => randomBytes(size, i + 1));
      const sums = sources.map(touch);
      const window = Math.min(WINDOW_MESSAGES, Math.floor(WINDOW_BYTES / size));
      const pool = Array.from({ length: window }, (_, i) => ({
        bytes: sources[i % POOL]!.slice(),
        source: i % POOL,
      }));
      const setup: Setup = { channel, ring, sources, sums, pool };
      const warmCount = Math.max(POOL, Math.floor(count / 8));
      for (const mode of MODES) await move(setup, mode, warmCount);

      const mbS: Record<Mode, number[]> = { ring: [], clone: [], transfer: [], transfer_pooled: [] };
      const ringVsClone: number[] = [];
      for (let rep = 0; rep < REPEATS; rep++) {
        const order = MODES.map((_, i) => MODES[(i + rep) % MODES.length]!);
        const ms: Partial<Record<Mode, number>> = {};
        for (const mode of order) {
          settle();
          ms[mode] = await move(setup, mode, count);
          mbS[mode].push(mbPerSec(volume, ms[mode]!));
        }
        ringVsClone.push(ms.clone! / ms.ring!);
        progress(
          `ipc ${label} rep ${rep + 1}: ` +
            MODES.map((m) => `${m} ${mbPerSec(volume, ms[m]!).toFixed(0)} MB/s`).join(', '),
        );
      }
      for (const mode of MODES) {
        putSummary(result, `${mode}_${label}_MBps`, mbS[mode]);
        putSummary(
          result,
          `${mode}_${label}_msgs_per_s`,
          mbS[mode].map((v) => (v * 1e6) / size),
          0,
        );
      }
      result[`ring_vs_clone_${label}`] = round(median(ringVsClone), 2);
      putSummary(
        result,
        `memcpy_${label}_MBps`,
        Array.from({ length: REPEATS }, () => mbPerSec(volume, memcpyMs(sources, count))),
      );
    }
  } finally {
    await worker.terminate();
  }
  return result;
}

if (import.meta.main) await runDirectly(run);
