/**
 * @module
 * Thread entry of the coordinator worker: the one owner of topic metadata (and, in a later issue, of
 * consumer groups). Everything else reaches its state through RPC.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogConfig } from '../src/config/log-config.ts';
import { TopicRegistry } from '../src/coordinator/topic-registry.ts';
import type { TopicConfigEntries } from '../src/ipc/engine.ts';
import { serveRpc } from '../src/ipc/rpc.ts';

export interface CoordinatorWorkerData {
  /** null: metadata in memory only. */
  dataDir: string | null;
  logDefaults: LogConfig;
}

const data = workerData as CoordinatorWorkerData;
const registry = new TopicRegistry(data.dataDir, data.logDefaults);

serveRpc(parentPort!, {
  list: () => registry.list(),
  create: (name: string, partitions: number, config: TopicConfigEntries) =>
    registry.create(name, partitions, config),
  delete: (name: string) => registry.delete(name),
  alter: (name: string, config: TopicConfigEntries) => registry.alter(name, config),
  addPartitions: (name: string, count: number) => registry.addPartitions(name, count),
  ping: () => 'coordinator',
});
