/**
 * @module
 * `truncateFullyAndStartAt` on both PartitionLog implementations: a follower whose log ends below its
 * leader's log start empties its log and begins again at that offset; it then takes the leader's batches
 * there (`keepOffsets`), reads from it, and a file log keeps the new start across a reopen.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logConfig } from '../../src/config/log-config.ts';
import { encodeRecordBatch } from '../../src/records/record-batch.ts';
import { openFileLog } from '../../src/storage/file-log.ts';
import { MemoryLog } from '../../src/storage/memory-log.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import { batchOf, manualClock, text, utf8 } from './support.ts';

const TIMESTAMP = 1_700_000_000_000;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-start-over-'));
  dirs.push(dir);
  return dir;
}

function leaderBatch(baseOffset: number, count: number): Uint8Array {
  return encodeRecordBatch(
    Array.from({ length: count }, (_, i) => ({
      key: null,
      value: utf8(`l${baseOffset + i}`),
      timestamp: TIMESTAMP,
    })),
    { baseOffset, partitionLeaderEpoch: 3 },
  );
}

const kinds: Array<{ name: string; open(dir: string): Promise<PartitionLog> }> = [
  { name: 'MemoryLog', open: async () => new MemoryLog({ config: logConfig(), clock: manualClock() }) },
  { name: 'FileLog', open: (dir) => openFileLog(dir, { config: logConfig(), clock: manualClock() }) },
];

describe.each(kinds)('$name truncateFullyAndStartAt', (kind) => {
  it('empties the log and starts it again past its old end', async () => {
    const dir = tempDir();
    const log = await kind.open(dir);
    await log.append(batchOf(['a', 'b', 'c'], TIMESTAMP));
    expect(log.logEndOffset).toBe(3);
    await log.truncateFullyAndStartAt(100);
    expect([log.logStartOffset, log.logEndOffset, log.sizeInBytes]).toEqual([100, 100, 0]);
    expect((await log.read(100, 1024)).slices).toEqual([]);
    await expect(log.read(2, 1024)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    // The leader's batches from there on are taken with their own offsets.
    await log.append(leaderBatch(100, 2), { keepOffsets: true });
    const read = await log.readRecords(100, 1 << 20);
    expect(read.records.map((r) => [r.offset, text(r.value)])).toEqual([
      [100, 'l100'],
      [101, 'l101'],
    ]);
    await log.close();
    if (kind.name === 'FileLog') {
      const again = await kind.open(dir);
      expect([again.logStartOffset, again.logEndOffset]).toEqual([100, 102]);
      expect((await again.readRecords(100, 1 << 20)).records.map((r) => r.offset)).toEqual([100, 101]);
      await again.close();
    }
  });

  it('can also start again below its end (everything goes)', async () => {
    const log = await kind.open(tempDir());
    await log.append(batchOf(['a', 'b', 'c', 'd'], TIMESTAMP));
    await log.truncateFullyAndStartAt(2);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([2, 2]);
    await log.close();
  });

  it('refuses a negative offset', async () => {
    const log = await kind.open(tempDir());
    await expect(log.truncateFullyAndStartAt(-1)).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' });
    await log.close();
  });
});
