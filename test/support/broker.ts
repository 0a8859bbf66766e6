/**
 * @module
 * Starts a real broker process (`bun src/main.ts`) on free ports (HTTP and Kafka: `--kafka-port 0`, so
 * parallel test brokers never collide on 9092) and a temp data dir for tests, and stops it: `stop()` sends
 * SIGTERM and waits for a clean exit, `kill9()` kills it hard (crash tests). The data dir is removed on stop
 * unless the caller passed its own. The addresses come from the broker's `listening` line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUN = path.join(REPO_ROOT, 'node_modules/.bin/bun');

export interface StartBrokerOptions {
  /** Reuse a data dir (restart tests); it is then not removed on stop. */
  dataDir?: string;
  workers?: number;
  /** More flags for src/main.ts, e.g. ['--default-partitions', '3']; they override the helper's own. */
  args?: string[];
  /** How long to wait for the "listening" line; default 20 s. */
  startTimeoutMs?: number;
  env?: Record<string, string>;
  /**
   * The program and its leading arguments; default `[BUN, 'src/main.ts']`. The compiled binary:
   * `['<dir>/freshet', 'broker']`. The helper's flags (`--data-dir`, `--http-port 0`, ...) follow.
   */
  command?: readonly string[];
  /** Working directory of the broker; default the repository root. */
  cwd?: string;
}

export interface KafkaAddress {
  host: string;
  port: number;
}

export interface BrokerHandle {
  url: string;
  /** The Kafka listener's address; throws when the broker runs without one (`--kafka-port -1`). */
  readonly kafka: KafkaAddress;
  /** The same as `host:port`, as Kafka clients take bootstrap servers. */
  readonly kafkaAddress: string;
  dataDir: string;
  process: ChildProcess;
  /** What the broker wrote to stderr so far (its log), for failure messages. */
  stderr(): string;
  /** SIGTERM, wait for exit (SIGKILL after 10 s), remove the temp data dir. */
  stop(): Promise<void>;
  /** SIGKILL, wait for exit; the data dir is kept for a restart until `cleanup()`. */
  kill9(): Promise<void>;
  /** Removes the data dir if this helper created it. */
  cleanup(): void;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<BrokerHandle> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'freshet-broker-'));
  const [program, ...leading] = options.command ?? [BUN, 'src/main.ts'];
  const args = [
    ...leading,
    '--data-dir',
    dataDir,
    '--http-port',
    '0',
    '--kafka-port',
    '0',
    '--host',
    '127.0.0.1',
  ];
  if (options.workers !== undefined) args.push('--workers', String(options.workers));
  args.push(...(options.args ?? []));
  const child = spawn(program!, args, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });

  const cleanup = () => {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };

  const listening = await new Promise<{ http: string; kafka: string | null }>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`broker did not start in time; stdout: ${stdout} stderr: ${stderr}`));
    }, options.startTimeoutMs ?? 20_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const event = JSON.parse(line) as { msg?: string; http?: string; kafka?: string | null };
          if (event.msg === 'listening' && typeof event.http === 'string') {
            clearTimeout(timer);
            resolve({ http: event.http, kafka: typeof event.kafka === 'string' ? event.kafka : null });
            return;
          }
        } catch {
          // A partial line: wait for the rest.
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`broker exited before listening (code ${code}, signal ${signal}): ${stderr}`));
    });
  }).catch((err: unknown) => {
    cleanup();
    throw err;
  });
  // Keep draining stdout so the broker never blocks on a full pipe.
  child.stdout!.resume();
  const kafka = listening.kafka === null ? null : parseHostPort(listening.kafka);
  const noKafka = () => new Error('this broker has no Kafka listener (--kafka-port -1)');

  return {
    url: listening.http,
    get kafka() {
      if (kafka === null) throw noKafka();
      return kafka;
    },
    get kafkaAddress() {
      if (kafka === null) throw noKafka();
      return listening.kafka!;
    },
    dataDir,
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited(child);
        clearTimeout(timer);
      }
      cleanup();
    },
    async kill9() {
      child.kill('SIGKILL');
      await exited(child);
    },
    cleanup,
  };
}

/** `127.0.0.1:9092` or `[::1]:9092` → host and port. */
function parseHostPort(address: string): KafkaAddress {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}
