/**
 * @module
 * Group coordinator failover with real processes (a real etcd, three brokers, kafkajs): the group is
 * coordinated by the leader of `__consumer_offsets` partition 0, its commits are replicated with acks=all;
 * when that broker is killed with SIGKILL, an in-sync replica takes the partition over, FindCoordinator
 * names it, the committed offsets are all there, and the group resumes where it committed. The HTTP API
 * of any broker answers for the group (calls are forwarded to the coordinator).
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerHandle } from '../support/broker.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd.ts';
import { clusterOf, startClusterBroker, waitFor } from './support.ts';

const CLUSTER = 'groups-failover';
let etcd: EtcdHandle;
const brokers = new Map<number, BrokerHandle>();

beforeAll(async () => {
  etcd = await startEtcd();
  await Promise.all(
    [1, 2, 3].map(async (id) => {
      const broker = await startClusterBroker(id, etcd.url, CLUSTER, [
        '--replica-lag-time-max-ms',
        '1500',
        '--group-initial-rebalance-delay-ms',
        '0',
      ]);
      brokers.set(id, broker);
    }),
  );
  await waitFor('3 brokers registered', 15_000, async () =>
    (await clusterOf(brokers.get(1)!)).brokers.length === 3 ? true : undefined,
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([...brokers.values()].map((b) => b.stop()));
  await etcd?.stop();
});

function anyLive(): BrokerHandle {
  return [...brokers.values()][0]!;
}

async function offsetsLeader(): Promise<{ leader: number; isr: number[] } | undefined> {
  const status = await clusterOf(anyLive());
  const p = (
    status.partitions as Array<{ topic: string; partition: number; leader: number; isr: number[] }>
  ).find((x) => x.topic === '__consumer_offsets' && x.partition === 0);
  return p && p.leader >= 0 ? { leader: p.leader, isr: p.isr } : undefined;
}

function kafkaVia(broker: BrokerHandle): Kafka {
  return new Kafka({
    clientId: 'groups-failover',
    brokers: [broker.kafkaAddress],
    logLevel: logLevel.NOTHING,
    retry: { retries: 12, initialRetryTime: 200 },
  });
}

async function consume(kafka: Kafka, topic: string, group: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ message }) => {
      seen.push(message.value!.toString());
    },
  });
  await waitFor(`${count} records consumed by ${group}`, 45_000, async () =>
    seen.length >= count ? true : undefined,
  );
  // Let the last commits land, then leave the group.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  await consumer.disconnect();
  return seen;
}

describe('group coordinator failover', () => {
  it('keeps committed offsets and resumes the group after the coordinator is killed', async () => {
    const topic = 'orders';
    const first = kafkaVia(anyLive());
    const admin = first.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: 3,
          replicationFactor: 3,
          configEntries: [{ name: 'min.insync.replicas', value: '2' }],
        },
      ],
    });
    const producer = first.producer();
    await producer.connect();
    const batch1 = Array.from({ length: 90 }, (_, i) => `a${i}`);
    await producer.send({ topic, acks: -1, messages: batch1.map((value) => ({ value })) });

    expect((await consume(first, topic, 'g1', batch1.length)).sort()).toEqual([...batch1].sort());
    const committed = async (kafka: Kafka) => {
      const a = kafka.admin();
      await a.connect();
      try {
        const [entry] = await a.fetchOffsets({ groupId: 'g1', topics: [topic] });
        return entry!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      } finally {
        await a.disconnect();
      }
    };
    expect(await committed(first)).toBe(batch1.length);

    // The coordinator is the leader of __consumer_offsets-0; every other broker answers for the group too.
    const { value: coordinator } = await waitFor('__consumer_offsets in sync on 3', 15_000, async () => {
      const l = await offsetsLeader();
      return l && l.isr.length === 3 ? l : undefined;
    });
    // The coordinator's /metrics shows the group, its lag counted against the high watermark.
    const metrics = await (await fetch(`${brokers.get(coordinator.leader)!.url}/metrics`)).text();
    expect(metrics).toMatch(/freshet_group_members\{group="g1"\} 0/);
    expect(metrics).toMatch(/freshet_group_lag_sum\{group="g1"\} 0/);
    const other = [...brokers].find(([id]) => id !== coordinator.leader)![1];
    const viaHttp = await fetch(`${other.url}/v1/groups/g1`, { headers: { accept: 'application/json' } });
    const described = (await viaHttp.json()) as { partitions: Array<{ committedOffset: number }> };
    expect(viaHttp.status).toBe(200);
    expect(described.partitions.reduce((s, p) => s + p.committedOffset, 0)).toBe(batch1.length);

    // Lag is counted against each partition's leader, also where the answering broker holds no replica:
    // one partition per broker, replication factor 1.
    // Its own client, and the topic deleted afterwards: a broker killed below would leave one partition
    // without any replica, which the clients of the rest of this test need not hear of.
    const spreadClient = kafkaVia(anyLive());
    const spreadAdmin = spreadClient.admin();
    await spreadAdmin.connect();
    await spreadAdmin.createTopics({ topics: [{ topic: 'spread', numPartitions: 3, replicationFactor: 1 }] });
    const spreadProducer = spreadClient.producer();
    await spreadProducer.connect();
    await spreadProducer.send({
      topic: 'spread',
      acks: -1,
      messages: Array.from({ length: 30 }, (_, i) => ({ value: `s${i}`, partition: i % 3 })),
    });
    expect(await consume(spreadClient, 'spread', 'g2', 30)).toHaveLength(30);
    for (const [id, broker] of brokers) {
      const res = await fetch(`${broker.url}/v1/groups/g2`, { headers: { accept: 'application/json' } });
      const g2 = (await res.json()) as {
        partitions: Array<{ partition: number; committedOffset: number; logEndOffset: number; lag: number }>;
      };
      expect(res.status).toBe(200);
      expect(
        g2.partitions.map((p) => [p.partition, p.committedOffset, p.logEndOffset, p.lag]),
        `described by broker ${id}`,
      ).toEqual([
        [0, 10, 10, 0],
        [1, 10, 10, 0],
        [2, 10, 10, 0],
      ]);
    }
    await spreadProducer.disconnect();
    await spreadAdmin.deleteTopics({ topics: ['spread'] });
    await spreadAdmin.disconnect();
    await producer.disconnect();
    await admin.disconnect();

    await brokers.get(coordinator.leader)!.kill9();
    brokers.delete(coordinator.leader);
    const { value: next, ms } = await waitFor('a new group coordinator', 20_000, async () => {
      const l = await offsetsLeader();
      return l && l.leader !== coordinator.leader ? l : undefined;
    });
    console.log(`group coordinator moved from ${coordinator.leader} to ${next.leader} in ${ms} ms`);

    const survivor = kafkaVia(anyLive());
    expect(await committed(survivor)).toBe(batch1.length);
    const producer2 = survivor.producer();
    await producer2.connect();
    const batch2 = Array.from({ length: 30 }, (_, i) => `b${i}`);
    await producer2.send({ topic, acks: -1, messages: batch2.map((value) => ({ value })) });
    await producer2.disconnect();
    // The group resumes from its commits: the new records only.
    const resumed = await consume(survivor, topic, 'g1', batch2.length);
    expect(resumed.sort()).toEqual([...batch2].sort());
  }, 150_000);
});
