/**
 * @module
 * kcat (librdkafka 2.0.2), unmodified, against a real broker's Kafka door: metadata, 10,000 keyed messages
 * per codec placed by Java's murmur2 and read back with CRC checks, offsets by timestamp, and a `-G` group
 * consumer that commits and resumes. Needs Debian's kcat: the suite fails, never skips, without it.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin, HttpClient } from '../../../src/client/index.ts';
import {
  CompressionType,
  compressionOf,
  lastOffsetOf,
  readBatchHeader,
} from '../../../src/records/batch-header.ts';
import type { BrokerHandle } from '../../support/broker.ts';
import {
  cleanup,
  duplicates,
  expectSuccess,
  javaPartition,
  KCAT_FORMAT,
  type KcatRecord,
  kcat,
  parseKcatRecords,
  sleep,
  startKafkaBroker,
  tempDir,
  uniqueName,
} from './support.ts';

const PARTITIONS = 3;
const MESSAGES = 10_000;
const CODECS = [
  ['none', CompressionType.None],
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
] as const;

// No beforeAll check: every kcat() call looks for kcat, so each test fails (none is skipped) without it.
afterEach(cleanup);

async function createTopic(broker: BrokerHandle, name: string, partitions = PARTITIONS): Promise<void> {
  await new Admin({ url: broker.url }).createTopic(name, { partitions });
}

/** Writes `key:value` lines to a file for `kcat -P -K : -l`; keys and values hold no ':' or newline. */
function messageFile(dir: string, lines: ReadonlyArray<readonly [string, string]>): string {
  const file = path.join(dir, `${uniqueName('msgs')}.txt`);
  writeFileSync(file, `${lines.map(([k, v]) => `${k}:${v}`).join('\n')}\n`);
  return file;
}

/** Produces keyed lines with kcat (Java's murmur2 partitioner); fails on any delivery error. */
async function produceKeyed(
  broker: BrokerHandle,
  topic: string,
  file: string,
  extra: readonly string[] = [],
): Promise<void> {
  const run = await kcat(broker, [
    '-P',
    '-t',
    topic,
    '-K',
    ':',
    '-X',
    'partitioner=murmur2_random',
    ...extra,
    '-l',
    file,
  ]);
  expectSuccess(`kcat -P ${extra.join(' ')}`, run, broker);
  // kcat reports failed deliveries on stderr (`% ERROR`, `% Delivery failed`, log levels 0-3), and the exit
  // code alone has missed them; debug lines (level 7) are not errors.
  expect(run.stderr, 'kcat -P stderr').not.toMatch(/^% (ERROR|Delivery failed)|^%[0-3]\|/m);
}

/** Reads the whole topic from the beginning with kcat, CRCs checked, until every partition's end. */
async function consumeAll(
  broker: BrokerHandle,
  topic: string,
  extra: readonly string[] = [],
): Promise<KcatRecord[]> {
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
    KCAT_FORMAT,
    ...extra,
  ]);
  expectSuccess('kcat -C', run, broker);
  expect(run.stderr, 'kcat -C stderr').not.toMatch(/^% ERROR|^%[0-3]\|/m);
  return parseKcatRecords(run.stdout);
}

/** Every stored batch's codec, read raw over HTTP (batches are stored as the producer sent them). */
/** Every stored batch's codec and record count, in log order per partition. */
async function storedBatches(
  broker: BrokerHandle,
  topic: string,
): Promise<Array<{ codec: CompressionType; records: number }>> {
  const http = new HttpClient({ url: broker.url });
  const described = await new Admin({ url: broker.url }).describeTopic(topic);
  const batches: Array<{ codec: CompressionType; records: number }> = [];
  for (const { partition, highWatermark } of described.partitions) {
    let offset = 0;
    for (let round = 0; offset < highWatermark && round < 10_000; round++) {
      const { body } = await http.exchange(
        'GET',
        `/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/records`,
        {
          query: { offset, maxBytes: 4 * 1024 * 1024 },
          accept: 'application/vnd.kafka.recordbatch, application/msgpack',
        },
      );
      if (body.length === 0) throw new Error(`${topic}/${partition}: no batch at ${offset}`);
      for (let pos = 0; pos < body.length; ) {
        const header = readBatchHeader(body, pos);
        batches.push({
          codec: compressionOf(header.attributes),
          records: lastOffsetOf(header) - header.baseOffset + 1,
        });
        offset = lastOffsetOf(header) + 1;
        pos += header.sizeInBytes;
      }
    }
  }
  return batches;
}

/** Asserts: each partition's offsets run 0..n-1 once each, and a single producer's order is kept in each. */
function expectDenseOffsets(records: readonly KcatRecord[], indexOf: (r: KcatRecord) => number): void {
  for (let p = 0; p < PARTITIONS; p++) {
    const inPartition = records.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset);
    expect(
      inPartition.map((r) => r.offset),
      `partition ${p} offsets`,
    ).toEqual(inPartition.map((_, i) => i));
    const order = inPartition.map(indexOf);
    expect(
      order.every((n, i) => i === 0 || n > order[i - 1]!),
      `partition ${p} keeps the send order`,
    ).toBe(true);
  }
}

describe('kcat', () => {
  it('lists metadata: one broker at the advertised address, the topic with its partitions led by it', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('kcat-meta');
    await createTopic(broker, topic);
    const run = expectSuccess('kcat -L -J', await kcat(broker, ['-L', '-J']), broker);
    const metadata = JSON.parse(run.stdout) as {
      controllerid: number;
      brokers: Array<{ id: number; name: string }>;
      topics: Array<{
        topic: string;
        error?: string;
        partitions: Array<{ partition: number; leader: number }>;
      }>;
    };
    expect(metadata.brokers).toHaveLength(1);
    const [only] = metadata.brokers;
    expect(only!.name).toBe(broker.kafkaAddress);
    expect(metadata.controllerid).toBe(only!.id);
    const listed = metadata.topics.find((t) => t.topic === topic);
    expect(listed, `${topic} in ${run.stdout}`).toBeDefined();
    expect(listed!.error).toBeUndefined();
    expect(listed!.partitions.map((p) => [p.partition, p.leader]).sort()).toEqual([
      [0, only!.id],
      [1, only!.id],
      [2, only!.id],
    ]);

    // One topic asked for by name; an unknown one is reported as such (the consumer side does not create it).
    const one = JSON.parse(
      expectSuccess('kcat -L -t', await kcat(broker, ['-L', '-J', '-t', topic])).stdout,
    ) as {
      topics: Array<{ topic: string }>;
    };
    expect(one.topics.map((t) => t.topic)).toEqual([topic]);
  });

  it.each(CODECS)(
    'produces 10,000 keyed messages with -z %s, placed by murmur2, and reads each back once with CRCs checked',
    async (codec, codecId) => {
      const broker = await startKafkaBroker();
      const dir = tempDir('kcat');
      const topic = uniqueName(`kcat-${codec}`);
      await createTopic(broker, topic);
      const expected = new Map<string, string>();
      const lines = Array.from({ length: MESSAGES }, (_, i) => {
        const key = `key-${codec}-${i}`;
        // Compressible, so librdkafka keeps the compressed form (it sends plain batches that do not shrink).
        const value = `value-${i}-${codec}-${'lorem ipsum dolor sit amet '.repeat(1 + (i % 4))}`;
        expected.set(key, value);
        return [key, value] as const;
      });
      await produceKeyed(broker, topic, messageFile(dir, lines), [
        '-z',
        codec,
        '-X',
        'linger.ms=20',
        '-X',
        'batch.num.messages=2000',
      ]);

      // The broker stored what kcat sent: batches in this codec (librdkafka silently sends uncompressed
      // when the broker's ApiVersions lack what the codec needs, e.g. Produce v7 for zstd). A batch of a
      // few records may still go plain: librdkafka keeps the plain form of a batch that compression does
      // not shrink, which happens when a busy machine cuts the batches short.
      const batches = await storedBatches(broker, topic);
      const plainOfMany = batches.filter((b) => b.codec !== codecId && b.records > 4);
      expect(
        plainOfMany,
        `batches of more than 4 records not in ${codec} (0 = none: librdkafka chose not to compress; ` +
          `FRESHET_KCAT_DEBUG=1 shows "Broker does not support compression type ${codec}" when ApiVersions ` +
          'made it think so)',
      ).toEqual([]);
      expect(batches.filter((b) => b.codec === codecId).length).toBeGreaterThan(0);
      expect(batches.filter((b) => b.codec !== codecId && b.codec !== 0)).toEqual([]);

      const records = await consumeAll(broker, topic);
      expect(records).toHaveLength(MESSAGES);
      expect(duplicates(records.map((r) => r.key))).toEqual([]);
      for (const r of records) {
        expect(r.value, r.key).toBe(expected.get(r.key));
        expect(r.partition, `partition of ${r.key}`).toBe(javaPartition(r.key, PARTITIONS));
      }
      expect(new Set(records.map((r) => r.key))).toEqual(new Set(expected.keys()));
      expectDenseOffsets(records, (r) => Number(r.key.split('-')[2]));
    },
  );

  it('finds offsets by timestamp (-Q and -o s@<ts>)', async () => {
    const broker = await startKafkaBroker();
    const dir = tempDir('kcat');
    const topic = uniqueName('kcat-time');
    await createTopic(broker, topic);
    const before = Array.from({ length: 90 }, (_, i) => [`early-${i}`, `e${i}`] as const);
    const after = Array.from({ length: 90 }, (_, i) => [`late-${i}`, `l${i}`] as const);
    await produceKeyed(broker, topic, messageFile(dir, before));
    await sleep(50);
    const cut = Date.now();
    await sleep(50);
    await produceKeyed(broker, topic, messageFile(dir, after));

    const all = await consumeAll(broker, topic);
    expect(all).toHaveLength(180);
    // CreateTime as librdkafka stamped it, kept by the broker.
    for (const r of all) {
      if (r.key.startsWith('early-')) expect(r.timestamp, r.key).toBeLessThan(cut);
      else expect(r.timestamp, r.key).toBeGreaterThanOrEqual(cut);
    }

    // -o s@<ts>: every partition from its first message at or after `cut`.
    const late = await consumeAll(broker, topic, ['-o', `s@${cut}`]);
    expect(late.map((r) => r.key).sort()).toEqual(after.map(([k]) => k).sort());

    // -Q: ListOffsets by timestamp; per partition the first offset at or after `cut` = its early count.
    const query = (ts: number) =>
      Array.from({ length: PARTITIONS }, (_, p) => ['-t', `${topic}:${p}:${ts}`]).flat();
    const answer = expectSuccess('kcat -Q', await kcat(broker, ['-Q', '-J', ...query(cut)]), broker);
    const offsets = JSON.parse(answer.stdout) as Record<
      string,
      Record<string, { partition: number; offset: number; error?: string }>
    >;
    // kcat -Q -J: {"<topic>": {"topic": "<topic>", "<partition>": {partition, offset}, ...}}.
    const partitionsOf = (answer: typeof offsets) =>
      Object.values(answer[topic] ?? {}).filter((v) => typeof v === 'object' && v !== null);
    const perPartition = partitionsOf(offsets);
    expect(perPartition, answer.stdout).toHaveLength(PARTITIONS);
    for (const { partition, offset, error } of perPartition) {
      expect(error, `partition ${partition}`).toBeUndefined();
      const earlyCount = all.filter((r) => r.partition === partition && r.key.startsWith('early-')).length;
      expect(offset, `partition ${partition}`).toBe(earlyCount);
    }
    // A time after every message: no such offset (Kafka answers -1, librdkafka prints it as -1 / END).
    const future = JSON.parse(
      expectSuccess('kcat -Q future', await kcat(broker, ['-Q', '-J', ...query(cut + 3_600_000)])).stdout,
    ) as typeof offsets;
    const futureOffsets = partitionsOf(future);
    expect(futureOffsets).toHaveLength(PARTITIONS);
    for (const { offset } of futureOffsets) expect(offset).toBe(-1);
  });

  it('-G: a group consumer commits, and on its next run reads only what came after', async () => {
    const broker = await startKafkaBroker();
    const dir = tempDir('kcat');
    const topic = uniqueName('kcat-group');
    const group = uniqueName('kcat-g');
    await createTopic(broker, topic);
    const groupRun = async () => {
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
          '-X',
          'session.timeout.ms=10000',
          '-f',
          KCAT_FORMAT,
          topic,
        ],
        { timeoutMs: 60_000 },
      );
      expectSuccess(`kcat -G ${group}`, run, broker);
      return parseKcatRecords(run.stdout);
    };

    const first = Array.from({ length: 300 }, (_, i) => [`one-${i}`, `first ${i}`] as const);
    await produceKeyed(broker, topic, messageFile(dir, first));
    const run1 = await groupRun();
    expect(run1.map((r) => r.key).sort()).toEqual(first.map(([k]) => k).sort());

    // What the group committed when kcat closed: every partition's end.
    const committed = await new Admin({ url: broker.url }).fetchOffsets(group, topic);
    const described = await new Admin({ url: broker.url }).describeTopic(topic);
    expect(committed.map((c) => [c.partition, c.offset]).sort()).toEqual(
      described.partitions.map((p) => [p.partition, p.highWatermark]).sort(),
    );

    const second = Array.from({ length: 200 }, (_, i) => [`two-${i}`, `second ${i}`] as const);
    await produceKeyed(broker, topic, messageFile(dir, second));
    const run2 = await groupRun();
    expect(run2.map((r) => r.key).sort()).toEqual(second.map(([k]) => k).sort());
    for (const r of run2) expect(r.partition, r.key).toBe(javaPartition(r.key, PARTITIONS));
  });
});
