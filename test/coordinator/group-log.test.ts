/**
 * @module
 * The GroupLog contract, run against MemoryGroupLog and the file log (`openFileGroupLog`), and what only the
 * file log promises: where it lives, no retention, recovery from a torn tail, and a compaction cut short by
 * a crash (snapshot written, older records not yet deleted; or only part of the snapshot written).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logConfig } from '../../src/config/log-config.ts';
import { type GroupLog, MemoryGroupLog } from '../../src/coordinator/group-log.ts';
import {
  foldGroupRecords,
  type GroupRecord,
  groupRecordIdentity,
  OFFSETS_TOPIC,
  type StoredGroup,
} from '../../src/coordinator/group-records.ts';
import {
  encodeGroupBatches,
  groupLogConfig,
  groupLogDir,
  openFileGroupLog,
  SNAPSHOT_BATCH_BYTES,
} from '../../src/partition/group-log-file.ts';
import { encodeRecordBatch } from '../../src/records/record-batch.ts';
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/checkpoint.ts';
import { type FileLog, openFileLog } from '../../src/storage/file-log.ts';
import { batchHeaders, expectBrokerError, readAllBytes } from '../storage/support.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-group-log-'));
  dirs.push(dir);
  return dir;
}

function commit(groupId: string, partition: number, offset: number, metadata = ''): GroupRecord {
  return {
    kind: 'offset',
    groupId,
    topic: 'orders',
    partition,
    offset: {
      topic: 'orders',
      partition,
      offset,
      metadata,
      leaderEpoch: 3,
      commitTimestamp: 1_700_000_000_000 + offset,
    },
  };
}

function uncommit(groupId: string, partition: number): GroupRecord {
  return { kind: 'offset', groupId, topic: 'orders', partition, offset: null };
}

function groupState(groupId: string, generationId: number, memberCount = 2): GroupRecord {
  const group: StoredGroup = {
    protocolType: 'consumer',
    protocolName: 'range',
    generationId,
    leader: 'member-0',
    stateTimestamp: 1_700_000_000_000 + generationId,
    members: Array.from({ length: memberCount }, (_, i) => ({
      memberId: `member-${i}`,
      groupInstanceId: i === 0 ? 'static-0' : null,
      clientId: 'client',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 45_000,
      rebalanceTimeoutMs: 300_000,
      subscription: { topics: ['orders'], ownedPartitions: [] },
      assignment: [{ topic: 'orders', partitions: [i] }],
    })),
  };
  return { kind: 'group', groupId, group };
}

function deleteGroup(groupId: string): GroupRecord {
  return { kind: 'group', groupId, group: null };
}

/** A history with overwrites and tombstones, appended in a few batches. */
const HISTORY: GroupRecord[][] = [
  [groupState('g1', 1), commit('g1', 0, 10), commit('g1', 1, 20)],
  [commit('g1', 0, 11, 'caf\u00e9'), groupState('g2', 1, 1), commit('g2', 0, 5)],
  [groupState('g1', 2), commit('g1', 1, 21), uncommit('g2', 0), deleteGroup('g2')],
  [commit('g3', 4, 100), commit('g1', 0, 12)],
];
const HISTORY_STATE = foldGroupRecords(HISTORY.flat());

/** The state `records` leave, whatever order its parts were last written in. */
function stateOf(records: readonly GroupRecord[]): Map<string, GroupRecord> {
  return new Map(foldGroupRecords(records).map((record) => [groupRecordIdentity(record), record]));
}

type GroupLogFactory = () => Promise<{ log: GroupLog; reopen?: () => Promise<GroupLog> }>;

function groupLogContract(name: string, factory: GroupLogFactory): void {
  describe(`GroupLog contract: ${name}`, () => {
    it('an empty log replays nothing and holds no bytes', async () => {
      const { log } = await factory();
      expect(await log.replay()).toEqual([]);
      expect(log.sizeInBytes).toBe(0);
      await log.close();
    });

    it('replays every record in append order, tombstones included', async () => {
      const { log } = await factory();
      let size = log.sizeInBytes;
      for (const batch of HISTORY) {
        await log.append(batch);
        expect(log.sizeInBytes).toBeGreaterThan(size);
        size = log.sizeInBytes;
      }
      expect(await log.replay()).toEqual(HISTORY.flat());
      await log.close();
    });

    it('an empty append changes nothing', async () => {
      const { log } = await factory();
      await log.append(HISTORY[0]!);
      const size = log.sizeInBytes;
      await log.append([]);
      expect(log.sizeInBytes).toBe(size);
      expect(await log.replay()).toEqual(HISTORY[0]);
      await log.close();
    });

    it('an append with a record that cannot be encoded writes none of it', async () => {
      const { log } = await factory();
      await expectBrokerError(log.append([commit('g', 0, 1), commit('g', 1, 2 ** 60)]), 'INVALID_RECORD');
      expect(await log.replay()).toEqual([]);
      await log.close();
    });

    it('after compact, replay is the live state, and later appends follow it', async () => {
      const { log } = await factory();
      for (const batch of HISTORY) await log.append(batch);
      await log.compact(HISTORY_STATE);
      expect(await log.replay()).toEqual(HISTORY_STATE);
      await log.append([commit('g1', 0, 13)]);
      expect(await log.replay()).toEqual([...HISTORY_STATE, commit('g1', 0, 13)]);
      await log.close();
    });

    it('compaction shrinks a log of many overwrites to about its live state', async () => {
      const { log } = await factory();
      for (let i = 0; i < 400; i++) {
        await log.append([commit('g', i % 4, i, 'metadata of some length'), groupState('g', i)]);
      }
      const before = log.sizeInBytes;
      const live = foldGroupRecords(await log.replay());
      expect(live).toHaveLength(5);
      await log.compact(live);
      expect(log.sizeInBytes).toBeLessThan(before / 20);
      expect(log.sizeInBytes).toBeGreaterThan(0);
      expect(await log.replay()).toEqual(live);
      await log.close();
    });

    it('an append made while compact runs lands after the snapshot and is kept', async () => {
      const { log } = await factory();
      for (const batch of HISTORY) await log.append(batch);
      const compacting = log.compact(HISTORY_STATE);
      const appending = log.append([commit('g1', 0, 99)]);
      await Promise.all([compacting, appending]);
      expect(await log.replay()).toEqual([...HISTORY_STATE, commit('g1', 0, 99)]);
      await log.close();
    });

    it('compacting to no live state empties the log, which then takes appends again', async () => {
      const { log } = await factory();
      await log.append(HISTORY[0]!);
      await log.compact([]);
      expect(await log.replay()).toEqual([]);
      expect(log.sizeInBytes).toBe(0);
      await log.append(HISTORY[1]!);
      expect(await log.replay()).toEqual(HISTORY[1]);
      await log.close();
    });

    it('compacting twice in a row keeps the state', async () => {
      const { log } = await factory();
      for (const batch of HISTORY) await log.append(batch);
      await log.compact(HISTORY_STATE);
      await log.compact(HISTORY_STATE);
      expect(await log.replay()).toEqual(HISTORY_STATE);
      await log.close();
    });

    it('a closed log refuses work; closing again is harmless', async () => {
      const { log } = await factory();
      await log.close();
      await expectBrokerError(log.append(HISTORY[0]!), 'KAFKA_STORAGE_ERROR');
      await expectBrokerError(log.replay(), 'KAFKA_STORAGE_ERROR');
      await expectBrokerError(log.compact([]), 'KAFKA_STORAGE_ERROR');
      await log.close();
    });

    it('reopened, replays the same records (when the implementation can reopen)', async () => {
      const { log, reopen } = await factory();
      if (!reopen) {
        await log.close();
        return;
      }
      for (const batch of HISTORY) await log.append(batch);
      let reopened = await reopen();
      expect(await reopened.replay()).toEqual(HISTORY.flat());
      await reopened.compact(HISTORY_STATE);
      await reopened.append([commit('g9', 0, 1)]);
      reopened = await reopen();
      expect(await reopened.replay()).toEqual([...HISTORY_STATE, commit('g9', 0, 1)]);
      await reopened.close();
    });
  });
}

groupLogContract('MemoryGroupLog', async () => ({ log: new MemoryGroupLog() }));

groupLogContract('file (openFileGroupLog)', async () => {
  const dataDir = tempDir();
  const open = () => openFileGroupLog({ dataDir, logConfig: logConfig() });
  let current = await open();
  return {
    log: current,
    reopen: async () => {
      await current.close();
      current = await open();
      return current;
    },
  };
});

// ------------------------------------------------------------------------------------------- file only

/** A raw FileLog over the group log's directory, as the group log opens it. */
function openRaw(dataDir: string): Promise<FileLog> {
  return openFileLog(groupLogDir(dataDir), { config: groupLogConfig(logConfig()) });
}

/** A copy of the data directory as a kill -9 leaves it now (the page cache survives; no close ran). */
function crashCopy(dataDir: string): string {
  const copy = tempDir();
  const from = groupLogDir(dataDir);
  const to = groupLogDir(copy);
  fs.mkdirSync(to);
  for (const name of fs.readdirSync(from)) fs.copyFileSync(path.join(from, name), path.join(to, name));
  return copy;
}

function segmentFiles(dataDir: string): string[] {
  return fs
    .readdirSync(groupLogDir(dataDir))
    .filter((name) => /^\d{20}\.log$/.test(name))
    .sort()
    .map((name) => path.join(groupLogDir(dataDir), name));
}

async function replayOf(dataDir: string): Promise<GroupRecord[]> {
  const log = await openFileGroupLog({ dataDir, logConfig: logConfig() });
  try {
    return await log.replay();
  } finally {
    await log.close();
  }
}

async function writeHistory(dataDir: string): Promise<void> {
  const log = await openFileGroupLog({ dataDir, logConfig: logConfig() });
  for (const batch of HISTORY) await log.append(batch);
  await log.close();
}

describe('file group log', () => {
  it('lives in <dataDir>/__consumer_offsets-0', async () => {
    const dataDir = tempDir();
    const log = await openFileGroupLog({ dataDir, logConfig: logConfig() });
    await log.append(HISTORY[0]!);
    await log.close();
    expect(groupLogDir(dataDir)).toBe(path.join(dataDir, `${OFFSETS_TOPIC}-0`));
    expect(segmentFiles(dataDir).map((file) => path.basename(file))).toEqual(['00000000000000000000.log']);
  });

  it('runs without retention, with the flush policy it is given', async () => {
    const given = logConfig({
      retentionMs: 1,
      retentionBytes: 1,
      flushPolicy: 'always',
      flushMessages: 7,
      flushMs: 9,
    });
    const config = groupLogConfig(given);
    expect(config).toMatchObject({
      retentionMs: -1,
      retentionBytes: -1,
      flushPolicy: 'always',
      flushMessages: 7,
      flushMs: 9,
    });
    expect(Object.isFrozen(config)).toBe(true);

    // Many small segments, all of them old: retention with the broker's settings would delete them all.
    const dataDir = tempDir();
    const log = await openFileGroupLog({ dataDir, logConfig: logConfig({ ...given, segmentBytes: 300 }) });
    for (const batch of HISTORY) await log.append(batch);
    await log.close();
    expect(segmentFiles(dataDir).length).toBeGreaterThan(2);
    const raw = await openFileLog(groupLogDir(dataDir), {
      config: groupLogConfig(logConfig({ ...given, segmentBytes: 300 })),
    });
    expect(await raw.enforceRetention(Date.now() + 365 * 24 * 3600 * 1000)).toBe(0);
    await raw.close();
    expect(await replayOf(dataDir)).toEqual(HISTORY.flat());
  });

  it('a torn tail (segment cut mid-batch after close) is cut back to the appends before it', async () => {
    const dataDir = tempDir();
    await writeHistory(dataDir);
    const [segment] = segmentFiles(dataDir);
    fs.truncateSync(segment!, fs.statSync(segment!).size - 7);
    expect(await replayOf(dataDir)).toEqual(HISTORY.slice(0, -1).flat());
  });

  it('a torn tail after kill -9 (no close) is cut back the same way', async () => {
    const dataDir = tempDir();
    const log = await openFileGroupLog({ dataDir, logConfig: logConfig() });
    for (const batch of HISTORY) await log.append(batch);
    const crashed = crashCopy(dataDir);
    await log.close();
    expect(fs.existsSync(path.join(groupLogDir(crashed), CLEAN_SHUTDOWN_FILE))).toBe(false);
    const [segment] = segmentFiles(crashed);
    fs.truncateSync(segment!, fs.statSync(segment!).size - 30);
    expect(await replayOf(crashed)).toEqual(HISTORY.slice(0, -1).flat());
  });

  describe('a compaction cut short by a crash replays to the same state', () => {
    /** The history, then snapshot batches appended (as compact does) but no delete; copied as a crash leaves it. */
    async function crashAfterSnapshot(
      batchesKept: number | 'all',
    ): Promise<{ crashed: string; batchCount: number }> {
      const dataDir = tempDir();
      await writeHistory(dataDir);
      // Small batches so the snapshot takes several.
      const snapshot = encodeGroupBatches(HISTORY_STATE, 200);
      const raw = await openRaw(dataDir);
      const kept = batchesKept === 'all' ? snapshot : snapshot.slice(0, batchesKept);
      for (const batch of kept) await raw.append(batch);
      const crashed = crashCopy(dataDir);
      await raw.close();
      return { crashed, batchCount: snapshot.length };
    }

    it('the whole snapshot written, nothing deleted', async () => {
      const { crashed, batchCount } = await crashAfterSnapshot('all');
      expect(batchCount).toBeGreaterThan(2);
      const replayed = await replayOf(crashed);
      expect(replayed).toEqual([...HISTORY.flat(), ...HISTORY_STATE]);
      expect(stateOf(replayed)).toEqual(stateOf(HISTORY_STATE));
    });

    it('any whole-batch prefix of the snapshot written', async () => {
      const { batchCount } = await crashAfterSnapshot(0);
      for (let kept = 0; kept < batchCount; kept++) {
        const { crashed } = await crashAfterSnapshot(kept);
        expect(stateOf(await replayOf(crashed))).toEqual(stateOf(HISTORY_STATE));
      }
    });

    it('the snapshot torn inside a batch', async () => {
      const { crashed } = await crashAfterSnapshot('all');
      const segment = segmentFiles(crashed).at(-1)!;
      fs.truncateSync(segment, fs.statSync(segment).size - 11);
      const replayed = await replayOf(crashed);
      expect(replayed.length).toBeGreaterThan(HISTORY.flat().length);
      expect(replayed.length).toBeLessThan(HISTORY.flat().length + HISTORY_STATE.length);
      expect(stateOf(replayed)).toEqual(stateOf(HISTORY_STATE));
    });

    it('a crash copy taken after a completed compact holds the snapshot alone', async () => {
      const dataDir = tempDir();
      const log = await openFileGroupLog({ dataDir, logConfig: logConfig() });
      for (const batch of HISTORY) await log.append(batch);
      await log.compact(HISTORY_STATE);
      const crashed = crashCopy(dataDir);
      await log.close();
      expect(await replayOf(crashed)).toEqual(HISTORY_STATE);
      expect(segmentFiles(crashed)).toHaveLength(1);
    });
  });

  it('splits a large snapshot in batches under 1 MiB each', async () => {
    const dataDir = tempDir();
    const log = await openFileGroupLog({ dataDir, logConfig: logConfig() });
    const live = Array.from({ length: 12_000 }, (_, i) => commit(`group-${i % 50}`, i, i, 'm'.repeat(150)));
    await log.append(live.slice(0, 10));
    await log.compact(live);
    const raw = await openRaw(dataDir);
    try {
      const headers = batchHeaders(await readAllBytes(raw));
      expect(headers.length).toBeGreaterThan(1);
      for (const header of headers) expect(header.sizeInBytes).toBeLessThanOrEqual(SNAPSHOT_BATCH_BYTES);
      expect(headers.reduce((sum, h) => sum + h.recordCount, 0)).toBe(live.length);
    } finally {
      await raw.close();
    }
    // The group log was open while the raw log read the same files; it has written nothing since.
    expect(await log.replay()).toEqual(live);
    await log.close();
  });

  it('replay skips key versions it does not know and records below the log start', async () => {
    const dataDir = tempDir();
    const raw = await openRaw(dataDir);
    const [first] = encodeGroupBatches([commit('g', 0, 1), commit('g', 1, 1)]);
    await raw.append(first!);
    const unknown = new Uint8Array([0x00, 0x03, 0x00, 0x01, 0x67]);
    const [known] = encodeGroupBatches([commit('g', 0, 2)]);
    await raw.append(encodeRecordBatch([{ key: unknown, value: new Uint8Array([0, 0]) }]));
    await raw.append(known!);
    // Offset 1 is in the middle of the first batch: the log start moves there, the segment stays.
    await raw.deleteRecordsBefore(1);
    await raw.close();
    expect(await replayOf(dataDir)).toEqual([commit('g', 1, 1), commit('g', 0, 2)]);
  });

  it('replay names the offset of a record it cannot decode', async () => {
    const dataDir = tempDir();
    const raw = await openRaw(dataDir);
    await raw.append(encodeGroupBatches([commit('g', 0, 1)])[0]!);
    await raw.append(encodeRecordBatch([{ key: new Uint8Array([0x00, 0x02, 0x00, 0x09]), value: null }]));
    await raw.append(encodeRecordBatch([{ key: null, value: new Uint8Array([1]) }]));
    await raw.close();
    const log = await openFileGroupLog({ dataDir, logConfig: logConfig() });
    const err = await expectBrokerError(log.replay(), 'CORRUPT_MESSAGE');
    expect(err.message).toContain('offset 1');
    await log.close();
  });
});
