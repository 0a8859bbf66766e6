/** @module Storage throughput: FileLog appends (flush policy interval; always with 8 concurrent appenders) against plain sequential writes of the same bytes, and read-back. */
// Server code runs with the native CRC-32C installed (the append path checksums every byte), so the bench does too.
import '../src/records/crc32c-native.ts';
import { closeSync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type FlushPolicy, logConfig } from '../src/config/log-config.ts';
import { checkBatch, lastOffsetOf, readBatchHeader } from '../src/records/batch-header.ts';
import { encodeRecordBatch, type RecordInput } from '../src/records/record-batch.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { openFileLog } from '../src/storage/file-log.ts';
import type { PartitionLog } from '../src/storage/partition-log.ts';
import {
  type BenchOptions,
  formatMbS,
  KIB,
  MIB,
  makeTempDir,
  mbPerSec,
  median,
  progress,
  putSummary,
  removeDir,
  round,
  runDirectly,
  settle,
} from './harness.ts';

/*
 * What is measured, and why it is fair:
 *
 * - Every batch is a RecordBatch v2 of RECORDS_PER_BATCH records of about 1 KiB, sized to exactly BATCH_BYTES
 *   (16 KiB), encoded before any clock starts: a pool of POOL_BATCHES distinct batches.
 * - The log takes ownership of what it is given (it rewrites baseOffset in place and may write it later), so
 *   each append must get bytes nobody else is using. Three ways are measured, and the raw path always gets
 *   its bytes exactly the same way as the log, so both sides pay the same:
 *     arena  consecutive slices of an arena as large as the volume, filled from the pool before the clock
 *            starts: every append owns its bytes outright (nothing is ever reused within a run) and nothing
 *            is copied on the clock. Neither side finds the bytes in cache, so each reads them from memory
 *            once (the log in its CRC pass, the raw path in the kernel's copy). The headline.
 *     ring   the pool batch is copied into the next buffer of a RING_BYTES ring, reused only long after the
 *            log has written it (the bytes are verified afterwards): like a receive buffer, just written and
 *            in cache, at the price of a 16 KiB memcpy (ring_copy_only_mb_s) on both sides.
 *     fresh  a newly allocated buffer per append, copied from the pool. Allocating 16 KiB typed arrays at
 *            this rate costs Bun about as much as the write itself (fresh_copy_only_mb_s).
 *   A cost both sides share only pulls the ratio towards 1 and hides the log's own overhead, hence arena.
 * - interval: one appender awaits each 16 KiB append in turn; the raw disk limit is writeSync of the same
 *   16 KiB buffers to one file. Neither fsyncs. Opening and closing (which fsyncs) are off the clock. Also
 *   reported: the same with FSYNC_APPENDERS concurrent appenders (append_concurrent_mb_s).
 * - always: FSYNC_APPENDERS async loops each await their own 16 KiB appends; the raw limit is writeSync of
 *   FSYNC_APPENDERS * 16 KiB (the data that many concurrent appends can share in one group commit), each
 *   followed by fdatasync.
 * - Raw and log runs alternate (rotating the order every repetition) so machine noise hits both; each run
 *   gets a fresh temp dir that is deleted right after. A ratio is taken per repetition between neighbouring
 *   runs, then the median of those. Reads come from the page cache (the data was just written).
 */

const RECORD_VALUE_BYTES_TARGET = 1 * KIB;
const RECORDS_PER_BATCH = 16;
const BATCH_BYTES = 16 * KIB;
/** Distinct batches encoded; enough that neighbouring appends carry different bytes. */
const POOL_BATCHES = 64;
/** Ring buffers are reused after this many bytes of later appends: far beyond anything in flight. */
const RING_BYTES = 16 * MIB;
/** Warm-up volume per buffer mode, off the clock, so the JIT has compiled the paths before timed runs. */
const WARMUP_BYTES = 16 * MIB;
/** How much one read asks for (Kafka's default max.partition.fetch.bytes). */
const READ_MAX_BYTES = 1 * MIB;
const FSYNC_APPENDERS = 8;

type BufferMode = 'ring' | 'fresh' | 'arena';
const HEADLINE_MODE: BufferMode = 'arena';
const MODES: readonly BufferMode[] = ['arena', 'ring', 'fresh'];
const COPY_MODES: readonly BufferMode[] = ['ring', 'fresh'];

interface Plan {
  volumeBytes: number;
  fsyncVolumeBytes: number;
  reps: number;
}

function planFor(opts: BenchOptions): Plan {
  return opts.quick
    ? { volumeBytes: 64 * MIB, fsyncVolumeBytes: 16 * MIB, reps: 2 }
    : { volumeBytes: 512 * MIB, fsyncVolumeBytes: 64 * MIB, reps: 3 };
}

/** The bytes every run draws from, all encoded before any clock starts. */
interface Volume {
  pool: Uint8Array[];
  /** `batchCount` batches laid out back to back (for the `arena` mode). */
  arena: Uint8Array;
  batchBytes: number;
  batchCount: number;
  recordsPerBatch: number;
}

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  // getRandomValues fills at most 64 KiB per call.
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(n, at + 65536)));
  return out;
}

function encodeWithValueSizes(sizes: readonly number[]): Uint8Array {
  const records: RecordInput[] = sizes.map((size) => ({ key: null, value: randomBytes(size) }));
  return encodeRecordBatch(records);
}

/**
 * Encodes one batch of RECORDS_PER_BATCH records whose value sizes are nudged so the whole batch is exactly
 * BATCH_BYTES (record framing and the 61-byte header come out of the ~1 KiB per record).
 */
function encodeSizedBatch(): Uint8Array {
  const sizes = new Array<number>(RECORDS_PER_BATCH).fill(RECORD_VALUE_BYTES_TARGET);
  let batch = encodeWithValueSizes(sizes);
  for (let attempt = 0; attempt < 4 && batch.length !== BATCH_BYTES; attempt++) {
    const diff = BATCH_BYTES - batch.length;
    const each = Math.trunc(diff / RECORDS_PER_BATCH);
    const rest = diff - each * RECORDS_PER_BATCH;
    for (let i = 0; i < RECORDS_PER_BATCH; i++) {
      sizes[i] = sizes[i]! + each + (i < Math.abs(rest) ? Math.sign(rest) : 0);
    }
    batch = encodeWithValueSizes(sizes);
  }
  if (batch.length !== BATCH_BYTES) {
    throw new Error(`could not size a batch to ${BATCH_BYTES} bytes (got ${batch.length})`);
  }
  return batch;
}

function buildVolume(volumeBytes: number): Volume {
  const pool = Array.from({ length: POOL_BATCHES }, encodeSizedBatch);
  const batchBytes = pool[0]!.length;
  const batchCount = Math.ceil(volumeBytes / batchBytes);
  const arena = new Uint8Array(batchCount * batchBytes);
  for (let i = 0; i < batchCount; i++) arena.set(pool[i % POOL_BATCHES]!, i * batchBytes);
  return { pool, arena, batchBytes, batchCount, recordsPerBatch: readBatchHeader(pool[0]!).recordCount };
}

/** Hands out batches `first .. first + count - 1` as bytes the receiver may own until the ring comes round. */
type Take = (first: number, count: number) => Uint8Array;

function copyFromPool(vol: Volume, into: Uint8Array, first: number, count: number): Uint8Array {
  for (let i = 0; i < count; i++) into.set(vol.pool[(first + i) % POOL_BATCHES]!, i * vol.batchBytes);
  return into;
}

/** A fresh `Take` (a ring starts empty) for one run. */
function taker(vol: Volume, mode: BufferMode): Take {
  const { arena, batchBytes } = vol;
  switch (mode) {
    case 'arena':
      return (first, count) => arena.subarray(first * batchBytes, (first + count) * batchBytes);
    case 'fresh':
      return (first, count) => copyFromPool(vol, new Uint8Array(count * batchBytes), first, count);
    case 'ring': {
      // One ring per chunk size; a call always asks for the same size within a run.
      let ring: Uint8Array[] = [];
      let next = 0;
      return (first, count) => {
        const size = count * batchBytes;
        if (ring[0]?.length !== size) {
          ring = Array.from(
            { length: Math.max(2, Math.ceil(RING_BYTES / size)) },
            () => new Uint8Array(size),
          );
          next = 0;
        }
        const slot = ring[next]!;
        next = (next + 1) % ring.length;
        return copyFromPool(vol, slot, first, count);
      };
    }
  }
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

function readFully(fd: number, into: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, into, done, length - done, position + done);
    if (n === 0) throw new Error(`short read: ${done} of ${length} bytes at ${position}`);
    done += n;
  }
}

interface RunResult {
  bytes: number;
  writeMs: number;
  readMs: number;
}

/**
 * The raw disk limit: sequential writeSync of `chunkBatches` batches at a time to one new file, each
 * followed by fdatasync when `sync`; then the file is read back in READ_MAX_BYTES chunks.
 */
function runRaw(vol: Volume, batchCount: number, take: Take, chunkBatches: number, sync: boolean): RunResult {
  const dir = makeTempDir('raw');
  try {
    const fd = openSync(join(dir, 'raw.log'), 'w+');
    try {
      settle();
      const start = performance.now();
      for (let i = 0; i < batchCount; i += chunkBatches) {
        writeFully(fd, take(i, Math.min(chunkBatches, batchCount - i)));
        if (sync) fdatasyncSync(fd);
      }
      const writeMs = performance.now() - start;
      const bytes = batchCount * vol.batchBytes;

      const buf = new Uint8Array(READ_MAX_BYTES);
      const readStart = performance.now();
      for (let pos = 0; pos < bytes; pos += READ_MAX_BYTES) {
        readFully(fd, buf, Math.min(READ_MAX_BYTES, bytes - pos), pos);
      }
      const readMs = performance.now() - readStart;
      return { bytes, writeMs, readMs };
    } finally {
      closeSync(fd);
    }
  } finally {
    removeDir(dir);
  }
}

/**
 * Reads the whole log with `log.read` (READ_MAX_BYTES at a time, as a fetch would) and reads the bytes of
 * each file slice. Checks that reads start where asked and that every byte appended comes back. With
 * `verify`, also checks every batch's CRC and that offsets run on without a gap (too slow for the clock).
 * Returns the milliseconds taken.
 */
async function readBack(log: PartitionLog, expectedBytes: number, verify: boolean): Promise<number> {
  const fds = new Map<string, number>();
  let buf = new Uint8Array(READ_MAX_BYTES);
  let offset = log.logStartOffset;
  let total = 0;
  const end = log.logEndOffset;
  const start = performance.now();
  try {
    while (offset < end) {
      const result = await log.read(offset, READ_MAX_BYTES);
      if (result.nextOffset <= offset) throw new Error(`read at ${offset} made no progress`);
      let expectedBase = offset;
      let first = true;
      for (const slice of result.slices) {
        let bytes: Uint8Array;
        if (slice.kind === 'file') {
          let fd = fds.get(slice.path);
          if (fd === undefined) fds.set(slice.path, (fd = openSync(slice.path, 'r')));
          if (buf.length < slice.length) buf = new Uint8Array(slice.length);
          readFully(fd, buf, slice.length, slice.position);
          bytes = buf.subarray(0, slice.length);
        } else {
          bytes = slice.bytes;
        }
        if (verify) {
          for (let pos = 0; pos < bytes.length; ) {
            const header = checkBatch(bytes, pos);
            if (header.baseOffset !== expectedBase) {
              throw new Error(`batch at ${header.baseOffset} where ${expectedBase} was expected`);
            }
            expectedBase = lastOffsetOf(header) + 1;
            pos += header.sizeInBytes;
          }
        } else if (first && readBatchHeader(bytes).baseOffset !== offset) {
          throw new Error(`read at ${offset} returned a batch at ${readBatchHeader(bytes).baseOffset}`);
        }
        first = false;
        total += bytes.length;
      }
      if (total > expectedBytes)
        throw new Error(`read ${total} bytes, more than the ${expectedBytes} appended`);
      offset = result.nextOffset;
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
  const ms = performance.now() - start;
  if (total !== expectedBytes) throw new Error(`read back ${total} bytes, appended ${expectedBytes}`);
  return ms;
}

/**
 * Appends `batchCount` batches, one per append, from `appenders` concurrent loops that each await their own
 * appends; then reads everything back (timed when `timeRead`) and verifies it. Opening, verifying and
 * closing the log are off the clock.
 */
async function runLog(
  vol: Volume,
  batchCount: number,
  take: Take,
  policy: FlushPolicy,
  appenders: number,
  timeRead: boolean,
): Promise<RunResult> {
  const dir = makeTempDir('log');
  try {
    const log = await openFileLog(dir, { config: logConfig({ flushPolicy: policy }), logger: silentLogger });
    try {
      settle();
      let next = 0;
      const appender = async () => {
        for (let i = next++; i < batchCount; i = next++) await log.append(take(i, 1));
      };
      const start = performance.now();
      await Promise.all(Array.from({ length: appenders }, appender));
      const writeMs = performance.now() - start;

      const bytes = batchCount * vol.batchBytes;
      const expectedEnd = batchCount * vol.recordsPerBatch;
      if (log.logEndOffset !== expectedEnd) {
        throw new Error(`logEndOffset ${log.logEndOffset}, expected ${expectedEnd}`);
      }
      if (policy === 'always' && log.flushedOffset !== expectedEnd) {
        throw new Error(
          `flushedOffset ${log.flushedOffset} after acknowledged appends, expected ${expectedEnd}`,
        );
      }
      const readMs = timeRead ? await readBack(log, bytes, false) : 0;
      await readBack(log, bytes, true);
      return { bytes, writeMs, readMs };
    } finally {
      await log.close();
    }
  } finally {
    removeDir(dir);
  }
}

/** Repetition `rep` runs the listed runs rotated by `rep`, so no run always goes first. */
async function rotated(rep: number, runs: Array<() => Promise<void>>): Promise<void> {
  for (let i = 0; i < runs.length; i++) await runs[(rep + i) % runs.length]!();
}

const rate = (r: RunResult, ms: number) => mbPerSec(r.bytes, ms);
const last = (values: number[]) => formatMbS(values.at(-1)!);

/** Throughput of handing out the whole volume in `mode`, with no I/O: what the buffers alone cost. */
function measureTake(vol: Volume, mode: BufferMode): number {
  const take = taker(vol, mode);
  settle();
  const start = performance.now();
  let check = 0;
  for (let i = 0; i < vol.batchCount; i++) check += take(i, 1)[i & 1023]!;
  const ms = performance.now() - start;
  if (check < 0) throw new Error('unreachable: keeps the copies observable');
  return mbPerSec(vol.batchCount * vol.batchBytes, ms);
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const plan = planFor(opts);
  const vol = buildVolume(plan.volumeBytes);
  const fsyncBatches = Math.ceil(plan.fsyncVolumeBytes / vol.batchBytes);
  progress(
    `storage: ${vol.batchCount} batches of ${vol.batchBytes} B (${vol.recordsPerBatch} records), ${plan.reps} reps`,
  );

  // Warm-up, off the clock: the append, CRC and read paths get compiled before the first timed run.
  const warmBatches = Math.min(vol.batchCount, Math.ceil(WARMUP_BYTES / vol.batchBytes));
  for (const mode of MODES) {
    await runLog(vol, warmBatches, taker(vol, mode), 'interval', 1, true);
    runRaw(vol, warmBatches, taker(vol, mode), 1, false);
  }

  const append = { arena: [], ring: [], fresh: [] } as Record<BufferMode, number[]>;
  const raw = { arena: [], ring: [], fresh: [] } as Record<BufferMode, number[]>;
  const takeOnly = { arena: [], ring: [], fresh: [] } as Record<BufferMode, number[]>;
  const concurrent: number[] = [];
  const read: number[] = [];
  const rawRead: number[] = [];
  for (let rep = 0; rep < plan.reps; rep++) {
    const runs: Array<() => Promise<void>> = [];
    for (const mode of MODES) {
      const headline = mode === HEADLINE_MODE;
      runs.push(async () => {
        const r = await runLog(vol, vol.batchCount, taker(vol, mode), 'interval', 1, headline);
        append[mode].push(rate(r, r.writeMs));
        if (headline) read.push(rate(r, r.readMs));
      });
      runs.push(async () => {
        const r = runRaw(vol, vol.batchCount, taker(vol, mode), 1, false);
        raw[mode].push(rate(r, r.writeMs));
        if (headline) rawRead.push(rate(r, r.readMs));
      });
    }
    runs.push(async () => {
      const r = await runLog(
        vol,
        vol.batchCount,
        taker(vol, HEADLINE_MODE),
        'interval',
        FSYNC_APPENDERS,
        false,
      );
      concurrent.push(rate(r, r.writeMs));
    });
    await rotated(rep, runs);
    // After the timed runs, so the garbage of `fresh` buffers is not collected on a log's clock.
    for (const mode of COPY_MODES) takeOnly[mode].push(measureTake(vol, mode));
    progress(
      `storage: interval rep ${rep + 1}: append ${last(append[HEADLINE_MODE])}, raw ${last(raw[HEADLINE_MODE])}, ` +
        `read ${last(read)}, ${FSYNC_APPENDERS} appenders ${last(concurrent)}; ` +
        MODES.filter((m) => m !== HEADLINE_MODE)
          .map((m) => `${m}: append ${last(append[m])}, raw ${last(raw[m])}`)
          .join('; '),
    );
  }

  const fsyncAppend: number[] = [];
  const fsyncRaw: number[] = [];
  for (let rep = 0; rep < plan.reps; rep++) {
    await rotated(rep, [
      async () => {
        const r = await runLog(
          vol,
          fsyncBatches,
          taker(vol, HEADLINE_MODE),
          'always',
          FSYNC_APPENDERS,
          false,
        );
        fsyncAppend.push(rate(r, r.writeMs));
      },
      async () => {
        const r = runRaw(vol, fsyncBatches, taker(vol, HEADLINE_MODE), FSYNC_APPENDERS, true);
        fsyncRaw.push(rate(r, r.writeMs));
      },
    ]);
    progress(`storage: always rep ${rep + 1}: append ${last(fsyncAppend)}, raw ${last(fsyncRaw)}`);
  }

  // Ratios pair runs of the same repetition (neighbours in time), then take the median of the pairs.
  const paired = (a: number[], b: number[]) => a.map((x, i) => x / b[i]!);
  const ratio = (a: number[], b: number[]) => round(median(paired(a, b)), 3);
  const out: Record<string, unknown> = {
    bench: 'storage',
    policy: 'interval',
    append_mb_s: round(median(append[HEADLINE_MODE])),
    raw_mb_s: round(median(raw[HEADLINE_MODE])),
    ratio: ratio(append[HEADLINE_MODE], raw[HEADLINE_MODE]),
    read_mb_s: round(median(read)),
    fsync_append_mb_s: round(median(fsyncAppend)),
    fsync_raw_mb_s: round(median(fsyncRaw)),
    fsync_ratio: ratio(fsyncAppend, fsyncRaw),
  };
  putSummary(out, 'append_mb_s', append[HEADLINE_MODE]);
  putSummary(out, 'raw_mb_s', raw[HEADLINE_MODE]);
  putSummary(out, 'ratio', paired(append[HEADLINE_MODE], raw[HEADLINE_MODE]), 3);
  putSummary(out, 'read_mb_s', read);
  putSummary(out, 'fsync_append_mb_s', fsyncAppend);
  putSummary(out, 'fsync_raw_mb_s', fsyncRaw);
  putSummary(out, 'fsync_ratio', paired(fsyncAppend, fsyncRaw), 3);
  putSummary(out, 'raw_read_mb_s', rawRead);
  putSummary(out, 'append_concurrent_mb_s', concurrent);
  out.buffers = HEADLINE_MODE;
  for (const mode of MODES) {
    if (mode !== HEADLINE_MODE) {
      out[`${mode}_append_mb_s`] = round(median(append[mode]));
      out[`${mode}_raw_mb_s`] = round(median(raw[mode]));
      out[`${mode}_ratio`] = ratio(append[mode], raw[mode]);
    }
    if (COPY_MODES.includes(mode)) out[`${mode}_copy_only_mb_s`] = round(median(takeOnly[mode]));
  }
  Object.assign(out, {
    volume_mib: round((vol.batchCount * vol.batchBytes) / MIB),
    fsync_volume_mib: round((fsyncBatches * vol.batchBytes) / MIB),
    batch_bytes: vol.batchBytes,
    records_per_batch: vol.recordsPerBatch,
    concurrent_appenders: FSYNC_APPENDERS,
    fsync_raw_write_bytes: FSYNC_APPENDERS * vol.batchBytes,
    reps: plan.reps,
    quick: opts.quick,
  });
  return out;
}

if (import.meta.main) await runDirectly(run);
