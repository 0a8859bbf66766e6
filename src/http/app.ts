/**
 * @module
 * The HTTP front door as a library: `createApp(engine, options)` returns a Hono app that main.ts serves
 * with `Bun.serve({ fetch: app.fetch })` and tests call with `app.request()`. Routes per docs/http-api.md.
 */
import { Hono } from 'hono';
import { routePath } from 'hono/route';
import type { Engine } from '../ipc/engine.ts';
import { type Logger, silentLogger } from '../shared/logger.ts';
import { createErrorHandler, notFound } from './error-handler.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import type { HttpConfig, RouteDeps } from './route-deps.ts';
import { type ClusterStatusSource, clusterRoutes, type ReplicaStatusSource } from './routes/cluster.ts';
import { groupRoutes } from './routes/groups.ts';
import { healthRoutes } from './routes/health.ts';
import { offsetRoutes } from './routes/offsets.ts';
import { recordRoutes } from './routes/records.ts';
import { type InternalHandler, replicationRoutes } from './routes/replication.ts';
import { topicRoutes } from './routes/topics.ts';

export type { HttpConfig } from './route-deps.ts';

export interface AppOptions {
  config: Readonly<HttpConfig>;
  /** Share one with other front doors; by default the app makes its own, served at /metrics. */
  metrics?: Metrics;
  /** Unexpected errors and failed acks=0 produces are logged here (default: nowhere). */
  logger?: Logger;
  /** Answers `GET /v1/cluster` (main.ts reads etcd in a cluster); default: a single node. */
  clusterStatus?: ClusterStatusSource;
  /** Answers `GET /v1/replicas` (main.ts asks the replication layer); default: no replicas, node 0. */
  replicaStatus?: ReplicaStatusSource;
  /** Serves followers' fetches (a broker in a cluster; routes/replication.ts); default: not served. */
  replicaFetch?: InternalHandler;
  /** Serves group calls forwarded to this broker as the group coordinator (a broker in a cluster). */
  groupCall?: InternalHandler;
  /** Serves the offsets of the partitions this broker leads to other brokers (a broker in a cluster). */
  ledOffsets?: InternalHandler;
}

/** Route pattern of an answered request, or 'unmatched' when only the middleware ran (404). */
function routeLabel(path: string): string {
  return path === '*' || path === '/*' || path === '' ? 'unmatched' : path;
}

export function createApp(engine: Engine, options: AppOptions): Hono {
  const deps: RouteDeps = {
    engine,
    config: options.config,
    metrics: options.metrics ?? createMetrics(),
    logger: options.logger ?? silentLogger,
  };
  const app = new Hono();
  app.onError(createErrorHandler(deps.logger));
  app.notFound(notFound);

  app.use('*', async (c, next) => {
    const done = deps.metrics.startRequest();
    try {
      await next();
    } finally {
      // Labelled by pattern (`/v1/topics/:topic/records`), not by path, to keep the series bounded.
      done(c.req.method, routeLabel(routePath(c, -1)), c.res.status);
    }
  });

  app.route('/', healthRoutes(deps));
  app.route('/', topicRoutes(deps));
  app.route('/', recordRoutes(deps));
  app.route('/', offsetRoutes(deps));
  app.route('/', groupRoutes(deps));
  app.route('/', clusterRoutes(options.clusterStatus, options.replicaStatus));
  app.route(
    '/',
    replicationRoutes({
      replicaFetch: options.replicaFetch,
      groupCall: options.groupCall,
      ledOffsets: options.ledOffsets,
    }),
  );
  return app;
}
