/**
 * @module
 * Wires the broker together: configuration, the data-dir lock, the threaded engine (coordinator and
 * partition workers) and the two front doors on the same engine: HTTP on `Bun.serve`, the Kafka protocol on
 * `Bun.listen` (unless `--kafka-port -1`). With `--etcd`, once both listen (so the ports it registers are
 * real), the broker joins its cluster (src/cluster, loaded only then): registration under a lease and the
 * controller election; it leaves first on shutdown. Nothing imports this module except the CLI (`freshet
 * broker`); run it directly with `bun src/main.ts [flags]`.
 */
import path from 'node:path';
import type { ClusterNode } from './cluster/cluster-node.ts';
import type { BrokerRegistration } from './cluster/etcd-keys.ts';
import { ConfigError, configHelp, loadConfig } from './config/load-config.ts';
import { createApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import type { ClusterStatusBody } from './http/routes/cluster.ts';
import { createThreadedEngine } from './ipc/threaded-engine.ts';
import type { KafkaDoorConfig } from './kafka/api.ts';
import { KAFKA_APIS } from './kafka/apis/index.ts';
import { loadClusterId } from './kafka/cluster-id.ts';
import { advertisedKafkaHost, hostPort, type KafkaServer, startKafkaServer } from './kafka/server.ts';
import { lockDataDir } from './shared/data-dir-lock.ts';
import { BrokerError } from './shared/errors.ts';
import { createLogger } from './shared/logger.ts';

/** Starts the broker and resolves once it has shut down after SIGTERM/SIGINT. */
export async function runBroker(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`Usage: freshet broker [flags]\n\n${configHelp()}\n`);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`freshet: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  const dataDir = path.resolve(config.dataDir);
  let lock: { release(): void };
  try {
    lock = lockDataDir(dataDir);
  } catch (err) {
    process.stderr.write(`freshet: ${(err as Error).message}\n`);
    process.exit(1);
  }
  let clusterId = '';
  if (config.kafkaPort >= 0) {
    try {
      clusterId = loadClusterId(dataDir);
    } catch (err) {
      process.stderr.write(`freshet: ${(err as Error).message}\n`);
      lock.release();
      process.exit(1);
    }
  }

  const local = await createThreadedEngine({
    config,
    onWorkerExit: (name, reason) => {
      logger.error('a worker died; stopping the broker rather than serve part of the partitions', {
        name,
        reason,
      });
      lock.release();
      process.exit(1);
    },
  });
  // In a cluster the front doors call the replication layer, which owns leadership, over the local engine.
  const replicated =
    config.etcdEndpoints === null
      ? null
      : new (await import('./cluster/replicated-engine.ts')).ReplicatedEngine(local, config, logger);
  const engine = replicated ?? local;
  const metrics = createMetrics();
  /** This broker as the cluster sees it; set once both listeners are up. */
  let self: BrokerRegistration | null = null;
  let cluster: ClusterNode | null = null;
  const clusterStatus = async (): Promise<ClusterStatusBody> => {
    if (config.etcdEndpoints === null) {
      return {
        mode: 'single',
        nodeId: config.nodeId,
        cluster: null,
        controller: null,
        brokers: self === null ? [] : [self],
        partitions: [],
      };
    }
    if (cluster === null) {
      throw new BrokerError('REQUEST_TIMED_OUT', `the broker is still joining cluster '${config.cluster}'`);
    }
    return { ...(await cluster.status()), partitions: replicated?.partitionStates() ?? [] };
  };
  const app = createApp(engine, {
    config,
    metrics,
    logger,
    clusterStatus,
    ...(replicated
      ? {
          replicaStatus: async () => replicated.replicaStatus(),
          replicaFetch: (request: unknown) => replicated.serveReplicaFetch(request),
          groupCall: (request: unknown) => replicated.serveGroupCall(request),
          ledOffsets: (request: unknown) => replicated.serveLedOffsets(request),
        }
      : {}),
  });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: config.host,
      port: config.httpPort,
      fetch: app.fetch,
      // Bodies are checked against max.request.bytes by the app; this is Bun's own hard ceiling above it.
      maxRequestBodySize: config.maxRequestBytes + 1024 * 1024,
      // Long-polled fetches hold a request open for up to maxFetchWaitMs, a group join up to the member's
      // rebalance timeout (at most groupMaxSessionTimeoutMs). 255 s is Bun's ceiling.
      idleTimeout: Math.min(
        255,
        Math.ceil(Math.max(config.maxFetchWaitMs, config.groupMaxSessionTimeoutMs) / 1000) + 10,
      ),
    });
  } catch (err) {
    process.stderr.write(
      `freshet: cannot listen on ${config.host}:${config.httpPort} (--http-port, --host): ${(err as Error).message}\n`,
    );
    await engine.close().catch(() => {});
    lock.release();
    process.exit(1);
  }
  let kafka: KafkaServer | null = null;
  if (config.kafkaPort >= 0) {
    const kafkaConfig: KafkaDoorConfig = {
      nodeId: config.nodeId,
      advertisedHost: advertisedKafkaHost(config.host, config.kafkaAdvertisedHost),
      advertisedPort: config.kafkaAdvertisedPort ?? 0, // 0: the port bound
      clusterId,
      maxFetchWaitMs: config.maxFetchWaitMs,
      maxRequestBytes: config.maxRequestBytes,
    };
    try {
      kafka = await startKafkaServer({
        engine,
        config: kafkaConfig,
        host: config.host,
        port: config.kafkaPort,
        logger,
        apis: KAFKA_APIS,
      });
    } catch (err) {
      process.stderr.write(
        `freshet: cannot start the Kafka listener on ${hostPort(config.host, config.kafkaPort)} (--kafka-port, --host): ${(err as Error).message}\n`,
      );
      await server.stop(true);
      await engine.close().catch(() => {});
      lock.release();
      process.exit(1);
    }
  }
  self = {
    nodeId: config.nodeId,
    host: kafka ? kafka.config.advertisedHost : advertisedKafkaHost(config.host, config.kafkaAdvertisedHost),
    httpPort: server.port ?? config.httpPort,
    kafkaPort: kafka ? kafka.config.advertisedPort : null,
    rack: config.brokerRack,
    startedAt: new Date().toISOString(),
  };
  if (config.etcdEndpoints !== null && replicated !== null) {
    try {
      const { joinCluster } = await import('./cluster/cluster-node.ts');
      const etcdEndpoints = config.etcdEndpoints;
      const registration = self;
      cluster = await replicated.join((hooks) =>
        joinCluster({ config: { ...config, etcdEndpoints }, registration, logger, hooks }),
      );
    } catch (err) {
      // A node id already taken, no etcd, or the cluster code missing from this build: a broker that cannot
      // join its cluster must not serve.
      process.stderr.write(`freshet: ${(err as Error).message}\n`);
      await Promise.all([server.stop(true), kafka?.stop()]);
      await engine.close().catch(() => {});
      lock.release();
      process.exit(1);
    }
  }
  const url = `http://${config.host}:${server.port}`;
  const kafkaAddress = kafka ? hostPort(config.host, kafka.port) : null;
  logger.info('listening', {
    http: url,
    kafka: kafkaAddress,
    kafkaAdvertised: kafka ? hostPort(kafka.config.advertisedHost, kafka.config.advertisedPort) : null,
    dataDir,
    workers: config.workers,
    ...(config.etcdEndpoints === null ? {} : { cluster: config.cluster, nodeId: config.nodeId }),
  });
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', http: url, kafka: kafkaAddress, dataDir, workers: config.workers })}\n`,
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { signal });
      // Leave the cluster first (revoking the lease hands the controller role and leadership over at once).
      await (replicated ? replicated.leave() : cluster?.stop())?.catch((err: unknown) =>
        logger.error('error while leaving the cluster', { error: String(err) }),
      );
      try {
        await engine.stopWaiting(); // long-polls answer now instead of at their maxWaitMs
        // Stop accepting; let in-flight requests finish (the Kafka door within its shutdown timeout).
        await Promise.all([server.stop(false), kafka?.stop()]);
        await engine.close(); // waits for in-flight engine calls, flushes and closes every log
      } catch (err) {
        logger.error('error while shutting down', { error: String(err) });
        lock.release();
        process.exit(1);
      }
      lock.release();
      logger.info('stopped');
      resolve();
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });
}

if (import.meta.main) {
  await runBroker(process.argv.slice(2));
  process.exit(0);
}
