/**
 * @module
 * What every route module is built with: the engine, the config slice the HTTP door reads, metrics and a logger.
 */
import type { BrokerConfig } from '../config/broker-config.ts';
import type { Engine } from '../ipc/engine.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from './metrics.ts';

export type HttpConfig = Pick<BrokerConfig, 'maxRequestBytes' | 'maxFetchWaitMs' | 'defaultPartitions'>;

export interface RouteDeps {
  engine: Engine;
  config: Readonly<HttpConfig>;
  metrics: Metrics;
  logger: Logger;
}
