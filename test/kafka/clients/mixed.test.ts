/**
 * @module
 * Both doors on the same data: records produced with kcat read back by Freshet's HTTP client and the other way
 * round (keys, values, headers, partitions and offsets identical), and a group's offsets committed through the
 * Kafka protocol (kcat -G, kafkajs) seen by `freshet groups describe --json` and the client's Admin, and offsets
 * committed over HTTP seen by kafkajs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerRecord,
  type GroupDescription,
  Producer,
  type RecordMetadata,
  utf8,
} from '../../../src/client/index.ts';
import type { BrokerHandle } from '../../support/broker.ts';
import {
  BUN,
  cleanup,
  DEBUG,
  duplicates,
  expectSuccess,
  javaPartition,
  KCAT_FORMAT,
  kcat,
  parseKcatRecords,
  runToExit,
  startKafkaBroker,
  tempDir,
  uniqueName,
} from './support.ts';

const PARTITIONS = 3;
const COUNT = 500;

// No beforeAll check: every kcat() call looks for kcat, so each test fails (none is skipped) without it.
afterEach(cleanup);

/** Every record of `topic` from offset 0 through the HTTP client's Consumer (bounded). */
async function readAllOverHttp(
  broker: BrokerHandle,
  topic: string,
  count: number,
): Promise<ConsumerRecord[]> {
  const consumer = new Consumer({ url: broker.url, autoOffsetReset: 'earliest', fetchMaxWaitMs: 200 });
  const records: ConsumerRecord[] = [];
  try {
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })));
    const deadline = Date.now() + 20_000;
    while (records.length < count && Date.now() < deadline)
      records.push(...(await consumer.poll({ maxWaitMs: 200 })));
  } finally {
    await consumer.close();
  }
  return records;
}

/** Runs `freshet groups describe <group> --json` (src/cli/main.ts under Bun) against the broker's HTTP door. */
async function describeWithCli(broker: BrokerHandle, group: string): Promise<GroupDescription> {
  const run = await runToExit(
    BUN,
    ['src/cli/main.ts', 'groups', 'describe', group, '--json', '--url', broker.url],
    {
      timeoutMs: 30_000,
    },
  );
  expectSuccess('freshet groups describe --json', run, broker);
  return JSON.parse(run.stdout) as GroupDescription;
}

describe('kcat and the HTTP client on the same topics', () => {
  it('kcat produces, the Freshet Consumer reads identical keys, values, headers, partitions', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('mix-kcat-http');
    await new Admin({ url: broker.url }).createTopic(topic, { partitions: PARTITIONS });
    const file = path.join(tempDir('mix'), 'in.txt');
    const sent = Array.from(
      { length: COUNT },
      (_, i) => [`k${i}`, `{"i":${i},"text":"héllo wörld ${i}"}`] as const,
    );
    writeFileSync(file, `${sent.map(([k, v]) => `${k}|${v}`).join('\n')}\n`);
    const produced = await kcat(broker, [
      '-P',
      '-t',
      topic,
      '-K',
      '|',
      '-H',
      'source=kcat',
      '-z',
      'lz4',
      '-X',
      'partitioner=murmur2_random',
      '-l',
      file,
    ]);
    expectSuccess('kcat -P', produced, broker);

    const records = await readAllOverHttp(broker, topic, COUNT);
    expect(records).toHaveLength(COUNT);
    expect(duplicates(records.map((r) => `${r.partition}/${r.offset}`))).toEqual([]);
    const expected = new Map<string, string>(sent);
    for (const r of records) {
      const key = utf8(r.key) ?? '(null key)';
      expect(utf8(r.value), key).toBe(expected.get(key));
      expect(r.partition, key).toBe(javaPartition(key, PARTITIONS));
      expect(r.headers.map((h) => [h.key, utf8(h.value)])).toEqual([['source', 'kcat']]);
    }
    expect(new Set(records.map((r) => utf8(r.key)))).toEqual(new Set(expected.keys()));
  });

  it('the Freshet Producer produces, kcat reads identical keys, values, headers, partitions and offsets', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('mix-http-kcat');
    await new Admin({ url: broker.url }).createTopic(topic, { partitions: PARTITIONS });
    const producer = new Producer({ url: broker.url, lingerMs: 2 });
    const sent = Array.from({ length: COUNT }, (_, i) => ({
      key: `p${i}`,
      value: `value ${i} ✓ ${'x'.repeat(i % 50)}`,
    }));
    let metadata: RecordMetadata[];
    try {
      metadata = await Promise.all(
        sent.map(({ key, value }) => producer.send(topic, { key, value, headers: { source: 'freshet' } })),
      );
      await producer.flush();
    } finally {
      await producer.close();
    }

    const run = await kcat(broker, [
      '-C',
      '-t',
      topic,
      '-e',
      '-o',
      'beginning',
      '-X',
      'check.crcs=true',
      '-f',
      KCAT_FORMAT.replace('%s', '%h\\t%s'),
    ]);
    expectSuccess('kcat -C', run, broker);
    const read = parseKcatRecords(run.stdout).map((r) => {
      const tab = r.value.indexOf('\t');
      return { ...r, headers: r.value.slice(0, tab), value: r.value.slice(tab + 1) };
    });
    expect(read).toHaveLength(COUNT);
    const byKey = new Map(read.map((r) => [r.key, r]));
    sent.forEach(({ key, value }, i) => {
      const got = byKey.get(key);
      expect(got, key).toBeDefined();
      expect(got!.value, key).toBe(value);
      expect(got!.headers, key).toBe('source=freshet');
      expect(got!.partition, key).toBe(metadata[i]!.partition);
      expect(got!.offset, key).toBe(metadata[i]!.offset);
      expect(got!.partition, key).toBe(javaPartition(key, PARTITIONS));
    });
  });
});

describe('group offsets through both doors', () => {
  it('offsets a kcat -G group commits are what `freshet groups describe --json` shows', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('mix-group');
    const group = uniqueName('mix-kcat-g');
    await new Admin({ url: broker.url }).createTopic(topic, { partitions: PARTITIONS });
    const producer = new Producer({ url: broker.url });
    try {
      await Promise.all(
        Array.from({ length: 300 }, (_, i) => producer.send(topic, { key: `g${i}`, value: `v${i}` })),
      );
    } finally {
      await producer.close();
    }
    const run = await kcat(
      broker,
      [
        '-G',
        group,
        '-e',
        '-X',
        'auto.offset.reset=earliest',
        '-X',
        'auto.commit.interval.ms=100',
        '-f',
        KCAT_FORMAT,
        topic,
      ],
      { timeoutMs: 60_000 },
    );
    expectSuccess('kcat -G', run, broker);
    expect(parseKcatRecords(run.stdout)).toHaveLength(300);

    const ends = (await new Admin({ url: broker.url }).describeTopic(topic)).partitions.map((p) => [
      p.partition,
      p.highWatermark,
    ]);
    const described = await describeWithCli(broker, group);
    expect(described.groupId).toBe(group);
    expect(described.protocolType).toBe('consumer');
    // kcat left the group when it closed.
    expect(described.state).toBe('Empty');
    expect(
      described.partitions
        .filter((p) => p.topic === topic)
        .map((p) => [p.partition, p.committedOffset])
        .sort(),
    ).toEqual(ends.sort());
    for (const p of described.partitions) expect(p.lag).toBe(0);
  });

  it('kafkajs commits are seen by the HTTP Admin, and HTTP commits by kafkajs', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('mix-kjs');
    const group = uniqueName('mix-kjs-g');
    const admin = new Admin({ url: broker.url });
    await admin.createTopic(topic, { partitions: PARTITIONS });
    const producer = new Producer({ url: broker.url });
    try {
      await Promise.all(
        Array.from({ length: 90 }, (_, i) =>
          producer.send(topic, { value: `v${i}`, partition: i % PARTITIONS }),
        ),
      );
    } finally {
      await producer.close();
    }
    const kafka = new Kafka({
      clientId: 'mix-kjs',
      brokers: [broker.kafkaAddress],
      logLevel: DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
    });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    try {
      // setOffsets joins the (empty) group with a throwaway member, seeks, and commits through OffsetCommit.
      await kafkaAdmin.setOffsets({
        groupId: group,
        topic,
        partitions: [
          { partition: 0, offset: '7' },
          { partition: 1, offset: '11' },
          { partition: 2, offset: '30' },
        ],
      });
      const described = await admin.describeGroup(group);
      expect(described.partitions.map((p) => [p.partition, p.committedOffset, p.lag]).sort()).toEqual([
        [0, 7, 23],
        [1, 11, 19],
        [2, 30, 0],
      ]);
      expect(
        (await describeWithCli(broker, group)).partitions.map((p) => p.committedOffset).sort((a, b) => a - b),
      ).toEqual([7, 11, 30]);

      // And back: an HTTP commit, fetched with OffsetFetch.
      await admin.commitOffsets(group, [
        { topic, partition: 0, offset: 3 },
        { topic, partition: 2, offset: 12 },
      ]);
      const fetched = await kafkaAdmin.fetchOffsets({ groupId: group, topics: [topic] });
      expect(
        fetched[0]!.partitions.map((p) => [p.partition, Number(p.offset)]).sort((a, b) => a[0]! - b[0]!),
      ).toEqual([
        [0, 3],
        [1, 11],
        [2, 12],
      ]);
    } finally {
      await kafkaAdmin.disconnect();
    }
  });
});
