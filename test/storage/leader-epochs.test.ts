/**
 * @module
 * Leader epochs read from the log itself (`src/storage/leader-epochs.ts`) on both PartitionLog kinds, in one
 * segment and spread over many: `epochAt` for every offset, `lastEpoch`, `epochEnd` for epochs present,
 * missing, below and above all, on an empty log and after deleteRecordsBefore / truncateTo; and the
 * truncation rule a follower applies with them, played on two diverging logs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LogConfig, logConfig } from '../../src/config/log-config.ts';
import { openFileLog } from '../../src/storage/file-log.ts';
import { epochAt, epochEnd, lastEpoch } from '../../src/storage/leader-epochs.ts';
import { MemoryLog } from '../../src/storage/memory-log.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import {
  batchOf,
  expectBrokerError,
  manualClock,
  readAll,
  readAllBytes,
  slicesBytes,
  text,
} from './support.ts';

const TIMESTAMP = 1_700_000_000_000;

interface LogKind {
  name: string;
  open(config?: Partial<LogConfig>): Promise<PartitionLog>;
}

const opened: Array<{ dir: string; log: PartitionLog }> = [];

afterEach(async () => {
  for (const { dir, log } of opened.splice(0)) {
    await log.close().catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const kinds: LogKind[] = [
  {
    name: 'MemoryLog',
    open: async (config = {}) => new MemoryLog({ config: logConfig(config), clock: manualClock() }),
  },
  {
    name: 'FileLog',
    open: async (config = {}) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-leader-epochs-'));
      const log = await openFileLog(dir, { config: logConfig(config), clock: manualClock() });
      opened.push({ dir, log });
      return log;
    },
  },
];

function batch(count: number, tag: string): Uint8Array {
  return batchOf(
    Array.from({ length: count }, (_, i) => `${tag}${i}`),
    TIMESTAMP,
  );
}

/** Appends one batch per entry, `[epoch, records]`, each stamped with its epoch as a leader does. */
async function appendEpochs(log: PartitionLog, batches: ReadonlyArray<readonly [number, number]>, tag = 'v') {
  for (const [i, [epoch, count]] of batches.entries()) {
    await log.append(batch(count, `${tag}${i}-`), { leaderEpoch: epoch });
  }
}

/**
 * Epochs [0,0,1,1,1,3,3] in batches of [2,3,1,2,3,2,1] records:
 *   e0: 0-1, 2-4   e1: 5, 6-7, 8-10   e3: 11-12, 13     logEndOffset 14
 */
const LAYOUT: ReadonlyArray<readonly [number, number]> = [
  [0, 2],
  [0, 3],
  [1, 1],
  [1, 2],
  [1, 3],
  [3, 2],
  [3, 1],
];
const EPOCH_OF_OFFSET = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 3, 3, 3];
/** Small enough that the layout spans several segments. */
const SMALL_SEGMENTS = { segmentBytes: 2 * batch(3, 'v0-').length };

describe.each(kinds)('leader epochs: $name', (kind) => {
  for (const [layout, config] of [
    ['one segment', {}],
    ['many segments', SMALL_SEGMENTS],
  ] as const) {
    describe(layout, () => {
      async function layoutLog(): Promise<PartitionLog> {
        const log = await kind.open(config);
        await appendEpochs(log, LAYOUT);
        expect(log.logEndOffset).toBe(14);
        if (layout === 'many segments') expect(log.segmentCount).toBeGreaterThan(2);
        return log;
      }

      it('epochAt answers the epoch of the batch holding each offset; lastEpoch the last batch', async () => {
        const log = await layoutLog();
        const epochs: number[] = [];
        for (let offset = 0; offset < log.logEndOffset; offset++) epochs.push(await epochAt(log, offset));
        expect(epochs).toEqual(EPOCH_OF_OFFSET);
        expect(await lastEpoch(log)).toBe(3);
      });

      it.each([
        { asked: 0, epoch: 0, endOffset: 5, why: 'present: ends where epoch 1 starts' },
        { asked: 1, epoch: 1, endOffset: 11, why: 'present: ends where epoch 3 starts' },
        { asked: 2, epoch: 1, endOffset: 11, why: 'missing in between: epoch 1, up to the start of 3' },
        { asked: 3, epoch: 3, endOffset: 14, why: 'the last epoch: ends at logEndOffset' },
        { asked: 4, epoch: 3, endOffset: 14, why: 'above all: the last epoch and logEndOffset' },
        { asked: 1_000, epoch: 3, endOffset: 14, why: 'far above all' },
        { asked: -1, epoch: -1, endOffset: 0, why: 'below all: -1 and logStartOffset' },
      ])('epochEnd($asked) = {$epoch, $endOffset}: $why', async ({ asked, epoch, endOffset }) => {
        const log = await layoutLog();
        expect(await epochEnd(log, asked)).toEqual({ epoch, endOffset });
      });

      it('after deleteRecordsBefore: epochs wholly below the new start are gone', async () => {
        const log = await layoutLog();
        await log.deleteRecordsBefore(7);
        expect(log.logStartOffset).toBe(7);
        expect(await epochAt(log, 7)).toBe(1);
        expect(await epochEnd(log, 0)).toEqual({ epoch: -1, endOffset: 7 });
        expect(await epochEnd(log, 1)).toEqual({ epoch: 1, endOffset: 11 });
        expect(await epochEnd(log, 2)).toEqual({ epoch: 1, endOffset: 11 });
        expect(await epochEnd(log, 5)).toEqual({ epoch: 3, endOffset: 14 });
        await log.deleteRecordsBefore(11);
        expect(await epochEnd(log, 2)).toEqual({ epoch: -1, endOffset: 11 });
        expect(await epochEnd(log, 3)).toEqual({ epoch: 3, endOffset: 14 });
        expect(await lastEpoch(log)).toBe(3);
        await log.deleteRecordsBefore(14);
        expect(await lastEpoch(log)).toBe(-1);
        expect(await epochEnd(log, 3)).toEqual({ epoch: -1, endOffset: 14 });
      });

      it('after truncateTo: the cut epochs end at the new logEndOffset', async () => {
        const log = await layoutLog();
        await log.truncateTo(12); // inside 11-12: the whole batch goes
        expect(log.logEndOffset).toBe(11);
        expect(await lastEpoch(log)).toBe(1);
        expect(await epochEnd(log, 3)).toEqual({ epoch: 1, endOffset: 11 });
        await log.truncateTo(9); // inside 8-10
        expect(log.logEndOffset).toBe(8);
        expect(await epochEnd(log, 1)).toEqual({ epoch: 1, endOffset: 8 });
        expect(await epochEnd(log, 3)).toEqual({ epoch: 1, endOffset: 8 });
        await log.truncateTo(5);
        expect(await lastEpoch(log)).toBe(0);
        expect(await epochEnd(log, 1)).toEqual({ epoch: 0, endOffset: 5 });
        // A new leader's epoch after the cut.
        await log.append(batch(2, 'n'), { leaderEpoch: 4 });
        expect(await lastEpoch(log)).toBe(4);
        expect(await epochEnd(log, 3)).toEqual({ epoch: 0, endOffset: 5 });
        expect(await epochEnd(log, 4)).toEqual({ epoch: 4, endOffset: 7 });
        await log.truncateTo(0);
        expect(await lastEpoch(log)).toBe(-1);
        expect(await epochEnd(log, 4)).toEqual({ epoch: -1, endOffset: 0 });
      });
    });
  }

  it('an empty log: lastEpoch -1, epochEnd {-1, logStartOffset} for any epoch', async () => {
    const log = await kind.open();
    expect(await lastEpoch(log)).toBe(-1);
    for (const asked of [-1, 0, 5]) expect(await epochEnd(log, asked)).toEqual({ epoch: -1, endOffset: 0 });
  });

  it('one epoch only: every epoch at or above it ends at logEndOffset, every one below at logStartOffset', async () => {
    const log = await kind.open();
    await appendEpochs(log, [
      [2, 3],
      [2, 1],
    ]);
    expect(await epochEnd(log, 2)).toEqual({ epoch: 2, endOffset: 4 });
    expect(await epochEnd(log, 9)).toEqual({ epoch: 2, endOffset: 4 });
    expect(await epochEnd(log, 1)).toEqual({ epoch: -1, endOffset: 0 });
  });
});

/**
 * The follower's side of OffsetsForLeaderEpoch: ask the leader where the epoch of its own last batch ends,
 * then cut at the smaller of that and where the answered epoch ends in its own log. Returns the cut.
 */
async function truncateToLeader(follower: PartitionLog, leader: PartitionLog): Promise<number> {
  const answer = await epochEnd(leader, await lastEpoch(follower));
  const own = await epochEnd(follower, answer.epoch);
  const cut = Math.min(answer.endOffset, own.endOffset);
  await follower.truncateTo(cut);
  return cut;
}

/** Copies the leader's batches from the follower's log end, as the replica fetcher does. */
async function copyRest(follower: PartitionLog, leader: PartitionLog): Promise<void> {
  while (follower.logEndOffset < leader.logEndOffset) {
    const read = await leader.read(follower.logEndOffset, 64);
    await follower.append(slicesBytes(read.slices), { keepOffsets: true });
  }
}

describe.each(kinds)('follower truncation by leader epoch: $name', (kind) => {
  const cases: Array<{
    name: string;
    shared: ReadonlyArray<readonly [number, number]>;
    leader: ReadonlyArray<readonly [number, number]>;
    follower: ReadonlyArray<readonly [number, number]>;
    cut: number;
  }> = [
    {
      name: 'leader [e0 ×3, e2 ×2], follower [e0 ×3, e1 ×2]: cut at the end of e0',
      shared: [
        [0, 2],
        [0, 2],
        [0, 2],
      ],
      leader: [
        [2, 3],
        [2, 2],
      ],
      follower: [
        [1, 4],
        [1, 4],
      ],
      cut: 6,
    },
    {
      name: "follower's e0 is shorter than the leader's: cut at its own end of e0",
      shared: [
        [0, 2],
        [0, 2],
      ],
      leader: [
        [0, 2],
        [2, 3],
        [2, 2],
      ],
      follower: [
        [1, 1],
        [1, 5],
      ],
      cut: 4,
    },
    {
      name: 'follower a prefix of the leader: nothing cut',
      shared: [
        [0, 2],
        [0, 2],
        [0, 2],
      ],
      leader: [
        [2, 3],
        [2, 2],
      ],
      follower: [],
      cut: 6,
    },
    {
      name: 'follower ahead of the leader in the same epoch: cut at the leader end',
      shared: [
        [0, 2],
        [0, 2],
      ],
      leader: [],
      follower: [
        [0, 3],
        [0, 1],
      ],
      cut: 4,
    },
    {
      name: 'nothing in common: the follower is emptied',
      shared: [],
      leader: [
        [2, 3],
        [3, 2],
      ],
      follower: [
        [1, 4],
        [1, 1],
      ],
      cut: 0,
    },
  ];

  it.each(cases)('$name', async ({ shared, leader: leaderOnly, follower: followerOnly, cut }) => {
    const leader = await kind.open();
    const follower = await kind.open();
    await appendEpochs(leader, shared, 's');
    await copyRest(follower, leader);
    await appendEpochs(leader, leaderOnly, 'L');
    await appendEpochs(follower, followerOnly, 'F');
    const before = await readAllBytes(follower);

    expect(await truncateToLeader(follower, leader)).toBe(cut);
    expect(follower.logEndOffset).toBe(cut);
    // What is left is a prefix of the leader's log, byte for byte...
    const kept = await readAllBytes(follower);
    expect(kept).toEqual(before.subarray(0, kept.length));
    expect(kept).toEqual((await readAllBytes(leader)).subarray(0, kept.length));
    // ...so the leader's rest follows on without a gap, and both logs end identical.
    await copyRest(follower, leader);
    expect(await readAllBytes(follower)).toEqual(await readAllBytes(leader));
    expect((await readAll(follower)).map((r) => text(r.value))).toEqual(
      (await readAll(leader)).map((r) => text(r.value)),
    );
    expect(await lastEpoch(follower)).toBe(await lastEpoch(leader));
    // Asking again finds nothing more to cut.
    expect(await truncateToLeader(follower, leader)).toBe(leader.logEndOffset);
  });

  it('without the cut, copying the leader after a diverged suffix is refused (the offsets overlap)', async () => {
    const leader = await kind.open();
    const follower = await kind.open();
    await appendEpochs(leader, [
      [0, 2],
      [2, 3],
    ]);
    await appendEpochs(follower, [
      [0, 2],
      [1, 1],
    ]);
    const read = await leader.read(2, 1 << 20);
    await expectBrokerError(
      follower.append(slicesBytes(read.slices), { keepOffsets: true }),
      'OFFSET_OUT_OF_RANGE',
    );
  });
});
