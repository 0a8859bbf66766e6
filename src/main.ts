/**
 * @module
 * Wires the broker together: configuration, the data-dir lock, the threaded engine (coordinator and
 * partition workers) and the HTTP front door on `Bun.serve`. Nothing imports this module except the CLI
 * (`freshet broker`); run it directly with `bun src/main.ts [flags]`.
 */
import path from 'node:path';
import { ConfigError, configHelp, loadConfig } from './config/load-config.ts';
import { createApp } from './http/app.ts';
import { createMetrics } from './http/metrics.ts';
import { createThreadedEngine } from './ipc/threaded-engine.ts';
import { lockDataDir } from './shared/data-dir-lock.ts';
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

  const engine = await createThreadedEngine({
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
  const metrics = createMetrics();
  const app = createApp(engine, { config, metrics, logger });
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
  const url = `http://${config.host}:${server.port}`;
  logger.info('listening', { http: url, dataDir, workers: config.workers });
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', http: url, dataDir, workers: config.workers })}\n`,
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { signal });
      try {
        await engine.stopWaiting(); // long-polls answer now instead of at their maxWaitMs
        await server.stop(false); // stop accepting; let in-flight requests finish
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
