/**
 * @module
 * Starts a real single-member etcd (Debian's `etcd-server`) for the cluster tests: on 127.0.0.1, free client
 * and peer ports, a temp data dir. `stop()` ends it for good (and removes the data dir); `kill()` and
 * `restart()` take it down and bring it back on the same ports and data (an etcd outage); `pause()` and
 * `resume()` freeze it (SIGSTOP/SIGCONT). A missing etcd
 * binary fails the test with what to install: these tests are never skipped.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * The etcd binary: `FRESHET_TEST_ETCD`, else `etcd` on PATH (Debian's etcd-server installs /usr/bin/etcd).
 */
const ETCD = process.env.FRESHET_TEST_ETCD ?? 'etcd';

export interface EtcdHandle {
  /** The client URL, as `--etcd` takes it. */
  readonly url: string;
  readonly dataDir: string;
  /** What etcd wrote so far (its log), for failure messages. */
  log(): string;
  /** SIGKILL, wait for exit; the data dir is kept for `restart()`. */
  kill(): Promise<void>;
  /** SIGSTOP: etcd stops answering but keeps its connections (a network partition, as brokers see it). */
  pause(): void;
  /** SIGCONT after `pause()`. */
  resume(): void;
  /** Starts it again on the same ports and data dir, and waits until it is healthy. */
  restart(): Promise<void>;
  /** Stops it for good and removes the data dir. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Throws, saying what to install, when there is no etcd to run. */
export function requireEtcd(): void {
  const probe = spawnSync(ETCD, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `cannot run etcd ('${ETCD}': ${probe.error?.message ?? probe.stderr}). The cluster tests need a real ` +
        "etcd: install Debian's etcd-server (sudo apt-get install -y etcd-server), or point " +
        'FRESHET_TEST_ETCD at an etcd binary.',
    );
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`etcd exited while starting (code ${child.exitCode}): ${log().slice(-4000)}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await res.json()) as { health?: string };
      if (res.ok && body.health === 'true') return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`etcd did not become healthy in 20 s: ${log().slice(-4000)}`);
}

export async function startEtcd(): Promise<EtcdHandle> {
  requireEtcd();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'freshet-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let output = '';
  let child: ChildProcess;

  const launch = async () => {
    child = spawn(
      ETCD,
      [
        '--name',
        'default',
        '--data-dir',
        path.join(dataDir, 'data'),
        '--listen-client-urls',
        url,
        '--advertise-client-urls',
        url,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `default=${peer}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output += chunk;
        if (output.length > 1_000_000) output = output.slice(-500_000);
      });
    }
    await waitHealthy(url, child, () => output);
  };

  const kill = async () => {
    child.kill('SIGKILL');
    await exited(child);
  };

  try {
    await launch();
  } catch (err) {
    await kill();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    url,
    dataDir,
    log: () => output,
    kill,
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    restart: launch,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited(child);
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
