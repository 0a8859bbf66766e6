/**
 * @module
 * @platformatic/kafka 1.x (npm), unmodified, against a real broker's Kafka door. It sends only flexible
 * versions (ApiVersions 3, Metadata 9+, Fetch 12+, ...) and picks the highest one it implements inside the
 * advertised range; its consumer takes each topic's id from Metadata v12 and fetches by that id (Fetch 16).
 * Covered: admin create (TOPIC_ALREADY_EXISTS for an existing one), list, metadata and delete; a producer
 * sending keyed messages, uncompressed and with gzip, snappy and lz4, placed by Java's partitioner (plt's
 * `compatibilityPartitioner`); a 2-member group that receives every message exactly once and commits; then a
 * new member of the same group that resumes after the committed offsets.
 */
import {
  type CompressionAlgorithmValue,
  Consumer,
  compatibilityPartitioner,
  type MessagesStream,
  Admin as PltAdmin,
  Producer,
  stringDeserializers,
  stringSerializers,
} from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin } from '../../../src/client/index.ts';
import type { BrokerHandle } from '../../support/broker.ts';
import { cleanup, duplicates, javaPartition, startKafkaBroker, uniqueName, waitFor } from './support.ts';

const PARTITIONS = 4;

/**
 * Every plt client and stream a test makes, closed in afterEach even when the test failed. In order: streams
 * (put first) before their consumers, as plt refuses to leave a group while a stream still consumes.
 */
const closers: Array<() => Promise<unknown>> = [];

async function closeAll(): Promise<void> {
  for (const close of closers.splice(0)) await close();
}

afterEach(async () => {
  streamErrors.length = 0;
  for (const close of closers.splice(0)) await close().catch(() => {});
  await cleanup();
});

function admin(broker: BrokerHandle): PltAdmin {
  const client = new PltAdmin({ clientId: 'plt-admin', bootstrapBrokers: [broker.kafkaAddress] });
  closers.push(() => client.close());
  return client;
}

function producer(broker: BrokerHandle): Producer<string, string, string, string> {
  const client = new Producer({
    clientId: 'plt-producer',
    bootstrapBrokers: [broker.kafkaAddress],
    serializers: stringSerializers,
    partitioner: compatibilityPartitioner,
  });
  closers.push(() => client.close());
  return client;
}

function consumer(
  broker: BrokerHandle,
  groupId: string,
  clientId: string,
): Consumer<string, string, string, string> {
  const client = new Consumer({
    groupId,
    clientId,
    bootstrapBrokers: [broker.kafkaAddress],
    deserializers: stringDeserializers,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 300,
    maxWaitTime: 300,
  });
  closers.push(() => client.close());
  return client;
}

interface Received {
  member: string;
  key: string;
  value: string;
  partition: number;
  offset: number;
}

/** Errors the consumer streams emitted (plt retries a failing Fetch 3 times, then the stream errors). */
const streamErrors: Error[] = [];

/** Throws the first stream error, so a waitFor fails with what broke rather than only a timeout. */
function noStreamError(): void {
  if (streamErrors.length > 0) throw streamErrors[0];
}

/** Consumes `topic` in the group from the committed offsets (else the earliest), auto-committing. */
async function consume(
  member: Consumer<string, string, string, string>,
  topic: string,
  received: Received[],
): Promise<MessagesStream<string, string, string, string>> {
  const stream = await member.consume({
    topics: [topic],
    mode: 'committed',
    fallbackMode: 'earliest',
    autocommit: 100,
  });
  closers.unshift(() => stream.close());
  stream.on('error', (err: Error) => streamErrors.push(err));
  stream.on('data', (m) =>
    received.push({
      member: member.clientId,
      key: m.key,
      value: m.value,
      partition: m.partition,
      offset: Number(m.offset),
    }),
  );
  return stream;
}

async function endOffsets(broker: BrokerHandle, topic: string): Promise<number[]> {
  return (await new Admin({ url: broker.url }).describeTopic(topic)).partitions.map((p) => p.highWatermark);
}

describe('@platformatic/kafka', () => {
  it('admin creates a topic (an existing one is refused), lists it, reads its metadata and deletes it', async () => {
    const broker = await startKafkaBroker();
    const client = admin(broker);
    const kept = uniqueName('plt-kept');
    const dropped = uniqueName('plt-dropped');
    const created = await client.createTopics({
      topics: [kept, dropped],
      partitions: PARTITIONS,
      replicas: 1,
    });
    expect(created.map((t) => [t.name, t.partitions])).toEqual([
      [kept, PARTITIONS],
      [dropped, PARTITIONS],
    ]);
    await expect(client.createTopics({ topics: [kept], partitions: 1, replicas: 1 })).rejects.toThrow();
    expect(await client.listTopics()).toEqual(expect.arrayContaining([kept, dropped]));
    const metadata = await client.metadata({ topics: [kept] });
    expect(metadata.topics.get(kept)!.partitionsCount).toBe(PARTITIONS);
    await client.deleteTopics({ topics: [dropped] });
    const after = await client.listTopics();
    expect(after).toContain(kept);
    expect(after).not.toContain(dropped);
    const names = (await new Admin({ url: broker.url }).listTopics()).map((t) => t.name);
    expect(names).toContain(kept);
    expect(names).not.toContain(dropped);
  });

  it('produces keyed messages, plain and with gzip, snappy and lz4, where Java puts them', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('plt-produce');
    await admin(broker).createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
    const client = producer(broker);
    // zstd too would need the runtime's zlib to have it (Node 22.15+, Bun): plt throws before sending on Node 20.
    const codecs: CompressionAlgorithmValue[] = ['none', 'gzip', 'snappy', 'lz4'];
    const keys: string[] = [];
    for (const compression of codecs) {
      const batch = Array.from({ length: 50 }, (_, i) => `${compression}-${i}`);
      keys.push(...batch);
      await client.send({
        compression,
        messages: batch.map((key) => ({ topic, key, value: `value of ${key}` })),
      });
    }
    const expected = Array.from(
      { length: PARTITIONS },
      (_, p) => keys.filter((k) => javaPartition(k, PARTITIONS) === p).length,
    );
    expect(await endOffsets(broker, topic)).toEqual(expected);
  });

  it('a 2-member group gets every message exactly once, commits, and a new member resumes after the commits', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('plt-group');
    const groupId = uniqueName('plt-g');
    const client = admin(broker);
    await client.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });

    const received: Received[] = [];
    const members = [consumer(broker, groupId, 'plt-m1'), consumer(broker, groupId, 'plt-m2')];
    for (const member of members) await consume(member, topic, received);
    const assignments = await waitFor(
      `group ${groupId} stable with 2 members sharing ${PARTITIONS} partitions`,
      async () => {
        const group = (await client.describeGroups({ groups: [groupId] })).get(groupId);
        if (group?.state !== 'STABLE' || group.members.size !== 2) return false;
        const owned = new Map(
          [...group.members.values()].map((m) => [
            m.clientId,
            [...(m.assignments?.get(topic)?.partitions ?? [])],
          ]),
        );
        const all = [...owned.values()].flat().sort((a, b) => a - b);
        return all.length === PARTITIONS && all.every((p, i) => p === i) && owned;
      },
    );

    const httpAdmin = new Admin({ url: broker.url });
    const generationBefore = (await httpAdmin.describeGroup(groupId)).generationId;
    const keys = Array.from({ length: 1000 }, (_, i) => `first-${i}`);
    await producer(broker).send({ messages: keys.map((key) => ({ topic, key, value: `value of ${key}` })) });
    await waitFor(`${keys.length} messages`, () => {
      noStreamError();
      return received.length >= keys.length;
    });
    // Give a duplicate the chance to show up.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(new Set(received.map((r) => r.key))).toEqual(new Set(keys));
    for (const r of received) {
      expect(r.value).toBe(`value of ${r.key}`);
      expect(r.partition, r.key).toBe(javaPartition(r.key, PARTITIONS));
    }
    // Between rebalances each record goes only to the member that owns its partition. plt may still read
    // a partition again from its last commit (its stream goes back to the committed offset after a retried
    // fetch on a loaded machine: at-least-once, as Kafka consumers are); such a replay must repeat the log
    // as it was, record for record. Without a replay, nothing comes twice.
    const generationAfter = (await httpAdmin.describeGroup(groupId)).generationId;
    if (generationAfter === generationBefore) {
      for (const r of received) {
        expect(assignments.get(r.member), `${r.member} owns ${r.partition}`).toContain(r.partition);
      }
      expect(new Set(received.map((r) => r.member)).size).toBe(2);
      const firstSeen = new Map<string, string>();
      let replayed = 0;
      const last = new Map<string, number>();
      for (const r of received) {
        const at = `${r.partition}@${r.offset}`;
        const stream = `${r.member}/${r.partition}`;
        const before = firstSeen.get(at);
        if (before === undefined) firstSeen.set(at, r.key);
        else {
          expect(r.key, `the replay of ${at} repeats the log`).toBe(before);
          replayed++;
        }
        // Offsets only move forward, except for a jump back to an offset already delivered (a replay).
        const previous = last.get(stream);
        if (previous !== undefined && r.offset <= previous) expect(before, `${at} is a replay`).toBeDefined();
        last.set(stream, r.offset);
      }
      expect(received.length - replayed).toBe(keys.length);
      if (replayed === 0) expect(duplicates(received.map((r) => r.key))).toEqual([]);
      if (replayed > 0)
        console.warn(`plt read ${replayed} records again from its last commit (no rebalance)`);
    } else {
      console.warn(
        `plt group rebalanced while consuming (generation ${generationBefore} → ${generationAfter}); ` +
          `${received.length - keys.length} records redelivered`,
      );
    }

    // Every partition's end committed (auto-commit), seen through plt and through the HTTP door.
    const ends = await endOffsets(broker, topic);
    await waitFor('the group to commit every partition', async () => {
      const [group] = await client.listConsumerGroupOffsets({ groups: [groupId] });
      const committed = group!.topics.find((t) => t.name === topic)?.partitions ?? [];
      const byPartition = [...committed].sort((a, b) => a.partitionIndex - b.partitionIndex);
      return JSON.stringify(byPartition.map((p) => Number(p.committedOffset))) === JSON.stringify(ends);
    });
    const http = await httpAdmin.describeGroup(groupId);
    const httpCommitted = http.partitions
      .filter((p) => p.topic === topic)
      .sort((a, b) => a.partition - b.partition)
      .map((p) => p.committedOffset);
    expect(httpCommitted).toEqual(ends);
    await closeAll();

    // A new member of the group gets only what came after the commits.
    const moreKeys = Array.from({ length: 100 }, (_, i) => `second-${i}`);
    await producer(broker).send({
      messages: moreKeys.map((key) => ({ topic, key, value: `value of ${key}` })),
    });
    const again: Received[] = [];
    await consume(consumer(broker, groupId, 'plt-m3'), topic, again);
    await waitFor(`${moreKeys.length} messages after the commits`, () => {
      noStreamError();
      return again.length >= moreKeys.length;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(again.filter((r) => !r.key.startsWith('second-')).map((r) => r.key)).toEqual([]);
    expect(duplicates(again.map((r) => r.key))).toEqual([]);
    expect(new Set(again.map((r) => r.key))).toEqual(new Set(moreKeys));
  }, 60_000);
});
