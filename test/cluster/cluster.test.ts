/**
 * @module
 * Three real broker processes and a real etcd: every broker registers and is listed by `GET /v1/cluster`
 * and `freshet cluster status`; exactly one is the controller (in etcd and in the brokers' own belief); a
 * duplicate node id is refused; a non-controller stopped with SIGTERM leaves at once; a controller killed
 * with SIGKILL is replaced, in a higher epoch, within the lease TTL plus a little, and drops off the list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatusBody } from '../../src/http/routes/cluster.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd.ts';
import {
  believesController,
  clusterOf,
  freshet,
  LEASE_TTL_SECONDS,
  nodeIds,
  startClusterBroker,
  waitFor,
} from './support.ts';

const CLUSTER = 'c1';

let etcd: EtcdHandle;
/** By node id; removed when a test stops or kills one. */
const brokers = new Map<number, BrokerHandle>();
/** Data dirs of crashed brokers whose restarts reuse them (a broker given a dir does not remove it). */
const leftovers: Array<() => void> = [];

beforeAll(async () => {
  etcd = await startEtcd();
  const started = await Promise.all([1, 2, 3].map((id) => startClusterBroker(id, etcd.url, CLUSTER)));
  for (const [i, broker] of started.entries()) brokers.set(i + 1, broker);
});

afterAll(async () => {
  await Promise.all([...brokers.values()].map((broker) => broker.stop()));
  for (const cleanup of leftovers) cleanup();
  await etcd?.stop();
});

function live(): BrokerHandle[] {
  return [...brokers.values()];
}

/** Waits until every live broker answers a view with `ids` registered and some controller elected. */
async function settled(ids: number[], timeoutMs = 10_000): Promise<ClusterStatusBody> {
  const { value } = await waitFor(`brokers ${ids} and a controller`, timeoutMs, async () => {
    const views = await Promise.all(live().map(clusterOf));
    const ok = views.every(
      (v) => v.controller !== null && JSON.stringify(nodeIds(v)) === JSON.stringify(ids),
    );
    return ok ? views[0] : undefined;
  });
  return value;
}

/** Exactly one live broker believes it is the controller, and it is the one etcd names, in that epoch. */
async function expectOneController(status: ClusterStatusBody): Promise<void> {
  const { controller } = status;
  expect(controller).not.toBeNull();
  // A winner logs its election right after its transaction: give the log a moment.
  await waitFor('the controller to log its election', 3_000, async () =>
    believesController(brokers.get(controller!.nodeId)!) === controller!.epoch ? true : undefined,
  );
  const believers = [...brokers.entries()]
    .filter(([, b]) => believesController(b) !== null)
    .map(([id]) => id);
  expect(believers).toEqual([controller!.nodeId]);
}

describe('a cluster of three brokers on etcd', () => {
  it('lists every broker, with its real ports, from any broker, and elects exactly one controller', async () => {
    const status = await settled([1, 2, 3]);
    const views = await Promise.all(live().map(clusterOf));
    for (const [i, view] of views.entries()) {
      expect(view).toMatchObject({ mode: 'etcd', nodeId: i + 1, cluster: CLUSTER });
      expect(view.controller).toEqual(status.controller);
      expect(view.brokers).toEqual(status.brokers);
    }
    for (const entry of status.brokers) {
      const broker = brokers.get(entry.nodeId)!;
      expect(`http://${entry.host}:${entry.httpPort}`).toBe(broker.url);
      expect(entry.kafkaPort).toBe(broker.kafka.port);
      expect(entry.rack).toBeNull();
      expect(Number.isNaN(Date.parse(entry.startedAt))).toBe(false);
    }
    expect(status.controller!.epoch).toBeGreaterThanOrEqual(1);
    await expectOneController(status);
  });

  it('shows the brokers and the controller in `freshet cluster status`', async () => {
    const status = await settled([1, 2, 3]);
    const run = await freshet(brokers.get(2)!, 'cluster', 'status');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(
      `Cluster: ${CLUSTER}  Brokers: 3  Controller: node ${status.controller!.nodeId} ` +
        `(epoch ${status.controller!.epoch})  Asked: node 2`,
    );
    expect(lines[1]).toMatch(/^NODE +HOST +HTTP +KAFKA +RACK +CONTROLLER$/);
    expect(lines).toHaveLength(5);
    for (const [i, line] of lines.slice(2).entries()) {
      const id = i + 1;
      const broker = brokers.get(id)!;
      const port = new URL(broker.url).port;
      const controller =
        id === status.controller!.nodeId ? `yes \\(epoch ${status.controller!.epoch}\\)` : 'no';
      expect(line).toMatch(
        new RegExp(`^${id} +127\\.0\\.0\\.1 +${port} +${broker.kafka.port} +- +${controller}$`),
      );
    }
    const json = await freshet(brokers.get(1)!, 'cluster', 'status', '--json');
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ ...status, nodeId: 1 });
  });

  it('refuses a second broker with a live node id: exit 1 and a message naming the holder', async () => {
    const started = Date.now();
    const duplicate = startClusterBroker(2, etcd.url, CLUSTER);
    await expect(duplicate).rejects.toThrow(
      /code 1[\s\S]*node id 2 is already registered in cluster 'c1' by the broker at 127\.0\.0\.1 .*--node-id/,
    );
    // Refused as soon as the holder is seen renewing its lease (well within one TTL, and no waiting for start-up).
    expect(Date.now() - started).toBeLessThan(LEASE_TTL_SECONDS * 1000 + 5_000);
    // The original holder is untouched.
    const status = await settled([1, 2, 3]);
    expect(status.brokers.find((b) => b.nodeId === 2)!.httpPort).toBe(
      Number(new URL(brokers.get(2)!.url).port),
    );
  });

  it('takes back a node id after a crash: the restarted broker waits for its old lease to expire', async () => {
    const before = await settled([1, 2, 3]);
    const id = [1, 2, 3].find((n) => n !== before.controller!.nodeId)!;
    const crashed = brokers.get(id)!;
    await crashed.kill9();
    brokers.delete(id);
    leftovers.push(() => crashed.cleanup());
    const started = Date.now();
    // Same data dir, same node id, at once: the old registration still lives until its lease expires.
    const restarted = await startClusterBroker(id, etcd.url, CLUSTER, [], crashed.dataDir);
    brokers.set(id, restarted);
    expect(Date.now() - started).toBeLessThan(LEASE_TTL_SECONDS * 1000 + 8_000);
    expect(restarted.stderr()).toContain('waiting to see whether it expires');
    const after = await settled([1, 2, 3]);
    expect(after.brokers.find((b) => b.nodeId === id)!.httpPort).toBe(Number(new URL(restarted.url).port));
    expect(after.controller).toEqual(before.controller);
  });

  it('drops a non-controller stopped with SIGTERM at once (its lease is revoked), keeping the controller', async () => {
    const before = await settled([1, 2, 3]);
    const leaving = [1, 2, 3].find((id) => id !== before.controller!.nodeId)!;
    await brokers.get(leaving)!.stop();
    brokers.delete(leaving);
    const after = await clusterOf(live()[0]!);
    expect(nodeIds(after)).toEqual([1, 2, 3].filter((id) => id !== leaving));
    expect(after.controller).toEqual(before.controller);
  });

  it('replaces a controller killed with SIGKILL within the lease TTL, in a higher epoch', async () => {
    const before = await settled(nodeIds(await clusterOf(live()[0]!)));
    const old = before.controller!;
    const victim = brokers.get(old.nodeId)!;
    await victim.kill9();
    victim.cleanup();
    brokers.delete(old.nodeId);
    const survivors = [...brokers.keys()].sort((a, b) => a - b);
    const { value: after, ms } = await waitFor(
      'a new controller',
      LEASE_TTL_SECONDS * 1000 + 10_000,
      async () => {
        const view = await clusterOf(live()[0]!);
        return view.controller !== null && view.controller.nodeId !== old.nodeId ? view : undefined;
      },
    );
    // The dead broker's lease expires one TTL after its last keep-alive; the election follows at once.
    expect(ms).toBeLessThan(LEASE_TTL_SECONDS * 1000 + 3_000);
    expect(after.controller!.epoch).toBeGreaterThan(old.epoch);
    expect(survivors).toContain(after.controller!.nodeId);
    expect(nodeIds(after)).toEqual(survivors);
    await expectOneController(after);
  });
});

describe('a broker without --etcd', () => {
  let single: BrokerHandle;
  beforeAll(async () => {
    single = await startBroker({ workers: 1, args: ['--node-id', '4'] });
  });
  afterAll(async () => {
    await single?.stop();
  });

  it('answers GET /v1/cluster in single mode, listing itself', async () => {
    const status = await clusterOf(single);
    expect(status).toMatchObject({ mode: 'single', nodeId: 4, cluster: null, controller: null });
    expect(status.brokers).toHaveLength(1);
    expect(status.brokers[0]).toMatchObject({
      nodeId: 4,
      host: '127.0.0.1',
      httpPort: Number(new URL(single.url).port),
      kafkaPort: single.kafka.port,
      rack: null,
    });
    const run = await freshet(single, 'cluster', 'status');
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('Single node (no --etcd): node 4, no controller');
    // Nothing of the cluster code ran.
    expect(single.stderr()).not.toMatch(/etcd|registered in the cluster|controller/);
  });
});
