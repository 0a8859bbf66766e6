/**
 * @module
 * Runs the PartitionLog contract against MemoryLog, plus what only the memory log promises.
 */
import { describe, expect, it } from 'vitest';
import { logConfig } from '../../src/config/log-config.ts';
import { MemoryLog } from '../../src/storage/memory-log.ts';
import { partitionLogContract } from './partition-log.contract.ts';
import { batchOf, readAll, text } from './support.ts';

partitionLogContract('MemoryLog', async (config, clock) => ({
  log: new MemoryLog({ config: logConfig(config), clock }),
}));

describe('MemoryLog', () => {
  it('reads as bytes slices and counts everything appended as flushed', async () => {
    const log = new MemoryLog({ config: logConfig() });
    await log.append(batchOf(['a', 'b'], 1000));
    expect(log.flushedOffset).toBe(2);
    const read = await log.read(0, 1000);
    expect(read.slices.map((slice) => slice.kind)).toEqual(['bytes']);
  });

  it('keeps its own copy: changing the appended buffer afterwards changes nothing stored', async () => {
    const log = new MemoryLog({ config: logConfig() });
    const buffer = batchOf(['a', 'b'], 1000);
    await log.append(buffer);
    buffer.fill(0);
    expect((await readAll(log)).map((r) => text(r.value))).toEqual(['a', 'b']);
  });
});
