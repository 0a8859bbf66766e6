/**
 * @module
 * What the cluster tests share: starting a broker in a cluster, reading `GET /v1/cluster`, running
 * `freshet cluster status` in-process, waiting for a condition, and reading a broker's own view of whether
 * it is the controller from its log.
 */
import { expect } from 'vitest';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import type { ClusterStatusBody } from '../../src/http/routes/cluster.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';

/** Short enough for quick failovers, long enough not to expire under a busy 2-core test machine. */
export const LEASE_TTL_SECONDS = 4;

export function startClusterBroker(
  nodeId: number,
  etcdUrl: string,
  cluster: string,
  extra: string[] = [],
  dataDir?: string,
): Promise<BrokerHandle> {
  return startBroker({
    ...(dataDir === undefined ? {} : { dataDir }),
    workers: 1,
    args: [
      '--node-id',
      String(nodeId),
      '--etcd',
      etcdUrl,
      '--cluster',
      cluster,
      '--etcd-lease-ttl-seconds',
      String(LEASE_TTL_SECONDS),
      ...extra,
    ],
  });
}

/** `GET /v1/cluster` as JSON; fails the test on anything but 200. */
export async function clusterOf(broker: BrokerHandle): Promise<ClusterStatusBody> {
  const res = await fetch(`${broker.url}/v1/cluster`, { headers: { accept: 'application/json' } });
  const body = await res.text();
  expect(res.status, body).toBe(200);
  return JSON.parse(body) as ClusterStatusBody;
}

/** The node ids listed, sorted. */
export function nodeIds(status: ClusterStatusBody): number[] {
  return status.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
}

/**
 * Polls `check` until it returns a value (not undefined) or `timeoutMs` passes; returns it and the time
 * taken.
 */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return { value, ms: Date.now() - start };
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The broker's own belief, from its log: the epoch it is controller of, or null. The log's last
 * 'elected controller' / 'no longer controller' line decides.
 */
export function believesController(broker: BrokerHandle): number | null {
  let epoch: number | null = null;
  for (const line of broker.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as { msg?: string; epoch?: number };
      if (event.msg === 'elected controller') epoch = event.epoch ?? null;
      else if (event.msg === 'no longer controller') epoch = null;
    } catch {
      // A line cut by the buffer: skip it.
    }
  }
  return epoch;
}

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/** `freshet <args> --url <broker>` in-process. */
export async function freshet(broker: BrokerHandle, ...args: string[]): Promise<CliRun> {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdin: (async function* () {})(),
    stdout: {
      write: (s: string) => {
        out.stdout += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        out.stderr += s;
        return true;
      },
    },
    env: {},
  };
  const status = await main([...args, '--url', broker.url], io);
  return { status, ...out };
}
