/**
 * @module
 * Runs the PartitionLog contract against the file log, each log in a fresh temp directory.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { logConfig } from '../../src/config/log-config.ts';
import { openFileLog } from '../../src/storage/file-log.ts';
import type { PartitionLog } from '../../src/storage/partition-log.ts';
import { partitionLogContract } from './partition-log.contract.ts';

/** Logs and directories opened by the current test, released after it. */
const opened: Array<{ dir: string; current: PartitionLog }> = [];

afterEach(async () => {
  for (const entry of opened.splice(0)) {
    // The test may already have closed it, or close may be what failed or hangs: the directory goes regardless.
    const grace = new Promise((resolve) => setTimeout(resolve, 2_000).unref());
    await Promise.race([entry.current.close().catch(() => {}), grace]);
    fs.rmSync(entry.dir, { recursive: true, force: true });
  }
});

partitionLogContract(
  'FileLog',
  async (config, clock) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-file-log-'));
    const options = { config: logConfig(config), clock };
    const entry = { dir, current: (await openFileLog(dir, options)) as PartitionLog };
    opened.push(entry);
    const reopen = async () => {
      await entry.current.close();
      entry.current = await openFileLog(dir, options);
      return entry.current;
    };
    return { log: entry.current, reopen };
  },
  { reopenable: true },
);
