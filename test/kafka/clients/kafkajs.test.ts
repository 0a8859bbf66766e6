/**
 * @module
 * kafkajs 2.2 (npm), unmodified, against a real broker's Kafka door: admin create/delete topics; a 3-member
 * group over 6 partitions that receives every message exactly once while no member fails, then resumes from
 * its committed offsets after a broker restart on the same data dir (all under Node, in this process); and a
 * smoke run of producer, group consumer and admin under Bun (`kafkajs-member.ts` as a child process).
 */
import { fileURLToPath } from 'node:url';
import { type Consumer, Kafka, type Admin as KafkaAdmin, logLevel, Partitioners } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin } from '../../../src/client/index.ts';
import type { BrokerHandle } from '../../support/broker.ts';
import {
  BUN,
  cleanup,
  DEBUG,
  duplicates,
  expectSuccess,
  javaPartition,
  runToExit,
  startKafkaBroker,
  stopBroker,
  tempDir,
  uniqueName,
  waitFor,
} from './support.ts';

const MEMBER_SCRIPT = fileURLToPath(new URL('./kafkajs-member.ts', import.meta.url));
const GROUP_PARTITIONS = 6;
const MEMBERS = 3;

/** Every kafkajs client a test makes, disconnected in afterEach even when the test failed. */
const disconnects: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(disconnects.splice(0).map((d) => d().catch(() => {})));
  await cleanup();
});

function kafkaFor(broker: BrokerHandle, clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [broker.kafkaAddress],
    logLevel: DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 100 },
  });
}

async function connectedAdmin(kafka: Kafka): Promise<KafkaAdmin> {
  const admin = kafka.admin();
  await admin.connect();
  disconnects.push(() => admin.disconnect());
  return admin;
}

/** Produces keyed string messages with Java's partitioner, acks -1, in batches of 500. */
async function produce(kafka: Kafka, topic: string, keys: readonly string[]): Promise<void> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let at = 0; at < keys.length; at += 500) {
      const answers = await producer.send({
        topic,
        acks: -1,
        messages: keys.slice(at, at + 500).map((key) => ({ key, value: `value of ${key}` })),
      });
      for (const a of answers) expect(a.errorCode, `partition ${a.partition}`).toBe(0);
    }
  } finally {
    await producer.disconnect();
  }
}

interface Received {
  member: number;
  key: string;
  value: string;
  partition: number;
  offset: number;
}

interface Member {
  consumer: Consumer;
  /** The partitions of its latest GROUP_JOIN. */
  assignment: number[];
  joins: number;
}

/** Starts MEMBERS consumers of one group on `topic`, each recording what it receives into `received`. */
async function startGroup(
  kafka: Kafka,
  groupId: string,
  topic: string,
  received: Received[],
): Promise<Member[]> {
  const members: Member[] = [];
  for (let m = 0; m < MEMBERS; m++) {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 10_000,
      rebalanceTimeout: 10_000,
      heartbeatInterval: 300,
      // kafkajs heartbeats between fetches: a short long-poll lets members see a rebalance quickly.
      maxWaitTimeInMs: 500,
    });
    const member: Member = { consumer, assignment: [], joins: 0 };
    members.push(member);
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      member.joins++;
      member.assignment = [...(event.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    });
    await consumer.connect();
    disconnects.push(() => consumer.disconnect());
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommitInterval: 100,
      eachMessage: async ({ partition, message }) => {
        received.push({
          member: m,
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          partition,
          offset: Number(message.offset),
        });
      },
    });
  }
  return members;
}

/** Waits until the group is Stable with every member holding its share: disjoint, covering, balanced. */
async function waitStable(
  broker: BrokerHandle,
  groupId: string,
  members: readonly Member[],
): Promise<number> {
  const admin = new Admin({ url: broker.url });
  return waitFor(
    `group ${groupId} stable with ${MEMBERS} members sharing ${GROUP_PARTITIONS} partitions`,
    async () => {
      const all = members.flatMap((m) => m.assignment).sort((a, b) => a - b);
      const covered = all.length === GROUP_PARTITIONS && all.every((p, i) => p === i);
      const balanced = members.every((m) => m.assignment.length === GROUP_PARTITIONS / MEMBERS);
      if (!covered || !balanced) return false;
      const described = await admin.describeGroup(groupId);
      return described.state === 'Stable' && described.members.length === MEMBERS && described.generationId;
    },
    40_000,
    200,
  );
}

describe('kafkajs', () => {
  it('admin creates topics (false when one exists), lists, describes and deletes them', async () => {
    const broker = await startKafkaBroker();
    const admin = await connectedAdmin(kafkaFor(broker, 'kjs-admin'));
    const kept = uniqueName('kjs-kept');
    const dropped = uniqueName('kjs-dropped');
    expect(
      await admin.createTopics({
        topics: [
          { topic: kept, numPartitions: GROUP_PARTITIONS },
          { topic: dropped, numPartitions: 2 },
        ],
        waitForLeaders: true,
      }),
    ).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: kept, numPartitions: 1 }] })).toBe(false);
    expect(await admin.listTopics()).toEqual(expect.arrayContaining([kept, dropped]));
    const metadata = await admin.fetchTopicMetadata({ topics: [kept] });
    expect(metadata.topics[0]!.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    await admin.deleteTopics({ topics: [dropped] });
    const after = await admin.listTopics();
    expect(after).toContain(kept);
    expect(after).not.toContain(dropped);
    const names = (await new Admin({ url: broker.url }).listTopics()).map((t) => t.name);
    expect(names).toContain(kept);
    expect(names).not.toContain(dropped);
  });

  it('a 3-member group over 6 partitions gets every message exactly once, and resumes after a broker restart', async () => {
    const dataDir = tempDir('kjs-data');
    let broker = await startKafkaBroker({ dataDir });
    const topic = uniqueName('kjs-group');
    const groupId = uniqueName('kjs-g');
    let kafka = kafkaFor(broker, 'kjs-group');
    const admin = await connectedAdmin(kafka);
    await admin.createTopics({ topics: [{ topic, numPartitions: GROUP_PARTITIONS }], waitForLeaders: true });

    const received: Received[] = [];
    const members = await startGroup(kafka, groupId, topic, received);
    const generation = await waitStable(broker, groupId, members);
    const joins = members.map((m) => m.joins);

    const firstKeys = Array.from({ length: 3000 }, (_, i) => `first-${i}`);
    await produce(kafka, topic, firstKeys);
    await waitFor(`${firstKeys.length} messages`, () => received.length >= firstKeys.length, 30_000);
    // Give a duplicate the chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(received).toHaveLength(firstKeys.length);
    expect(duplicates(received.map((r) => r.key))).toEqual([]);
    expect(new Set(received.map((r) => r.key))).toEqual(new Set(firstKeys));
    for (const r of received) {
      expect(r.value).toBe(`value of ${r.key}`);
      expect(r.partition, r.key).toBe(javaPartition(r.key, GROUP_PARTITIONS));
      expect(members[r.member]!.assignment, `member ${r.member} owns ${r.partition}`).toContain(r.partition);
    }
    // No rebalance happened meanwhile.
    expect(members.map((m) => m.joins)).toEqual(joins);
    expect((await new Admin({ url: broker.url }).describeGroup(groupId)).generationId).toBe(generation);

    // Every partition's end committed (auto-commit), then the members leave.
    const described = await new Admin({ url: broker.url }).describeTopic(topic);
    const ends = described.partitions.map((p) => ({ partition: p.partition, offset: p.highWatermark }));
    const committed = async () =>
      (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions
        .map((p) => ({ partition: p.partition, offset: Number(p.offset) }))
        .sort((a, b) => a.partition - b.partition);
    await waitFor('the group to commit every partition', async () =>
      JSON.stringify(await committed()) === JSON.stringify(ends) ? true : undefined,
    );
    await Promise.all(disconnects.splice(0).map((d) => d()));

    // Restart on the same data dir: the Kafka door comes back (on a new port here).
    await stopBroker(broker);
    broker = await startKafkaBroker({ dataDir });
    kafka = kafkaFor(broker, 'kjs-group-after');
    const admin2 = await connectedAdmin(kafka);
    expect(
      (await admin2.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions
        .map((p) => ({ partition: p.partition, offset: Number(p.offset) }))
        .sort((a, b) => a.partition - b.partition),
    ).toEqual(ends);

    const secondKeys = Array.from({ length: 600 }, (_, i) => `second-${i}`);
    await produce(kafka, topic, secondKeys);
    const again: Received[] = [];
    const members2 = await startGroup(kafka, groupId, topic, again);
    await waitStable(broker, groupId, members2);
    await waitFor(
      `${secondKeys.length} messages after the restart`,
      () => again.length >= secondKeys.length,
      30_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Only what came after the commits: nothing of the first round again.
    expect(again.filter((r) => !r.key.startsWith('second-')).map((r) => r.key)).toEqual([]);
    expect(duplicates(again.map((r) => r.key))).toEqual([]);
    expect(new Set(again.map((r) => r.key))).toEqual(new Set(secondKeys));
  }, 110_000);

  it('runs under Bun: produce, a group consumer from the beginning, commit, admin (kafkajs-member.ts)', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('kjs-bun');
    const groupId = uniqueName('kjs-bun-g');
    const count = 300;
    const run = await runToExit(BUN, [MEMBER_SCRIPT, broker.kafkaAddress, topic, groupId, String(count)], {
      timeoutMs: 70_000,
    });
    expectSuccess('bun kafkajs-member.ts', run, broker);
    const answer = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      runtime: string;
      created: boolean;
      produced: Array<{ partition: number; baseOffset: number; errorCode: number }>;
      received: Array<{ key: string; value: string; partition: number; offset: number }>;
      committed: Array<{ partition: number; offset: number }>;
    };
    expect(answer.runtime).toBe('bun');
    expect(answer.created).toBe(true);
    expect(answer.produced.every((p) => p.errorCode === 0 && p.baseOffset === 0)).toBe(true);
    expect(answer.received).toHaveLength(count);
    expect(duplicates(answer.received.map((r) => r.key))).toEqual([]);
    for (const r of answer.received) {
      expect(r.partition, r.key).toBe(javaPartition(r.key, 3));
      expect(JSON.parse(r.value)).toEqual({ i: Number(r.key.slice(4)), runtime: 'bun' });
    }
    const ends = (await new Admin({ url: broker.url }).describeTopic(topic)).partitions.map((p) => ({
      partition: p.partition,
      offset: p.highWatermark,
    }));
    expect([...answer.committed].sort((a, b) => a.partition - b.partition)).toEqual(ends);
  });
});
