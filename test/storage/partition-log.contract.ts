/**
 * @module
 * The contract every PartitionLog implementation passes (memory and file), written against the doc comments
 * of `src/storage/partition-log.ts`: one suite, run by `memory-log.test.ts` and `file-log.test.ts`.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { LogConfig } from '../../src/config/log-config.ts';
import {
  computeBatchCrc,
  OFFSET_CRC,
  OFFSET_MAGIC,
  OFFSET_RECORD_COUNT,
  setLogAppendTime,
} from '../../src/records/batch-header.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import {
  batchHeaders,
  batchOf,
  concatBytes,
  encodeBatch,
  expectBrokerError,
  type ManualClock,
  manualClock,
  readAll,
  readAllBytes,
  slicesBytes,
  text,
  utf8,
} from './support.ts';

export type PartitionLogFactory = (
  config: Partial<LogConfig>,
  clock: () => number,
) => Promise<{ log: PartitionLog; reopen?: () => Promise<PartitionLog> }>;

export interface ContractOptions {
  /** The factory gives `reopen` (closes the log and opens the same storage again): run the reopen tests. */
  reopenable?: boolean;
}

const HOUR = 60 * 60 * 1000;

/** Fails (instead of hanging the suite) when `promise` does not settle within a few seconds. */
async function settles<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function partitionLogContract(
  name: string,
  factory: PartitionLogFactory,
  options: ContractOptions = {},
) {
  describe(`PartitionLog contract: ${name}`, () => {
    let clock: ManualClock;
    beforeEach(() => {
      clock = manualClock();
    });

    const open = (config: Partial<LogConfig> = {}) => factory(config, clock);
    /** A batch of `count` records tagged `tag`, stamped with the clock; same count => same size. */
    const batch = (count: number, tag = 'a') =>
      batchOf(
        Array.from({ length: count }, (_, i) => `${tag}${i}`),
        clock(),
      );
    /** Encoded size of `batch(count, tag)`; tags of the same length give the same size. */
    const sizeOf = (count: number, tag = 'a') => batch(count, tag).length;
    const values = async (log: PartitionLog) => (await readAll(log)).map((r) => text(r.value));
    const offsets = async (log: PartitionLog) => (await readAll(log)).map((r) => r.offset);

    describe('empty log', () => {
      it('starts at offset 0 with one empty segment and a clean report', async () => {
        const { log } = await open();
        expect([log.logStartOffset, log.logEndOffset, log.flushedOffset, log.sizeInBytes]).toEqual([
          0, 0, 0, 0,
        ]);
        expect(log.segmentCount).toBe(1);
        expect(log.recoveryReport).toEqual({
          segmentsRecovered: 0,
          bytesTruncated: 0,
          indexesRebuilt: 0,
          flushedCorruption: [],
        });
        const read = await log.read(0, 1000);
        expect(read).toMatchObject({
          slices: [],
          sizeInBytes: 0,
          nextOffset: 0,
          logStartOffset: 0,
          logEndOffset: 0,
        });
        expect((await log.readRecords(0, 1000)).records).toEqual([]);
        expect(await log.offsetForTimestamp(0)).toBeNull();
      });
    });

    describe('append', () => {
      it('round-trips records: keys, values, headers, timestamps, null keys and values', async () => {
        const { log } = await open();
        const input = [
          { key: utf8('k1'), value: utf8('one'), timestamp: 1000, headers: [{ key: 'h', value: utf8('x') }] },
          { key: null, value: utf8('two'), timestamp: 1001 },
          { key: utf8('k3'), value: null, timestamp: 999, headers: [{ key: 'nil', value: null }] },
        ];
        const result = await log.append(encodeBatch(input));
        expect(result).toEqual({ baseOffset: 0, lastOffset: 2, recordCount: 3, batchCount: 1 });
        expect(log.logEndOffset).toBe(3);
        const { records, nextOffset } = await log.readRecords(0, 1 << 20);
        expect(nextOffset).toBe(3);
        expect(records.map((r) => r.offset)).toEqual([0, 1, 2]);
        expect(records.map((r) => [text(r.key), text(r.value), r.timestamp])).toEqual([
          ['k1', 'one', 1000],
          [null, 'two', 1001],
          ['k3', null, 999],
        ]);
        expect(records[0]!.headers.map((h) => [h.key, text(h.value)])).toEqual([['h', 'x']]);
        expect(records[1]!.headers).toEqual([]);
        expect(records[2]!.headers).toEqual([{ key: 'nil', value: null }]);
      });

      it('rewrites each baseOffset in the caller buffer and stores the batches byte for byte', async () => {
        const { log } = await open();
        await log.append(batch(2));
        const second = concatBytes([batch(3, 'b'), batch(1, 'c')]);
        await log.append(second);
        expect(batchHeaders(second).map((h) => h.baseOffset)).toEqual([2, 5]);
        const stored = await log.read(2, 1 << 20);
        expect(slicesBytes(stored.slices)).toEqual(second);
        expect(stored.sizeInBytes).toBe(second.length);
      });

      it('appends concatenated batches as one unit with consecutive offsets', async () => {
        const { log } = await open();
        const result = await log.append(concatBytes([batch(2, 'a'), batch(1, 'b'), batch(4, 'c')]));
        expect(result).toEqual({ baseOffset: 0, lastOffset: 6, recordCount: 7, batchCount: 3 });
        expect(batchHeaders(await readAllBytes(log)).map((h) => [h.baseOffset, h.recordCount])).toEqual([
          [0, 2],
          [2, 1],
          [3, 4],
        ]);
        expect(await values(log)).toEqual(['a0', 'a1', 'b0', 'c0', 'c1', 'c2', 'c3']);
      });

      it('assigns gap-free offsets over many appends and counts bytes', async () => {
        const { log } = await open();
        let expected = 0;
        let bytes = 0;
        for (let i = 1; i <= 20; i++) {
          const b = batch((i % 5) + 1, `x${i}-`);
          bytes += b.length;
          const result = await log.append(b);
          expect(result.baseOffset).toBe(expected);
          expected = result.lastOffset + 1;
        }
        expect(log.logEndOffset).toBe(expected);
        expect(log.sizeInBytes).toBe(bytes);
        expect(await offsets(log)).toEqual(Array.from({ length: expected }, (_, i) => i));
      });

      it('writes the leader epoch into every batch when asked', async () => {
        const { log } = await open();
        await log.append(batch(1));
        await log.append(concatBytes([batch(1), batch(2)]), { leaderEpoch: 7 });
        const epochs = batchHeaders(await readAllBytes(log)).map((h) => h.partitionLeaderEpoch);
        expect(epochs.slice(1)).toEqual([7, 7]);
      });

      it('gives concurrent appends disjoint, gap-free offset ranges', async () => {
        const { log } = await open();
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => log.append(batch(i + 1, `p${i}-`))),
        );
        const ranges = results.map((r) => [r.baseOffset, r.lastOffset] as const).sort((x, y) => x[0] - y[0]);
        let next = 0;
        for (const [base, last] of ranges) {
          expect(base).toBe(next);
          next = last + 1;
        }
        expect(next).toBe(36);
        expect(log.logEndOffset).toBe(36);
        const records = await readAll(log);
        results.forEach((r, i) => {
          const mine = records.filter((rec) => rec.offset >= r.baseOffset && rec.offset <= r.lastOffset);
          expect(mine.map((rec) => text(rec.value))).toEqual(
            Array.from({ length: i + 1 }, (_, j) => `p${i}-${j}`),
          );
        });
      });
    });

    describe('append rejects bad input and writes nothing', () => {
      async function expectNothingWritten(log: PartitionLog, end: number, size: number) {
        expect(log.logEndOffset).toBe(end);
        expect(log.sizeInBytes).toBe(size);
        const result = await log.append(batch(1, 'after'));
        expect(result.baseOffset).toBe(end);
        expect((await values(log)).at(-1)).toBe('after0');
      }

      it('a CRC mismatch: CORRUPT_MESSAGE', async () => {
        const { log } = await open();
        await log.append(batch(2));
        const bad = batch(2, 'b');
        bad[bad.length - 1]! ^= 0xff;
        await expectBrokerError(log.append(bad), 'CORRUPT_MESSAGE');
        await expectNothingWritten(log, 2, sizeOf(2));
      });

      it('a bad batch after good ones in the same append: nothing of it is written', async () => {
        const { log } = await open();
        const bad = batch(1, 'z');
        bad[bad.length - 2]! ^= 0x01;
        await expectBrokerError(
          log.append(concatBytes([batch(2, 'a'), batch(2, 'b'), bad])),
          'CORRUPT_MESSAGE',
        );
        await expectNothingWritten(log, 0, 0);
      });

      it('a truncated batch or trailing bytes: CORRUPT_MESSAGE', async () => {
        const { log } = await open();
        const b = batch(3);
        await expectBrokerError(log.append(b.subarray(0, b.length - 1)), 'CORRUPT_MESSAGE');
        await expectBrokerError(log.append(b.subarray(0, 30)), 'CORRUPT_MESSAGE');
        await expectBrokerError(log.append(concatBytes([batch(3), new Uint8Array(5)])), 'CORRUPT_MESSAGE');
        await expectNothingWritten(log, 0, 0);
      });

      it('a magic other than 2: CORRUPT_MESSAGE', async () => {
        const { log } = await open();
        const b = batch(1);
        b[OFFSET_MAGIC] = 1;
        await expectBrokerError(log.append(b), 'CORRUPT_MESSAGE');
        await expectNothingWritten(log, 0, 0);
      });

      it('a record count that disagrees with the records (CRC recomputed): rejected', async () => {
        const { log } = await open();
        const b = batch(3);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        dv.setInt32(OFFSET_RECORD_COUNT, 2);
        dv.setUint32(OFFSET_CRC, computeBatchCrc(b, 0, b.length));
        await expectBrokerError(log.append(b), 'CORRUPT_MESSAGE', 'INVALID_RECORD');
        await expectNothingWritten(log, 0, 0);
      });

      it('an empty buffer carries no batch: rejected', async () => {
        const { log } = await open();
        await expectBrokerError(log.append(new Uint8Array(0)), 'CORRUPT_MESSAGE', 'INVALID_RECORD');
        await expectNothingWritten(log, 0, 0);
      });

      it('max.message.bytes applies per batch: at the limit accepted, one byte over MESSAGE_TOO_LARGE', async () => {
        const limit = sizeOf(3);
        const { log } = await open({ maxMessageBytes: limit });
        await log.append(batch(3));
        // Two batches that each fit are accepted even though together they exceed the limit.
        await log.append(concatBytes([batch(3, 'b'), batch(2, 'c')]));
        expect(log.logEndOffset).toBe(8);
        const size = log.sizeInBytes;
        await expectBrokerError(log.append(batch(4)), 'MESSAGE_TOO_LARGE');
        await expectBrokerError(log.append(concatBytes([batch(1), batch(4, 'big')])), 'MESSAGE_TOO_LARGE');
        await expectNothingWritten(log, 8, size);
      });
    });

    describe('read and readRecords', () => {
      async function fiveBatches(config: Partial<LogConfig> = {}) {
        const opened = await open(config);
        for (let i = 0; i < 5; i++) await opened.log.append(batch(3, `b${i}-`));
        return opened.log;
      }

      it('returns whole batches up to maxBytes, and at least one batch however small maxBytes is', async () => {
        const log = await fiveBatches();
        const s = sizeOf(3, 'b0-');
        for (const [maxBytes, count] of [
          [2 * s, 2],
          [2 * s - 1, 1],
          [3 * s + 1, 3],
          [1, 1],
          [0, 1],
          [100 * s, 5],
        ] as const) {
          const result = await log.read(0, maxBytes);
          expect(result.sizeInBytes, `maxBytes ${maxBytes}`).toBe(count * s);
          expect(slicesBytes(result.slices).length).toBe(result.sizeInBytes);
          expect(result.nextOffset).toBe(count * 3);
          expect([result.logStartOffset, result.logEndOffset]).toEqual([0, 15]);
        }
      });

      it('starts at the batch containing a mid-batch offset; readRecords drops the records before it', async () => {
        const log = await fiveBatches();
        const result = await log.read(7, sizeOf(3, 'b0-'));
        expect(batchHeaders(slicesBytes(result.slices)).map((h) => h.baseOffset)).toEqual([6]);
        expect(result.nextOffset).toBe(9);
        const records = await log.readRecords(7, 2 * sizeOf(3, 'b0-'));
        expect(records.records.map((r) => r.offset)).toEqual([7, 8, 9, 10, 11]);
        expect(records.nextOffset).toBe(12);
        expect((await log.readRecords(8, 1)).records.map((r) => text(r.value))).toEqual(['b2-2']);
      });

      it('at logEndOffset returns nothing, with nextOffset = logEndOffset', async () => {
        const log = await fiveBatches();
        expect(await log.read(15, 1000)).toMatchObject({ slices: [], sizeInBytes: 0, nextOffset: 15 });
        expect(await log.readRecords(15, 1000)).toMatchObject({
          records: [],
          nextOffset: 15,
          logEndOffset: 15,
        });
      });

      it('OFFSET_OUT_OF_RANGE below logStartOffset and above logEndOffset', async () => {
        const log = await fiveBatches();
        await expectBrokerError(log.read(16, 1000), 'OFFSET_OUT_OF_RANGE');
        await expectBrokerError(log.readRecords(100, 1000), 'OFFSET_OUT_OF_RANGE');
        await expectBrokerError(log.read(-1, 1000), 'OFFSET_OUT_OF_RANGE');
        await log.deleteRecordsBefore(5);
        await expectBrokerError(log.read(4, 1000), 'OFFSET_OUT_OF_RANGE');
        await expectBrokerError(log.readRecords(0, 1000), 'OFFSET_OUT_OF_RANGE');
        expect((await log.readRecords(5, 1000)).records[0]?.offset).toBe(5);
      });

      it('reads every record once, in order, across many segments and read sizes', async () => {
        const log = await fiveBatches({ segmentBytes: sizeOf(3, 'b0-') * 2 });
        for (let i = 5; i < 12; i++) await log.append(batch((i % 3) + 1, `b${i}-`));
        expect(log.segmentCount).toBeGreaterThan(4);
        const all = await offsets(log);
        expect(all).toEqual(Array.from({ length: log.logEndOffset }, (_, i) => i));
        for (const maxBytes of [1, sizeOf(3, 'b0-') + 1, 3 * sizeOf(3, 'b0-')]) {
          expect((await readAll(log, maxBytes)).map((r) => r.offset)).toEqual(all);
        }
      });
    });

    describe('offsetForTimestamp', () => {
      it('finds the first record, in offset order, whose timestamp is >= the target', async () => {
        const { log } = await open();
        const at = (ts: number[]) => encodeBatch(ts.map((t, i) => ({ value: utf8(`v${i}`), timestamp: t })));
        await log.append(at([100, 300, 200]));
        await log.append(at([150, 400]));
        const cases: Array<[number, number | null, number | null]> = [
          [0, 0, 100],
          [100, 0, 100],
          [101, 1, 300],
          [150, 1, 300],
          [300, 1, 300],
          [301, 4, 400],
          [400, 4, 400],
          [401, null, null],
        ];
        for (const [target, offset, timestamp] of cases) {
          const found = await log.offsetForTimestamp(target);
          expect(found === null ? [null, null] : [found.offset, found.timestamp], `target ${target}`).toEqual(
            [offset, timestamp],
          );
        }
      });

      it('uses the batch maxTimestamp for every record of a LogAppendTime batch', async () => {
        const { log } = await open();
        await log.append(encodeBatch([{ value: utf8('a'), timestamp: 50 }]));
        const appended = encodeBatch([
          { value: utf8('b'), timestamp: 10 },
          { value: utf8('c'), timestamp: 20 },
        ]);
        setLogAppendTime(appended, 0, 5000);
        await log.append(appended);
        expect(await log.offsetForTimestamp(51)).toEqual({ offset: 1, timestamp: 5000 });
        expect(await log.offsetForTimestamp(5000)).toEqual({ offset: 1, timestamp: 5000 });
        expect(await log.offsetForTimestamp(5001)).toBeNull();
        expect((await readAll(log)).map((r) => r.timestamp)).toEqual([50, 5000, 5000]);
      });

      it('ignores records below logStartOffset and searches every segment', async () => {
        const { log } = await open({ segmentBytes: 1 });
        for (let i = 0; i < 6; i++) {
          await log.append(encodeBatch([{ value: utf8(`v${i}`), timestamp: 1000 + i }]));
        }
        expect(log.segmentCount).toBe(6);
        expect(await log.offsetForTimestamp(1004)).toEqual({ offset: 4, timestamp: 1004 });
        await log.deleteRecordsBefore(2);
        expect(await log.offsetForTimestamp(0)).toEqual({ offset: 2, timestamp: 1002 });
      });

      it('ignores the records of the first batch that lie below a mid-batch logStartOffset', async () => {
        const { log } = await open();
        await log.append(encodeBatch([100, 200, 300].map((timestamp) => ({ value: utf8('v'), timestamp }))));
        await log.deleteRecordsBefore(1);
        expect(await log.offsetForTimestamp(0)).toEqual({ offset: 1, timestamp: 200 });
        expect(await log.offsetForTimestamp(250)).toEqual({ offset: 2, timestamp: 300 });
      });
    });

    describe('truncateTo', () => {
      async function threeBatches(config: Partial<LogConfig> = {}) {
        const opened = await open(config);
        for (const tag of ['a', 'b', 'c']) await opened.log.append(batch(3, tag));
        return opened.log;
      }

      it('mid-batch removes the whole batch holding the offset', async () => {
        const log = await threeBatches();
        await log.truncateTo(4);
        expect(log.logEndOffset).toBe(3);
        expect(log.sizeInBytes).toBe(sizeOf(3));
        await expectBrokerError(log.read(4, 1000), 'OFFSET_OUT_OF_RANGE');
        expect(await values(log)).toEqual(['a0', 'a1', 'a2']);
        expect((await log.append(batch(1, 'd'))).baseOffset).toBe(3);
        expect(await values(log)).toEqual(['a0', 'a1', 'a2', 'd0']);
      });

      it('at a batch boundary keeps everything below the offset', async () => {
        const log = await threeBatches();
        await log.truncateTo(6);
        expect(log.logEndOffset).toBe(6);
        expect(await offsets(log)).toEqual([0, 1, 2, 3, 4, 5]);
      });

      it('at or past logEndOffset changes nothing', async () => {
        const log = await threeBatches();
        await log.truncateTo(9);
        await log.truncateTo(50);
        expect(log.logEndOffset).toBe(9);
        expect((await offsets(log)).length).toBe(9);
      });

      it('into the first segment drops the later segments, their timestamps and their bytes', async () => {
        clock.set(10_000);
        const log = await threeBatches({ segmentBytes: sizeOf(3) });
        expect(log.segmentCount).toBe(3);
        await log.truncateTo(1);
        expect([log.logEndOffset, log.sizeInBytes, log.segmentCount]).toEqual([0, 0, 1]);
        expect(await log.offsetForTimestamp(0)).toBeNull();
        clock.set(20_000);
        await log.append(batch(2, 'n'));
        expect(await values(log)).toEqual(['n0', 'n1']);
        expect(await log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 20_000 });
      });

      it('at or below logStartOffset empties the log and restarts it at the offset', async () => {
        const log = await threeBatches();
        await log.deleteRecordsBefore(4);
        await log.truncateTo(4);
        expect([log.logStartOffset, log.logEndOffset, log.sizeInBytes]).toEqual([4, 4, 0]);
        expect((await log.read(4, 100)).slices).toEqual([]);
        expect((await log.append(batch(1, 'n'))).baseOffset).toBe(4);
        expect(await values(log)).toEqual(['n0']);
      });

      it('inside the batch holding a mid-batch logStartOffset keeps logStartOffset <= logEndOffset', async () => {
        const log = await threeBatches();
        await log.deleteRecordsBefore(4);
        await log.truncateTo(5);
        expect(log.logEndOffset).toBe(3);
        expect(log.logStartOffset).toBeLessThanOrEqual(3);
        expect((await log.read(log.logStartOffset, 100)).slices).toEqual([]);
        expect((await log.append(batch(1, 'n'))).baseOffset).toBe(3);
        expect(await values(log)).toEqual(['n0']);
      });

      it('leaves flushedOffset no higher than logEndOffset', async () => {
        const log = await threeBatches();
        await log.flush();
        await log.truncateTo(3);
        expect(log.flushedOffset).toBeLessThanOrEqual(3);
      });
    });

    describe('deleteRecordsBefore', () => {
      it('moves logStartOffset mid-batch: reads start at that batch, readRecords filters below it', async () => {
        const { log } = await open();
        await log.append(batch(3, 'a'));
        await log.append(batch(3, 'b'));
        expect(await log.deleteRecordsBefore(4)).toBe(4);
        expect([log.logStartOffset, log.logEndOffset]).toEqual([4, 6]);
        const raw = await log.read(4, 1 << 20);
        expect(raw.logStartOffset).toBe(4);
        expect(batchHeaders(slicesBytes(raw.slices))[0]!.baseOffset).toBe(3);
        expect((await log.readRecords(4, 1 << 20)).records.map((r) => text(r.value))).toEqual(['b1', 'b2']);
        expect(await values(log)).toEqual(['b1', 'b2']);
        await expectBrokerError(log.read(3, 100), 'OFFSET_OUT_OF_RANGE');
      });

      it('never moves logStartOffset down; past logEndOffset is OFFSET_OUT_OF_RANGE', async () => {
        const { log } = await open();
        await log.append(batch(5));
        await log.deleteRecordsBefore(3);
        expect(await log.deleteRecordsBefore(1)).toBe(3);
        expect(log.logStartOffset).toBe(3);
        await expectBrokerError(log.deleteRecordsBefore(6), 'OFFSET_OUT_OF_RANGE');
        expect(log.logStartOffset).toBe(3);
        expect(await log.deleteRecordsBefore(5)).toBe(5);
        expect([log.logStartOffset, log.logEndOffset]).toEqual([5, 5]);
        expect((await log.read(5, 100)).slices).toEqual([]);
        expect((await log.append(batch(1))).baseOffset).toBe(5);
      });

      it('deletes whole segments below the new start, never the active one', async () => {
        const { log } = await open({ segmentBytes: sizeOf(2, 's0-') * 2 });
        for (let i = 0; i < 8; i++) await log.append(batch(2, `s${i}-`));
        expect(log.segmentCount).toBe(4);
        await log.deleteRecordsBefore(9);
        expect(log.segmentCount).toBe(2);
        expect(log.sizeInBytes).toBe(4 * sizeOf(2, 's0-'));
        expect((await readAll(log))[0]!.offset).toBe(9);
        await log.deleteRecordsBefore(16);
        expect(log.segmentCount).toBe(1);
        expect(log.logStartOffset).toBe(16);
        expect((await log.append(batch(1))).baseOffset).toBe(16);
      });
    });

    describe('segments roll', () => {
      it('by segment.bytes, when the next append would exceed it', async () => {
        const s = sizeOf(2);
        const { log } = await open({ segmentBytes: 3 * s });
        for (let i = 0; i < 7; i++) await log.append(batch(2));
        expect(log.segmentCount).toBe(3);
        expect(log.sizeInBytes).toBe(7 * s);
      });

      it('never splits one append across segments', async () => {
        const s = sizeOf(2);
        const { log } = await open({ segmentBytes: 3 * s });
        await log.append(concatBytes([batch(2), batch(2)]));
        await log.append(concatBytes([batch(2), batch(2)]));
        expect(log.segmentCount).toBe(2);
        await log.append(batch(2));
        expect(log.segmentCount).toBe(2);
        await log.append(batch(2));
        expect(log.segmentCount).toBe(3);
      });

      it('stores a batch bigger than segment.bytes in a segment of its own', async () => {
        const { log } = await open({ segmentBytes: 10 });
        await log.append(batch(3));
        await log.append(batch(3));
        expect(log.segmentCount).toBe(2);
        expect(await offsets(log)).toEqual([0, 1, 2, 3, 4, 5]);
      });

      it('by segment.ms, measured on the clock, when the segment is strictly older', async () => {
        const { log } = await open({ segmentMs: HOUR });
        await log.append(batch(1));
        clock.advance(HOUR);
        await log.append(batch(1));
        expect(log.segmentCount).toBe(1);
        clock.advance(1);
        await log.append(batch(1));
        expect(log.segmentCount).toBe(2);
        clock.advance(HOUR / 2);
        await log.append(batch(1));
        expect(log.segmentCount).toBe(2);
      });

      it('maybeRoll rolls an old segment without an append, but never an empty one', async () => {
        const { log } = await open({ segmentMs: HOUR });
        await log.maybeRoll(clock() + 10 * HOUR);
        expect(log.segmentCount).toBe(1);
        await log.append(batch(1));
        await log.maybeRoll(clock() + HOUR);
        expect(log.segmentCount).toBe(1);
        clock.advance(HOUR + 1);
        await log.maybeRoll();
        expect(log.segmentCount).toBe(2);
        await log.maybeRoll(clock() + 10 * HOUR);
        expect(log.segmentCount).toBe(2);
        expect((await log.append(batch(1))).baseOffset).toBe(1);
      });
    });

    describe('retention', () => {
      /** Five segments of one 2-record batch each, appended an hour apart; the last is active. */
      async function hourly(config: Partial<LogConfig>) {
        const opened = await open({ segmentBytes: sizeOf(2, 'h0-'), ...config });
        for (let i = 0; i < 5; i++) {
          if (i > 0) clock.advance(HOUR);
          await opened.log.append(batch(2, `h${i}-`));
        }
        expect(opened.log.segmentCount).toBe(5);
        return opened.log;
      }

      it('retention.bytes deletes the oldest closed segments while what remains stays >= the limit', async () => {
        const s = sizeOf(2, 'h0-');
        const log = await hourly({ retentionBytes: 3 * s });
        expect(await log.enforceRetention()).toBe(2);
        expect([log.segmentCount, log.sizeInBytes, log.logStartOffset]).toEqual([3, 3 * s, 4]);
        expect((await readAll(log)).map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
        expect(await log.enforceRetention()).toBe(0);
      });

      it('retention.bytes keeps a segment whose deletion would take the log below the limit', async () => {
        const s = sizeOf(2, 'h0-');
        const log = await hourly({ retentionBytes: 3 * s + 1 });
        expect(await log.enforceRetention()).toBe(1);
        expect(log.logStartOffset).toBe(2);
      });

      it('retention.bytes 0 deletes every closed segment but never the active one', async () => {
        const log = await hourly({ retentionBytes: 0 });
        expect(await log.enforceRetention()).toBe(4);
        expect([log.segmentCount, log.logStartOffset, log.logEndOffset]).toEqual([1, 8, 10]);
        expect(await values(log)).toEqual(['h4-0', 'h4-1']);
        expect(await log.enforceRetention()).toBe(0);
      });

      it('retention.ms deletes closed segments whose newest timestamp is older than the limit', async () => {
        const log = await hourly({ retentionMs: HOUR + HOUR / 2 });
        // Ages now: 4h, 3h, 2h, 1h and the active one.
        expect(await log.enforceRetention()).toBe(3);
        expect(log.logStartOffset).toBe(6);
        expect(await log.offsetForTimestamp(0)).toEqual({ offset: 6, timestamp: clock() - HOUR });
        expect(await log.enforceRetention(clock() + 10 * HOUR)).toBe(1);
        expect([log.segmentCount, log.logStartOffset]).toEqual([1, 8]);
      });

      it('retention.ms keeps a segment exactly retention.ms old and deletes it one ms later', async () => {
        const log = await hourly({ retentionMs: 4 * HOUR });
        expect(await log.enforceRetention()).toBe(0);
        expect(await log.enforceRetention(clock() + 1)).toBe(1);
        expect(log.logStartOffset).toBe(2);
      });

      it('retention.ms looks at the newest timestamp in the segment, not the oldest', async () => {
        const { log } = await open({ retentionMs: 2 * HOUR });
        await log.append(encodeBatch([{ value: utf8('old'), timestamp: clock() - 10 * HOUR }]));
        await log.append(encodeBatch([{ value: utf8('new'), timestamp: clock() }]));
        clock.advance(HOUR);
        await log.maybeRoll(clock() + 365 * 24 * HOUR);
        expect(log.segmentCount).toBe(2);
        expect(await log.enforceRetention()).toBe(0);
        expect(await log.enforceRetention(clock() + 2 * HOUR)).toBe(1);
      });

      it('never deletes the active segment however old, and -1 keeps everything', async () => {
        const { log } = await open({ retentionMs: HOUR, retentionBytes: 0 });
        await log.append(batch(3));
        expect(await log.enforceRetention(clock() + 100 * HOUR)).toBe(0);
        expect(await values(log)).toEqual(['a0', 'a1', 'a2']);
        const forever = await hourly({ retentionMs: -1, retentionBytes: -1 });
        expect(await forever.enforceRetention(clock() + 1000 * HOUR)).toBe(0);
        expect(forever.segmentCount).toBe(5);
      });

      it('an old segment rolled by maybeRoll can then expire, leaving an empty readable log', async () => {
        const { log } = await open({ segmentMs: HOUR, retentionMs: 2 * HOUR });
        await log.append(batch(3));
        clock.advance(3 * HOUR);
        await log.maybeRoll();
        expect(await log.enforceRetention()).toBe(1);
        expect([log.logStartOffset, log.logEndOffset, log.sizeInBytes]).toEqual([3, 3, 0]);
        expect((await log.read(3, 100)).slices).toEqual([]);
        expect((await log.append(batch(1))).baseOffset).toBe(3);
      });
    });

    describe('flush and close', () => {
      it('flush makes flushedOffset reach logEndOffset', async () => {
        const { log } = await open();
        await log.append(batch(4));
        await log.flush();
        expect(log.flushedOffset).toBe(4);
      });

      it('flush.policy=always resolves each append only once it is flushed (concurrent ones too)', async () => {
        const { log } = await open({ flushPolicy: 'always' });
        const results = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            log.append(batch(2, `w${i}-`)).then((result) => ({ result, flushed: log.flushedOffset })),
          ),
        );
        for (const { result, flushed } of results) expect(flushed).toBeGreaterThan(result.lastOffset);
        const single = await log.append(batch(1));
        expect(log.flushedOffset).toBe(single.lastOffset + 1);
      });

      it('flush and close still settle after truncation and deletion raced background fsyncs', async () => {
        const { log } = await open({ flushMessages: 1, segmentBytes: 1, retentionBytes: 0 });
        await log.append(concatBytes([batch(1, 'a'), batch(1, 'b')]));
        await log.truncateTo(0);
        await log.append(batch(1, 'c'));
        await settles(log.flush(), 'flush after truncateTo');
        await log.append(batch(1, 'd'));
        expect(await log.enforceRetention()).toBe(1);
        await log.append(batch(1, 'e'));
        await log.deleteRecordsBefore(log.logEndOffset);
        await log.append(batch(1, 'f'));
        await settles(log.flush(), 'flush');
        expect(log.flushedOffset).toBe(log.logEndOffset);
        expect(await values(log)).toEqual(['f0']);
        await settles(log.close(), 'close');
      });

      it('every method rejects after close', async () => {
        const { log } = await open();
        await log.append(batch(2));
        await log.close();
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['append', () => log.append(batch(1))],
          ['read', () => log.read(0, 100)],
          ['readRecords', () => log.readRecords(0, 100)],
          ['offsetForTimestamp', () => log.offsetForTimestamp(0)],
          ['truncateTo', () => log.truncateTo(1)],
          ['deleteRecordsBefore', () => log.deleteRecordsBefore(1)],
          ['enforceRetention', () => log.enforceRetention()],
          ['maybeRoll', () => log.maybeRoll()],
          ['flush', () => log.flush()],
        ];
        for (const [method, call] of calls) {
          await expect((async () => call())(), `${method} after close`).rejects.toThrow();
        }
      });
    });

    if (options.reopenable) {
      describe('reopen', () => {
        async function reopenable(config: Partial<LogConfig> = {}) {
          const opened = await open(config);
          const reopen = opened.reopen;
          expect(reopen, 'the factory must give reopen').toBeDefined();
          return { log: opened.log, reopen: reopen! };
        }

        it('keeps records, offsets, segments, timestamps and logStartOffset after a clean close', async () => {
          const first = await reopenable({ segmentBytes: sizeOf(3, 'r0-') * 2 });
          for (let i = 0; i < 7; i++) {
            clock.advance(1000);
            await first.log.append(batch(3, `r${i}-`));
          }
          await first.log.deleteRecordsBefore(4);
          const before = {
            records: await readAll(first.log),
            raw: await readAllBytes(first.log),
            state: [
              first.log.logStartOffset,
              first.log.logEndOffset,
              first.log.segmentCount,
              first.log.sizeInBytes,
            ],
            ts: await first.log.offsetForTimestamp(clock() - 2500),
          };
          const log = await first.reopen();
          expect([log.logStartOffset, log.logEndOffset, log.segmentCount, log.sizeInBytes]).toEqual(
            before.state,
          );
          expect(log.flushedOffset).toBe(log.logEndOffset);
          expect(log.recoveryReport).toEqual({
            segmentsRecovered: 0,
            bytesTruncated: 0,
            indexesRebuilt: 0,
            flushedCorruption: [],
          });
          expect(await readAll(log)).toEqual(before.records);
          expect(await readAllBytes(log)).toEqual(before.raw);
          expect(await log.offsetForTimestamp(clock() - 2500)).toEqual(before.ts);
          expect((await log.append(batch(1))).baseOffset).toBe(21);
        });

        it('keeps a truncation and retention across reopen', async () => {
          const first = await reopenable({ segmentBytes: sizeOf(2, 't0-') * 2, retentionBytes: 0 });
          for (let i = 0; i < 4; i++) await first.log.append(batch(2, `t${i}-`));
          await first.log.truncateTo(7);
          expect(await first.log.enforceRetention()).toBe(1);
          const log = await first.reopen();
          expect([log.logStartOffset, log.logEndOffset, log.segmentCount]).toEqual([4, 6, 1]);
          expect(await values(log)).toEqual(['t2-0', 't2-1']);
          expect((await log.append(batch(1, 'z'))).baseOffset).toBe(6);
        });

        it('keeps an empty log empty', async () => {
          const first = await reopenable();
          const log = await first.reopen();
          expect([log.logStartOffset, log.logEndOffset, log.sizeInBytes]).toEqual([0, 0, 0]);
          expect((await log.append(batch(1))).baseOffset).toBe(0);
        });
      });
    }
  });
}
