/**
 * @module
 * Thread entry of a partition worker: owns the partitions placement.ts gives it (a PartitionManager) and
 * serves the main thread's RPC. Produce batches arrive as slots of a shared ring and are appended straight
 * from shared memory; the slot is released as soon as the log has written the bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogConfig } from '../src/config/log-config.ts';
import type { FetchRequest, OffsetSpec } from '../src/ipc/engine.ts';
import { openRing, type RingSlot } from '../src/ipc/ring.ts';
import { serveRpc } from '../src/ipc/rpc.ts';
import { PartitionManager } from '../src/partition/partition-manager.ts';
import { createLogger, type LogLevel } from '../src/shared/logger.ts';
import type { AppendOptions } from '../src/storage/partition-log.ts';

export interface PartitionWorkerData {
  index: number;
  dataDir: string;
  memory: boolean;
  retentionCheckIntervalMs: number;
  logLevel: LogLevel;
  ring: SharedArrayBuffer;
}

const data = workerData as PartitionWorkerData;
const logger = createLogger(data.logLevel);
const ring = openRing(data.ring);
const manager = new PartitionManager({
  dataDir: data.dataDir,
  memory: data.memory,
  retentionCheckIntervalMs: data.retentionCheckIntervalMs,
  logger,
});

serveRpc(parentPort!, {
  open: (topic: string, partitions: number[], config: LogConfig) => manager.open(topic, partitions, config),
  remove: (topic: string, partitions: number[]) => manager.remove(topic, partitions),
  reconfigure: (topic: string, partitions: number[], config: LogConfig) =>
    manager.reconfigure(topic, partitions, config),
  append: (topic: string, partition: number, slot: RingSlot, options: AppendOptions) => {
    // Slots are released in the order they arrive (the ring is FIFO): append reads the bytes
    // synchronously, so the release can follow the call directly, whatever the outcome.
    try {
      return manager.append(topic, partition, ring.view(slot), options);
    } finally {
      ring.release(slot);
    }
  },
  truncate: (topic: string, partition: number, offset: number) => manager.truncate(topic, partition, offset),
  truncateFullyAndStartAt: (topic: string, partition: number, offset: number) =>
    manager.truncateFullyAndStartAt(topic, partition, offset),
  epochEnd: (topic: string, partition: number, epoch: number) => manager.epochEnd(topic, partition, epoch),
  epochAt: (topic: string, partition: number, offset: number) => manager.epochAt(topic, partition, offset),
  lastEpoch: (topic: string, partition: number) => manager.lastEpoch(topic, partition),
  fetchRaw: (request: FetchRequest) => manager.fetchRaw(request),
  fetchRecords: (request: FetchRequest) => manager.fetchRecords(request),
  listOffset: (topic: string, partition: number, spec: OffsetSpec) =>
    manager.listOffset(topic, partition, spec),
  deleteRecords: (topic: string, partition: number, beforeOffset: number) =>
    manager.deleteRecords(topic, partition, beforeOffset),
  offsets: (topic: string, partitions: number[]) => manager.offsets(topic, partitions),
  allOffsets: () => manager.allOffsets(),
  stopWaiting: () => manager.stopWaiting(),
  ping: () => data.index,
  close: () => manager.close(),
});
