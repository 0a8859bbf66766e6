/**
 * @module
 * Thread entry of the coordinator worker: the one owner of topic metadata and of consumer groups (their
 * members, generations, assignments and committed offsets, persisted in `__consumer_offsets`).
 * Everything else reaches that state through RPC.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LogConfig } from '../src/config/log-config.ts';
import { COORDINATOR_METHODS, Coordinator } from '../src/coordinator/coordinator.ts';
import type { GroupConfig } from '../src/coordinator/group-coordinator.ts';
import { GroupCoordinator } from '../src/coordinator/group-coordinator.ts';
import { type GroupLog, MemoryGroupLog } from '../src/coordinator/group-log.ts';
import { TopicRegistry } from '../src/coordinator/topic-registry.ts';
import { type Handlers, serveRpc } from '../src/ipc/rpc.ts';
import { openFileGroupLog } from '../src/partition/group-log-file.ts';
import { createLogger, type LogLevel } from '../src/shared/logger.ts';

export interface CoordinatorWorkerData {
  /** null: metadata and groups in memory only. */
  dataDir: string | null;
  logDefaults: LogConfig;
  groupConfig: GroupConfig;
  logLevel: LogLevel;
  /** A broker in a cluster: groups are coordinated elsewhere (src/cluster), keep none on disk here. */
  groupsInMemory?: boolean;
}

const data = workerData as CoordinatorWorkerData;
const logger = createLogger(data.logLevel);

async function start(): Promise<Coordinator> {
  const registry = new TopicRegistry(data.dataDir, data.logDefaults);
  const log: GroupLog =
    data.dataDir === null || data.groupsInMemory
      ? new MemoryGroupLog()
      : await openFileGroupLog({ dataDir: data.dataDir, logConfig: data.logDefaults, logger });
  const groups = new GroupCoordinator({
    log,
    config: data.groupConfig,
    partitionCount: (topic) => registry.partitionCount(topic),
    logger,
  });
  await groups.load();
  return new Coordinator(registry, groups);
}

// The port listens from the first instant; calls wait for the replay of __consumer_offsets to finish.
const ready = start();
const handlers: Handlers = {
  ping: async () => {
    await ready;
    return 'coordinator';
  },
};
for (const name of COORDINATOR_METHODS) {
  handlers[name] = (async (...args: unknown[]) => {
    const coordinator = await ready;
    return (coordinator[name] as (...a: unknown[]) => unknown).apply(coordinator, args);
  }) as Handlers[string];
}
serveRpc(parentPort!, handlers);
