/**
 * @module
 * Preferred leaders with real processes (a real etcd, two brokers): a partition whose preferred leader (its
 * first replica) was killed is led by the other replica; once the preferred one is back and in sync, the
 * controller hands leadership back to it at its next imbalance check (--leader-imbalance-check-interval-ms),
 * in a new epoch, and the records written meanwhile are all there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerHandle } from '../support/broker.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd.ts';
import { clusterOf, startClusterBroker, waitFor } from './support.ts';

let etcd: EtcdHandle;
const brokers = new Map<number, BrokerHandle>();
const dirs = new Map<number, string>();

async function start(id: number): Promise<void> {
  const broker = await startClusterBroker(
    id,
    etcd.url,
    'preferred',
    ['--replica-lag-time-max-ms', '1500', '--leader-imbalance-check-interval-ms', '1000'],
    dirs.get(id),
  );
  dirs.set(id, broker.dataDir);
  brokers.set(id, broker);
}

beforeAll(async () => {
  etcd = await startEtcd();
  await Promise.all([1, 2].map(start));
}, 60_000);

afterAll(async () => {
  await Promise.all([...brokers.values()].map((b) => b.stop()));
  await etcd?.stop();
});

interface State {
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

async function state(): Promise<State | undefined> {
  const via = [...brokers.values()][0]!;
  const status = await clusterOf(via);
  return (status.partitions as unknown as Array<State & { topic: string }>).find((p) => p.topic === 'pref');
}

async function produce(value: string): Promise<void> {
  const s = (await state())!;
  const res = await fetch(`${brokers.get(s.leader)!.url}/v1/topics/pref/records?acks=all`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ records: [{ value, partition: 0 }] }),
  });
  expect(res.status, await res.text()).toBe(200);
}

describe('preferred leader', () => {
  it('goes back to the first replica once it has caught up', async () => {
    const res = await fetch(`${brokers.get(1)!.url}/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pref', partitions: 1, replicationFactor: 2 }),
    });
    expect(res.status, await res.text()).toBe(201);
    const { value: first } = await waitFor('both in sync', 15_000, async () => {
      const s = await state();
      return s && s.isr.length === 2 ? s : undefined;
    });
    const preferred = first.replicas[0]!;
    expect(first.leader).toBe(preferred);
    await produce('before');
    await brokers.get(preferred)!.kill9();
    brokers.delete(preferred);
    const { value: failedOver } = await waitFor('the other replica leading', 15_000, async () => {
      const s = await state();
      return s && s.leader >= 0 && s.leader !== preferred ? s : undefined;
    });
    await produce('during');
    await start(preferred);
    const { value: back } = await waitFor('leadership back on the preferred replica', 20_000, async () => {
      const s = await state();
      return s && s.leader === preferred && s.isr.length === 2 ? s : undefined;
    });
    expect(back.leaderEpoch).toBeGreaterThan(failedOver.leaderEpoch);
    await produce('after');
    const read = await fetch(`${brokers.get(preferred)!.url}/v1/topics/pref/partitions/0/records?offset=0`, {
      headers: { accept: 'application/json' },
    });
    const body = (await read.json()) as { records: Array<{ value: string }> };
    expect(body.records.map((r) => r.value)).toEqual(['before', 'during', 'after']);
  }, 90_000);
});
