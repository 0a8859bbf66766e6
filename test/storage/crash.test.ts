/**
 * @module
 * Crash recovery of the file log: partition directories copied as a kill -9 leaves them (no close), then
 * torn, bit-flipped or stripped of their indexes, must reopen to exactly a whole-batch prefix of what was
 * appended; and a clean open of many segments must not read the old ones.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logConfig } from '../../src/config/log-config.ts';
import { OFFSET_LEADER_EPOCH } from '../../src/records/batch-header.ts';
import { openFileLog } from '../../src/storage/file-log.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import {
  batchHeaders,
  concatBytes,
  encodeBatch,
  expectBrokerError,
  manualClock,
  readAll,
  seededRandom,
  slicesBytes,
  text,
} from './support.ts';

interface AppendedRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

interface AppendedBatch {
  base: number;
  last: number;
  records: AppendedRecord[];
}

type Damage = 'cut' | 'flip' | 'drop-indexes' | 'garbage-indexes' | 'cut-and-garbage';
const DAMAGES: Damage[] = ['cut', 'flip', 'drop-indexes', 'garbage-indexes', 'cut-and-garbage'];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-crash-'));
  dirs.push(dir);
  return dir;
}

/** The files of a partition directory exactly as they are now (what a kill -9 leaves in the page cache). */
function snapshot(dir: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const name of fs.readdirSync(dir))
    files.set(name, new Uint8Array(fs.readFileSync(path.join(dir, name))));
  return files;
}

function restore(files: Map<string, Uint8Array>): string {
  const dir = tempDir();
  for (const [name, bytes] of files) fs.writeFileSync(path.join(dir, name), bytes);
  return dir;
}

/** Segment base offsets of the `.log` files, oldest first. */
function segmentBases(files: Map<string, Uint8Array>): string[] {
  return [...files.keys()]
    .filter((name) => /^\d{20}\.log$/.test(name))
    .map((name) => name.slice(0, 20))
    .sort();
}

const plain = (r: {
  offset: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  timestamp: number;
}) => ({
  offset: r.offset,
  key: text(r.key),
  value: text(r.value),
  timestamp: r.timestamp,
});

function randomString(random: () => number, max: number): string {
  const length = Math.floor(random() * max);
  let s = '';
  for (let i = 0; i < length; i++) s += String.fromCharCode(32 + Math.floor(random() * 95));
  return s;
}

/** Appends random batches without closing; returns what was appended and the directory as a crash leaves it. */
async function appendAndCrash(random: () => number) {
  const dir = tempDir();
  const clock = manualClock();
  const config = logConfig({
    segmentBytes: 400 + Math.floor(random() * 2_600),
    indexIntervalBytes: 1 + Math.floor(random() * 500),
    flushPolicy: 'interval',
    flushMessages: random() < 0.5 ? 1 + Math.floor(random() * 20) : Number.MAX_SAFE_INTEGER,
  });
  const log = await openFileLog(dir, { config, clock });
  const appended: AppendedBatch[] = [];
  const appends = 5 + Math.floor(random() * 20);
  for (let i = 0; i < appends; i++) {
    // Minutes apart, so the recovery-point checkpoint (written on a timer of the clock) moves now and then.
    clock.advance(Math.floor(random() * 40_000));
    const batches = Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
      Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({
        key: random() < 0.3 ? null : randomString(random, 10),
        value: random() < 0.1 ? null : randomString(random, 60),
        timestamp: clock() + Math.floor(random() * 10_000) - 5_000,
      })),
    );
    const encoder = new TextEncoder();
    const bytes = concatBytes(
      batches.map((records) =>
        encodeBatch(
          records.map((r) => ({
            key: r.key === null ? null : encoder.encode(r.key),
            value: r.value === null ? null : encoder.encode(r.value),
            timestamp: r.timestamp,
          })),
        ),
      ),
    );
    let offset = (await log.append(bytes)).baseOffset;
    for (const records of batches) {
      const base = offset;
      appended.push({
        base,
        last: base + records.length - 1,
        records: records.map((r) => ({ offset: offset++, ...r })),
      });
    }
    // Now and then an fsync, so the recovery point moves and some damage lands below it.
    if (random() < 0.2) await log.flush();
  }
  // Taken synchronously right after the last awaited append: nothing else has run since.
  const files = snapshot(dir);
  await log.close();
  return { files, appended, config, clock };
}

/**
 * Damages `files` in place. Returns how many batches of the active segment must survive, how many bytes
 * they take, and the active `.log`'s size after the damage (recovery must cut exactly the difference).
 */
function damage(files: Map<string, Uint8Array>, kind: Damage, random: () => number) {
  const bases = segmentBases(files);
  const activeName = `${bases.at(-1)!}.log`;
  const active = files.get(activeName)!;
  const batches = batchHeaders(active);
  const ends: number[] = [];
  for (const header of batches) ends.push((ends.at(-1) ?? 0) + header.sizeInBytes);
  let survivors = Number.POSITIVE_INFINITY;

  if (kind === 'cut' || kind === 'cut-and-garbage') {
    const cut = Math.floor(random() * (active.length + 1));
    files.set(activeName, active.slice(0, cut));
    survivors = ends.filter((end) => end <= cut).length;
  }
  if (kind === 'flip' && active.length > 0) {
    const flipped = active.slice();
    let first = Number.POSITIVE_INFINITY;
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      const position = Math.floor(random() * active.length);
      const batch = ends.findIndex((end) => end > position);
      const within = position - (batch === 0 ? 0 : ends[batch - 1]!);
      // partitionLeaderEpoch is outside the CRC by design: a flip there is undetectable and harmless.
      if (within >= OFFSET_LEADER_EPOCH && within < OFFSET_LEADER_EPOCH + 4) continue;
      flipped[position]! ^= 1 << Math.floor(random() * 8);
      first = Math.min(first, batch);
    }
    files.set(activeName, flipped);
    survivors = first;
  }
  survivors = Math.min(survivors, batches.length);
  if (kind === 'drop-indexes') {
    for (const base of bases) {
      for (const suffix of ['.index', '.timeindex']) {
        const name = `${base}${suffix}`;
        const bytes = files.get(name);
        if (bytes === undefined || random() < 0.4) continue;
        if (random() < 0.5) files.delete(name);
        else files.set(name, bytes.slice(0, Math.floor(random() * bytes.length)));
      }
    }
  }
  if (kind === 'garbage-indexes' || kind === 'cut-and-garbage') {
    for (const base of bases) {
      for (const suffix of ['.index', '.timeindex']) {
        if (random() < 0.4) continue;
        files.set(`${base}${suffix}`, garbageIndex(random, files.get(`${base}.log`)?.length ?? 0));
      }
    }
  }
  return {
    survivors,
    keptBytes: survivors === 0 ? 0 : ends[survivors - 1]!,
    damagedSize: files.get(activeName)!.length,
  };
}

/**
 * Either random bytes, or worse: plausible entries (increasing relative offsets and positions inside the
 * log) that point between batches, which only a check against the `.log` itself can tell from the truth.
 */
function garbageIndex(random: () => number, logSize: number): Uint8Array {
  if (random() < 0.5 || logSize < 16) {
    return Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
  }
  const entries = 1 + Math.floor(random() * 4);
  const out = new Uint8Array(entries * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < entries; i++) {
    dv.setInt32(i * 8, i * 2 + 1);
    dv.setInt32(i * 8 + 4, Math.min(logSize - 1, Math.floor(((i + 1) * logSize) / (entries + 2)) + 3));
  }
  return out;
}

/** Checks the reopened log against the expected prefix: content, ends, reads, timestamps, and an append. */
async function checkRecovered(
  log: PartitionLog,
  expected: AppendedBatch[],
  random: () => number,
  clock: () => number,
) {
  const records = expected.flatMap((b) => b.records);
  const end = expected.length === 0 ? 0 : expected.at(-1)!.last + 1;
  expect([log.logStartOffset, log.logEndOffset]).toEqual([0, end]);
  expect((await readAll(log)).map(plain)).toEqual(records);

  for (let n = 0; n < 25 && end > 0; n++) {
    const from = Math.floor(random() * (end + 1));
    const maxBytes = Math.floor(random() * 3_000);
    const raw = await log.read(from, maxBytes);
    const decoded = await log.readRecords(from, maxBytes);
    expect(decoded.nextOffset).toBe(raw.nextOffset);
    const headers = batchHeaders(slicesBytes(raw.slices));
    if (from === end) {
      expect(headers).toEqual([]);
      continue;
    }
    const first = expected.findIndex((b) => b.base <= from && from <= b.last);
    expect(headers.map((h) => h.baseOffset)).toEqual(
      expected.slice(first, first + headers.length).map((b) => b.base),
    );
    expect(decoded.records.map(plain)).toEqual(
      records.filter((r) => r.offset >= from && r.offset < raw.nextOffset),
    );
  }

  for (let n = 0; n < 10; n++) {
    const target = clock() + Math.floor(random() * 2_000_000) - 1_500_000;
    const hit = records.find((r) => r.timestamp >= target);
    expect(await log.offsetForTimestamp(target)).toEqual(
      hit === undefined ? null : { offset: hit.offset, timestamp: hit.timestamp },
    );
  }

  const result = await log.append(
    encodeBatch([{ value: new TextEncoder().encode('after'), timestamp: clock() }]),
  );
  expect(result.baseOffset).toBe(end);
  expect((await log.readRecords(end, 1_000)).records.map((r) => text(r.value))).toEqual(['after']);
}

describe('file log crash recovery', () => {
  it.each(Array.from({ length: 50 }, (_, seed) => ({ seed, kind: DAMAGES[seed % DAMAGES.length]! })))(
    'seed $seed: $kind recovers to a whole-batch prefix',
    async ({ seed, kind }) => {
      const random = seededRandom(seed + 1);
      const { files, appended, config, clock } = await appendAndCrash(random);
      const activeBase = Number(segmentBases(files).at(-1)!);
      const { survivors, keptBytes, damagedSize } = damage(files, kind, random);
      const expected = [
        ...appended.filter((b) => b.base < activeBase),
        ...appended.filter((b) => b.base >= activeBase).slice(0, survivors),
      ];

      const checkpoint = files.get('recovery-point.checkpoint');
      const recoveryPoint =
        checkpoint === undefined ? 0 : Number(new TextDecoder().decode(checkpoint).split('\n')[1]);
      const end = expected.length === 0 ? activeBase : expected.at(-1)!.last + 1;

      const log = await openFileLog(restore(files), { config, clock });
      try {
        const report = log.recoveryReport;
        expect(report.bytesTruncated).toBe(damagedSize - keptBytes);
        // Losing fsynced records is reported, with the file, position and count; losing the rest is not.
        expect(report.flushedCorruption).toEqual(
          end < recoveryPoint
            ? [
                {
                  file: expect.stringContaining(`${String(activeBase).padStart(20, '0')}.log`),
                  position: keptBytes,
                  reason: expect.any(String),
                  offsetsLost: recoveryPoint - end,
                },
              ]
            : [],
        );
        await checkRecovered(log, expected, random, clock);
      } finally {
        await log.close();
      }
    },
  );

  it('opens 200 clean segments without reading the old ones; a read that reaches one finds its corruption', async () => {
    const dir = tempDir();
    const clock = manualClock();
    const config = logConfig({ segmentBytes: 1 });
    const first = await openFileLog(dir, { config, clock });
    for (let i = 0; i < 200; i++) {
      await first.append(encodeBatch([{ value: new TextEncoder().encode(`v${i}`), timestamp: clock() }]));
    }
    expect(first.segmentCount).toBe(200);
    await first.close();

    const oldest = path.join(dir, `${'0'.repeat(20)}.log`);
    const bytes = fs.readFileSync(oldest);
    bytes[bytes.length - 1]! ^= 0xff;
    fs.writeFileSync(oldest, bytes);

    const log = await openFileLog(dir, { config, clock });
    try {
      // A clean open revalidates nothing, so the corruption cannot have been seen yet.
      expect(log.recoveryReport).toEqual({
        segmentsRecovered: 0,
        bytesTruncated: 0,
        indexesRebuilt: 0,
        flushedCorruption: [],
      });
      expect([log.logStartOffset, log.logEndOffset, log.segmentCount]).toEqual([0, 200, 200]);
      expect((await log.readRecords(1, 1 << 20)).records[0]?.offset).toBe(1);
      const error = await expectBrokerError(log.readRecords(0, 1 << 20), 'CORRUPT_MESSAGE');
      expect(error.message).toContain(`${'0'.repeat(20)}.log`);
    } finally {
      await log.close();
    }
  });
});
