/**
 * @module
 * The whole engine on one thread: a TopicRegistry and one PartitionManager, no workers. Used to test the
 * front doors in-process (`app.request()`) and for embedding; the broker process uses ThreadedEngine.
 */
import path from 'node:path';
import type { BrokerConfig } from '../config/broker-config.ts';
import { TopicRegistry } from '../coordinator/topic-registry.ts';
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
  const engine = new BrokerEngine(registry, [manager], config, async () => {});
  await engine.start();
  return engine;
}
