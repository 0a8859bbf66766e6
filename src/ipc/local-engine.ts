/**
 * @module
 * The whole engine on one thread: a TopicRegistry, a GroupCoordinator and one PartitionManager, no workers. Used to test the
 * front doors in-process (`app.request()`) and for embedding; the broker process uses ThreadedEngine.
 */
import path from 'node:path';
import type { BrokerConfig } from '../config/broker-config.ts';
import { Coordinator } from '../coordinator/coordinator.ts';
import { GroupCoordinator, groupConfig } from '../coordinator/group-coordinator.ts';
import { type GroupLog, MemoryGroupLog } from '../coordinator/group-log.ts';
import { TopicRegistry } from '../coordinator/topic-registry.ts';
import { openFileGroupLog } from '../partition/group-log-file.ts';
import { PartitionManager } from '../partition/partition-manager.ts';
import type { Logger } from '../shared/logger.ts';
import { BrokerEngine } from './broker-engine.ts';

export interface LocalEngineOptions {
  config: Readonly<BrokerConfig>;
  /** Keep logs and metadata in memory only. */
  memory?: boolean;
  logger?: Logger;
}

export type LocalEngine = BrokerEngine;

export async function createLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  const { config } = options;
  const dataDir = path.resolve(config.dataDir);
  const registry = new TopicRegistry(options.memory ? null : dataDir, config.logDefaults);
  const manager = new PartitionManager({
    dataDir,
    memory: options.memory ?? false,
    retentionCheckIntervalMs: config.retentionCheckIntervalMs,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const log: GroupLog = options.memory
    ? new MemoryGroupLog()
    : await openFileGroupLog({
        dataDir,
        logConfig: config.logDefaults,
        ...(options.logger ? { logger: options.logger } : {}),
      });
  const groups = new GroupCoordinator({
    log,
    config: groupConfig(config),
    partitionCount: (topic) => registry.partitionCount(topic),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await groups.load();
  const engine = new BrokerEngine(new Coordinator(registry, groups), [manager], config, async () => {});
  await engine.start();
  return engine;
}
