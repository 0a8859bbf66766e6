/**
 * @module
 * kill -9 under load through the Kafka door: kafkajs producers send acks=all batches with unique values while
 * the broker is killed; after a restart on the same data dir every acknowledged value is at the offset its
 * acknowledgement named, read back over HTTP (the other door), and no value is stored twice.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, expect, it } from 'vitest';
import { Consumer } from '../../../src/client/index.ts';
import { startBroker } from '../../support/broker.ts';
import { cleanup, DEBUG, duplicates, startKafkaBroker, tempDir, uniqueName } from './support.ts';

afterEach(cleanup);

const PARTITIONS = 3;
const BATCH = 200;

it('keeps every acknowledged record at its acknowledged offset across a kill -9 under load', async () => {
  const dataDir = tempDir('kafka-kill9');
  const broker = await startKafkaBroker({ dataDir });
  const topic = uniqueName('kill9');
  const kafka = new Kafka({
    clientId: 'durability',
    brokers: [broker.kafkaAddress],
    logLevel: DEBUG ? logLevel.DEBUG : logLevel.NOTHING,
    // No retries: a send either got its acknowledgement or it did not, so nothing is sent twice.
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  await admin.disconnect();

  const acknowledged = new Map<string, { partition: number; offset: number }>();
  let sent = 0;
  let stop = false;
  const producers = Array.from({ length: PARTITIONS }, async (_, partition) => {
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      for (let n = 0; !stop && n < 1_000; n++) {
        const values = Array.from({ length: BATCH }, (_, i) => `p${partition}-b${n}-r${i}`);
        sent += BATCH;
        let answer: Awaited<ReturnType<typeof producer.send>>;
        try {
          answer = await producer.send({
            topic,
            acks: -1,
            messages: values.map((value) => ({ value, partition })),
          });
        } catch {
          return; // the broker is gone: this batch was not acknowledged
        }
        const base = Number(answer[0]!.baseOffset);
        for (const [i, value] of values.entries()) acknowledged.set(value, { partition, offset: base + i });
      }
    } finally {
      await producer.disconnect().catch(() => {});
    }
  });

  // Let the load run, then kill the broker while sends are in flight.
  const deadline = Date.now() + 10_000;
  while (acknowledged.size < 6_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await broker.kill9();
  stop = true;
  await Promise.all(producers);
  expect(acknowledged.size).toBeGreaterThan(0);

  const restarted = await startBroker({ dataDir });
  try {
    const consumer = new Consumer({ url: restarted.url, autoOffsetReset: 'earliest' });
    consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 0 })));
    const stored: Array<{ value: string; partition: number; offset: number }> = [];
    const quietUntil = () => Date.now() + 1_500;
    let quiet = quietUntil();
    while (Date.now() < quiet) {
      const records = await consumer.poll({ maxWaitMs: 200 });
      if (records.length > 0) quiet = quietUntil();
      for (const r of records) {
        stored.push({ value: new TextDecoder().decode(r.value!), partition: r.partition, offset: r.offset });
      }
    }
    await consumer.close();
    const at = new Map(stored.map((s) => [s.value, s]));
    const missing = [...acknowledged].filter(([value, where]) => {
      const found = at.get(value);
      return !found || found.partition !== where.partition || found.offset !== where.offset;
    });
    expect(
      missing.slice(0, 5),
      `${missing.length} of ${acknowledged.size} acknowledged records lost or moved`,
    ).toEqual([]);
    expect(duplicates(stored.map((s) => s.value))).toEqual([]);
    // Offsets are dense: what the log holds beyond the acknowledged is the tail of unacknowledged sends.
    expect(stored.length).toBeLessThanOrEqual(sent);
  } finally {
    await restarted.stop();
  }
}, 60_000);
