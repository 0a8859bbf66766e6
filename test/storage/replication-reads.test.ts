/**
 * @module
 * What replication asks of a PartitionLog, on both implementations: reads bounded by `maxOffset` (a
 * replicated partition's high watermark: only whole batches ending below it), a follower's append that keeps
 * the leader's offsets and epochs (`keepOffsets`) and refuses a gap or overlap, and a leader's append that
 * stamps its epoch into every batch (`leaderEpoch`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogConfig, logConfig } from '../../src/config/log-config.ts';
import { encodeRecordBatch } from '../../src/records/record-batch.ts';
import { openFileLog } from '../../src/storage/file-log.ts';
import { MemoryLog } from '../../src/storage/memory-log.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import {
  batchOf,
  concatBytes,
  expectBrokerError,
  manualClock,
  readAll,
  readAllBytes,
  slicesBytes,
  text,
  utf8,
} from './support.ts';

const TIMESTAMP = 1_700_000_000_000;

interface LogKind {
  name: string;
  open(config?: Partial<LogConfig>): Promise<PartitionLog>;
}

/** File logs opened by the current test: closed and their directories removed after it. */
const opened: Array<{ dir: string; log: PartitionLog }> = [];

afterEach(async () => {
  for (const { dir, log } of opened.splice(0)) {
    await log.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function openFileLogInTempDir(config: Partial<LogConfig> = {}): Promise<PartitionLog> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-replication-reads-'));
  const log = await openFileLog(dir, { config: logConfig(config), clock: manualClock() });
  opened.push({ dir, log });
  return log;
}

const kinds: LogKind[] = [
  {
    name: 'MemoryLog',
    open: async (config = {}) => new MemoryLog({ config: logConfig(config), clock: manualClock() }),
  },
  { name: 'FileLog', open: openFileLogInTempDir },
];

/** A batch of `count` records `<tag>0..`, as a producer sends it (baseOffset 0, epoch -1). */
function batch(count: number, tag = 'a'): Uint8Array {
  return batchOf(
    Array.from({ length: count }, (_, i) => `${tag}${i}`),
    TIMESTAMP,
  );
}

/** A batch as a leader stores it: its own baseOffset and partitionLeaderEpoch, `count` records. */
function leaderBatch(baseOffset: number, count: number, epoch: number, tag = 'l'): Uint8Array {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({
      key: null,
      value: utf8(`${tag}${baseOffset + i}`),
      timestamp: TIMESTAMP,
    })),
    { baseOffset, partitionLeaderEpoch: epoch },
  );
}

/**
 * The header fields replication relies on, read straight from the bytes (not through src/records):
 * baseOffset is the int64 at byte 0, batchLength the int32 at byte 8, partitionLeaderEpoch the int32 at 12.
 */
function rawHeaders(bytes: Uint8Array): Array<{ baseOffset: number; epoch: number }> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<{ baseOffset: number; epoch: number }> = [];
  for (let pos = 0; pos < bytes.length; pos += 12 + dv.getInt32(pos + 8)) {
    out.push({ baseOffset: Number(dv.getBigInt64(pos)), epoch: dv.getInt32(pos + 12) });
  }
  return out;
}

describe.each(kinds)('replication building blocks: $name', (kind) => {
  describe('read and readRecords with maxOffset', () => {
    const SIZE = batch(3, 'b0-').length;

    /** Five batches of three records: offsets 0-2, 3-5, 6-8, 9-11, 12-14. */
    async function fiveBatches(config: Partial<LogConfig> = {}): Promise<PartitionLog> {
      const log = await kind.open(config);
      for (let i = 0; i < 5; i++) await log.append(batch(3, `b${i}-`));
      expect(log.logEndOffset).toBe(15);
      return log;
    }

    const cases: Array<{ from: number; maxOffset: number | undefined; bases: number[]; next: number }> = [
      { from: 0, maxOffset: undefined, bases: [0, 3, 6, 9, 12], next: 15 },
      { from: 0, maxOffset: 15, bases: [0, 3, 6, 9, 12], next: 15 },
      { from: 0, maxOffset: 100, bases: [0, 3, 6, 9, 12], next: 15 },
      { from: 0, maxOffset: 14, bases: [0, 3, 6, 9], next: 12 },
      { from: 0, maxOffset: 9, bases: [0, 3, 6], next: 9 },
      { from: 0, maxOffset: 7, bases: [0, 3], next: 6 },
      { from: 0, maxOffset: 3, bases: [0], next: 3 },
      { from: 0, maxOffset: 2, bases: [], next: 0 },
      { from: 0, maxOffset: 0, bases: [], next: 0 },
      { from: 4, maxOffset: 6, bases: [3], next: 6 },
      { from: 4, maxOffset: 5, bases: [], next: 4 },
      { from: 3, maxOffset: 5, bases: [], next: 3 },
      { from: 6, maxOffset: 8, bases: [], next: 6 },
      { from: 7, maxOffset: 12, bases: [6, 9], next: 12 },
      { from: 12, maxOffset: 14, bases: [], next: 12 },
      { from: 15, maxOffset: 15, bases: [], next: 15 },
      { from: 15, maxOffset: undefined, bases: [], next: 15 },
    ];

    for (const [layout, config] of [
      ['one segment', {}],
      ['two batches per segment', { segmentBytes: 2 * SIZE }],
    ] as const) {
      it.each(cases)(`read from $from below $maxOffset (${layout}): batches $bases`, async (c) => {
        const log = await fiveBatches(config);
        if (layout !== 'one segment') expect(log.segmentCount).toBe(3);
        const result = await log.read(c.from, 1 << 20, c.maxOffset);
        const bytes = slicesBytes(result.slices);
        expect(rawHeaders(bytes).map((h) => h.baseOffset)).toEqual(c.bases);
        expect(result.sizeInBytes).toBe(c.bases.length * SIZE);
        expect(bytes.length).toBe(result.sizeInBytes);
        expect(result.nextOffset).toBe(c.next);
        expect([result.logStartOffset, result.logEndOffset]).toEqual([0, 15]);
      });

      it.each(cases)(`readRecords from $from below $maxOffset (${layout})`, async (c) => {
        const log = await fiveBatches(config);
        const result = await log.readRecords(c.from, 1 << 20, c.maxOffset);
        const expected = Array.from({ length: Math.max(0, c.next - c.from) }, (_, i) => c.from + i);
        expect(result.records.map((r) => r.offset)).toEqual(expected);
        expect(result.records.map((r) => text(r.value))).toEqual(
          expected.map((o) => `b${Math.floor(o / 3)}-${o % 3}`),
        );
        expect(result.nextOffset).toBe(c.next);
        expect([result.logStartOffset, result.logEndOffset]).toEqual([0, 15]);
      });
    }

    it('maxBytes and maxOffset both bound the answer; "at least one batch" never passes maxOffset', async () => {
      const log = await fiveBatches();
      for (const [maxBytes, maxOffset, bases, next] of [
        [1, 9, [0], 3],
        [0, 9, [0], 3],
        [2 * SIZE, 9, [0, 3], 6],
        [2 * SIZE, 4, [0], 3],
        [0, 2, [], 0],
        [1, 1, [], 0],
      ] as const) {
        const result = await log.read(0, maxBytes, maxOffset);
        const what = `maxBytes ${maxBytes}, maxOffset ${maxOffset}`;
        expect(
          rawHeaders(slicesBytes(result.slices)).map((h) => h.baseOffset),
          what,
        ).toEqual(bases);
        expect(result.nextOffset, what).toBe(next);
        const records = await log.readRecords(0, maxBytes, maxOffset);
        expect(records.nextOffset, what).toBe(next);
        expect(records.records.length, what).toBe(next);
      }
    });

    it('an empty answer still reports the log bounds, and a later read from the same offset sees new data', async () => {
      const log = await fiveBatches();
      const empty = await log.read(15, 1 << 20, 15);
      expect(empty).toMatchObject({ slices: [], sizeInBytes: 0, nextOffset: 15, logEndOffset: 15 });
      await log.append(batch(2, 'n'));
      expect((await log.read(15, 1 << 20, 17)).nextOffset).toBe(17);
      expect((await log.read(15, 1 << 20, 16)).nextOffset).toBe(15);
    });
  });

  describe('append with keepOffsets (a follower copying its leader)', () => {
    it("keeps the batches' own baseOffsets and partitionLeaderEpochs and stores them byte for byte", async () => {
      const log = await kind.open();
      const first = concatBytes([leaderBatch(0, 2, 5), leaderBatch(2, 3, 5), leaderBatch(5, 1, 6)]);
      const sent = first.slice();
      expect(await log.append(first, { keepOffsets: true })).toEqual({
        baseOffset: 0,
        lastOffset: 5,
        recordCount: 6,
        batchCount: 3,
      });
      const second = leaderBatch(6, 2, 9);
      expect(await log.append(second.slice(), { keepOffsets: true })).toEqual({
        baseOffset: 6,
        lastOffset: 7,
        recordCount: 2,
        batchCount: 1,
      });
      expect(log.logEndOffset).toBe(8);
      const stored = await readAllBytes(log);
      expect(stored).toEqual(concatBytes([sent, second]));
      expect(rawHeaders(stored)).toEqual([
        { baseOffset: 0, epoch: 5 },
        { baseOffset: 2, epoch: 5 },
        { baseOffset: 5, epoch: 6 },
        { baseOffset: 6, epoch: 9 },
      ]);
      expect((await readAll(log)).map((r) => [r.offset, text(r.value)])).toEqual(
        Array.from({ length: 8 }, (_, i) => [i, `l${i}`]),
      );
    });

    it("copies a leader's log read by read, ending identical to it", async () => {
      const leader = await kind.open();
      await leader.append(concatBytes([batch(2, 'a'), batch(3, 'b')]), { leaderEpoch: 0 });
      await leader.append(batch(1, 'c'), { leaderEpoch: 0 });
      await leader.append(concatBytes([batch(4, 'd'), batch(2, 'e')]), { leaderEpoch: 2 });
      const follower = await kind.open();
      while (follower.logEndOffset < leader.logEndOffset) {
        const read = await leader.read(follower.logEndOffset, 1);
        const result = await follower.append(slicesBytes(read.slices), { keepOffsets: true });
        expect(result.baseOffset).toBe(read.nextOffset - result.recordCount);
        expect(follower.logEndOffset).toBe(read.nextOffset);
      }
      expect(await readAllBytes(follower)).toEqual(await readAllBytes(leader));
      expect(rawHeaders(await readAllBytes(follower)).map((h) => h.epoch)).toEqual([0, 0, 0, 2, 2]);
    });

    it('a log emptied at offset 6 takes batches starting at 6 and refuses one starting at 0', async () => {
      const log = await kind.open();
      await log.append(concatBytes([batch(2), batch(4)]));
      await log.deleteRecordsBefore(6);
      expect([log.logStartOffset, log.logEndOffset]).toEqual([6, 6]);
      await expectBrokerError(log.append(leaderBatch(0, 2, 1), { keepOffsets: true }), 'OFFSET_OUT_OF_RANGE');
      expect(await log.append(leaderBatch(6, 2, 1), { keepOffsets: true })).toMatchObject({
        baseOffset: 6,
        lastOffset: 7,
      });
      expect((await readAll(log)).map((r) => r.offset)).toEqual([6, 7]);
    });

    const refused: Array<{ name: string; batches: Uint8Array[] }> = [
      { name: 'first batch leaves a gap after the log end', batches: [leaderBatch(6, 1, 1)] },
      { name: 'first batch far ahead', batches: [leaderBatch(1_000, 1, 1)] },
      { name: 'first batch overlaps the log end', batches: [leaderBatch(4, 2, 1)] },
      { name: 'first batch replays the log from 0', batches: [leaderBatch(0, 2, 1)] },
      { name: 'second batch leaves a gap', batches: [leaderBatch(5, 2, 1), leaderBatch(8, 1, 1)] },
      { name: 'second batch overlaps the first', batches: [leaderBatch(5, 2, 1), leaderBatch(6, 1, 1)] },
      { name: 'second batch repeats the first', batches: [leaderBatch(5, 2, 1), leaderBatch(5, 2, 1)] },
      {
        name: 'third batch leaves a gap after two good ones',
        batches: [leaderBatch(5, 1, 1), leaderBatch(6, 2, 1), leaderBatch(9, 1, 1)],
      },
    ];

    it.each(refused)('refused with OFFSET_OUT_OF_RANGE, nothing written: $name', async ({ batches }) => {
      const log = await kind.open();
      await log.append(concatBytes([leaderBatch(0, 2, 1), leaderBatch(2, 3, 1)]), { keepOffsets: true });
      const before = await readAllBytes(log);
      const size = log.sizeInBytes;
      await expectBrokerError(log.append(concatBytes(batches), { keepOffsets: true }), 'OFFSET_OUT_OF_RANGE');
      expect(log.logEndOffset).toBe(5);
      expect(log.sizeInBytes).toBe(size);
      expect(await readAllBytes(log)).toEqual(before);
      // The log still takes the batch that does follow on.
      expect(await log.append(leaderBatch(5, 2, 1), { keepOffsets: true })).toMatchObject({
        baseOffset: 5,
        lastOffset: 6,
      });
      expect((await readAll(log)).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    });

    it('without keepOffsets the same out-of-place batches are renumbered, not refused', async () => {
      const log = await kind.open();
      await log.append(leaderBatch(0, 5, 1));
      const result = await log.append(concatBytes([leaderBatch(100, 2, 1), leaderBatch(50, 1, 1)]));
      expect(result).toMatchObject({ baseOffset: 5, lastOffset: 7 });
      expect(rawHeaders(await readAllBytes(log)).map((h) => h.baseOffset)).toEqual([0, 5, 7]);
    });
  });

  describe('append with leaderEpoch', () => {
    it('writes the epoch into every batch of the append, whatever epoch they carried', async () => {
      const log = await kind.open();
      await log.append(batch(1, 'x'));
      const appended = concatBytes([batch(2, 'a'), leaderBatch(0, 3, 2), batch(1, 'c')]);
      await log.append(appended, { leaderEpoch: 7 });
      await log.append(concatBytes([batch(1, 'd'), batch(2, 'e')]), { leaderEpoch: 8 });
      const stored = await readAllBytes(log);
      // The first append had no leaderEpoch: the batch keeps what it was sent with (-1 from a producer).
      expect(rawHeaders(stored).map((h) => h.epoch)).toEqual([-1, 7, 7, 7, 8, 8]);
      expect(rawHeaders(stored).map((h) => h.baseOffset)).toEqual([0, 1, 3, 6, 7, 8]);
      // The caller's buffer is stamped in place too (as baseOffset is), and the CRC still holds.
      expect(rawHeaders(appended).map((h) => h.epoch)).toEqual([7, 7, 7]);
      expect((await readAll(log)).map((r) => text(r.value))).toEqual([
        'x0',
        'a0',
        'a1',
        'l0',
        'l1',
        'l2',
        'c0',
        'd0',
        'e0',
        'e1',
      ]);
    });

    it('epoch 0 is written too (not taken for "no epoch")', async () => {
      const log = await kind.open();
      await log.append(leaderBatch(0, 2, 5), { leaderEpoch: 0 });
      expect(rawHeaders(await readAllBytes(log)).map((h) => h.epoch)).toEqual([0]);
    });
  });
});

describe('FileLog: replicated batches on disk', () => {
  it('keeps the leader offsets and epochs across segment rolls and a reopen', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-replication-reads-'));
    const options = {
      config: logConfig({ segmentBytes: 2 * leaderBatch(0, 2, 1).length }),
      clock: manualClock(),
    };
    let log: PartitionLog = await openFileLog(dir, options);
    opened.push({ dir, log });
    const sent = [
      leaderBatch(0, 2, 1),
      leaderBatch(2, 2, 1),
      leaderBatch(4, 2, 3),
      leaderBatch(6, 2, 3),
      leaderBatch(8, 2, 4),
    ];
    for (const b of sent) await log.append(b.slice(), { keepOffsets: true });
    expect(log.segmentCount).toBe(3);
    expect((await log.read(0, 1 << 20, 7)).nextOffset).toBe(6);
    await log.close();
    log = await openFileLog(dir, options);
    opened[opened.length - 1]!.log = log;
    expect(log.logEndOffset).toBe(10);
    const stored = await readAllBytes(log);
    expect(stored).toEqual(concatBytes(sent));
    expect(rawHeaders(stored).map((h) => h.epoch)).toEqual([1, 1, 3, 3, 4]);
    expect((await log.read(3, 1 << 20, 8)).nextOffset).toBe(8);
    await expectBrokerError(log.append(leaderBatch(9, 1, 4), { keepOffsets: true }), 'OFFSET_OUT_OF_RANGE');
    expect(await log.append(leaderBatch(10, 1, 4), { keepOffsets: true })).toMatchObject({ baseOffset: 10 });
  });
});
