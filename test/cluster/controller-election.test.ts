/**
 * @module
 * The election and its fence in-process (under Node, against a real etcd): brokers joining at once elect
 * exactly one controller; epochs strictly increase over successive elections; the old controller resigns
 * before the next is elected; a write fenced by a deposed controller's epoch fails in etcd; and joining
 * fails with a live duplicate node id or an etcd that does not answer.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClusterNode, joinCluster } from '../../src/cluster/cluster-node.ts';
import { controllerFence } from '../../src/cluster/controller-election.ts';
import { clusterKeys } from '../../src/cluster/etcd-keys.ts';
import { EtcdUnavailableError, NodeIdTakenError } from '../../src/cluster/membership.ts';
import { silentLogger } from '../../src/shared/logger.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd.ts';
import { waitFor } from './support.ts';

let etcd: EtcdHandle;
let client: Etcd3;
const nodes: ClusterNode[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.url });
});

afterAll(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  client?.close();
  await etcd?.stop();
});

/** Events of all nodes of a test, in order: `elected 2@1` (node 2, epoch 1), `resigned 2`. */
type Events = string[];

async function join(cluster: string, nodeId: number, events: Events): Promise<ClusterNode> {
  const node = await joinCluster({
    config: { nodeId, cluster, etcdEndpoints: [etcd.url], etcdLeaseTtlSeconds: 2 },
    registration: {
      nodeId,
      host: '127.0.0.1',
      httpPort: 8000 + nodeId,
      kafkaPort: 9000 + nodeId,
      rack: `r${nodeId % 2}`,
      startedAt: new Date().toISOString(),
    },
    logger: silentLogger,
    hooks: {
      onElected: (epoch) => events.push(`elected ${nodeId}@${epoch}`),
      onResigned: () => events.push(`resigned ${nodeId}`),
    },
  });
  nodes.push(node);
  return node;
}

/** The node ids whose latest event says they are controller. */
function controllers(events: Events): number[] {
  const state = new Map<number, boolean>();
  for (const event of events) {
    const [what, who] = event.split(' ');
    state.set(Number.parseInt(who!, 10), what === 'elected');
  }
  return [...state].filter(([, is]) => is).map(([id]) => id);
}

async function stop(node: ClusterNode): Promise<void> {
  await node.stop();
  nodes.splice(nodes.indexOf(node), 1);
}

describe('controller election', () => {
  it('elects exactly one of several brokers joining at once, again and again', async () => {
    for (let round = 0; round < 5; round++) {
      const events: Events = [];
      const cluster = `race-${round}`;
      const joined = await Promise.all([1, 2, 3].map((id) => join(cluster, id, events)));
      await waitFor('an election', 5_000, async () => (events.length > 0 ? true : undefined));
      // Give a second, wrong, election time to happen.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatch(/^elected [123]@1$/);
      const winner = Number(events[0]!.split(' ')[1]!.split('@')[0]);
      expect(joined.map((n) => n.election.controllerEpoch)).toEqual(
        [1, 2, 3].map((id) => (id === winner ? 1 : null)),
      );
      const status = await joined[0]!.status();
      expect(status).toMatchObject({ mode: 'etcd', cluster, controller: { nodeId: winner, epoch: 1 } });
      expect(status.brokers.map((b) => b.rack)).toEqual(['r1', 'r0', 'r1']);
      await Promise.all(joined.map(stop));
    }
  });

  it('raises the epoch at every election, resigns before the next is elected, and fences the deposed', async () => {
    const events: Events = [];
    const cluster = 'epochs';
    const keys = clusterKeys(cluster);
    let current = await join(cluster, 10, events);
    await waitFor('the first election', 5_000, async () => current.election.controllerEpoch ?? undefined);
    let epoch = 1;
    for (let id = 11; id <= 14; id++) {
      const next = await join(cluster, id, events);
      // The newcomer does not take over a live controller.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(next.election.controllerEpoch).toBeNull();
      expect(current.election.fence()).not.toBeNull();
      // The deposed controller's fence, rebuilt on the test's client (the node's closes with it).
      const held = (await client.get(keys.controller).exec()).kvs[0]!;
      const fence = () => controllerFence(client, keys, held.lease, epoch);
      expect((await fence().commit()).succeeded).toBe(true);
      await stop(current);
      const { value: newEpoch } = await waitFor(
        'the next election',
        5_000,
        async () => next.election.controllerEpoch ?? undefined,
      );
      expect(newEpoch).toBe(epoch + 1);
      epoch = newEpoch;
      // The deposed controller's fenced write fails in etcd, whatever it believes.
      const stale = await fence()
        .then(client.put(keys.topic('t')).value(`from ${id - 1}`))
        .commit();
      expect(stale.succeeded).toBe(false);
      const fresh = await next.election
        .fence()!
        .then(client.put(keys.topic('t')).value(`from ${id}`))
        .commit();
      expect(fresh.succeeded).toBe(true);
      current = next;
    }
    expect(await client.get(keys.topic('t')).string()).toBe('from 14');
    expect(await client.get(keys.controllerEpoch).string()).toBe('5');
    // Every resignation came before the following election.
    expect(events).toEqual([
      'elected 10@1',
      'resigned 10',
      'elected 11@2',
      'resigned 11',
      'elected 12@3',
      'resigned 12',
      'elected 13@4',
      'resigned 13',
      'elected 14@5',
    ]);
    expect(controllers(events)).toEqual([14]);
  });

  it('fences by lease too: the same epoch under another lease does not pass', async () => {
    const keys = clusterKeys('fence');
    const node = await join('fence', 1, []);
    const epoch = await waitFor(
      'the election',
      5_000,
      async () => node.election.controllerEpoch ?? undefined,
    );
    const lease = client.lease(5);
    const leaseId = await lease.grant();
    const forged = await controllerFence(client, keys, leaseId, epoch.value)
      .then(client.put(keys.topic('x')).value('forged'))
      .commit();
    expect(forged.succeeded).toBe(false);
    await lease.revoke();
    await stop(node);
  });

  it('refuses a node id held by a live broker', async () => {
    const events: Events = [];
    await join('dup', 7, events);
    const started = Date.now();
    await expect(join('dup', 7, events)).rejects.toBeInstanceOf(NodeIdTakenError);
    // A live holder renews (every TTL/3), which the newcomer sees within a few seconds.
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('gives up at start-up on an etcd that does not answer, saying why', async () => {
    const closed = new URL(etcd.url);
    closed.port = '1';
    const joining = joinCluster({
      config: { nodeId: 1, cluster: 'nowhere', etcdEndpoints: [closed.origin], etcdLeaseTtlSeconds: 2 },
      registration: { nodeId: 1, host: 'h', httpPort: 1, kafkaPort: null, rack: null, startedAt: '' },
      logger: silentLogger,
      startTimeoutMs: 1_000,
    });
    await expect(joining).rejects.toBeInstanceOf(EtcdUnavailableError);
    await expect(joining).rejects.toThrow(
      /^cannot register in etcd at http:\/\/127\.0\.0\.1:1 \(--etcd\) within 1 s: .*ECONNREFUSED/,
    );
  });
});
