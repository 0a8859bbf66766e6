/** @module W6 (Freshet only): many partitions: create 10,000 (100 topics × 100), produce a few records to each, restart; RSS and the time to listen and to serve every partition. */
import { HttpClient } from '../../src/client/index.ts';
import { lastOffsetOf, readBatchHeader } from '../../src/records/batch-header.ts';
import { MIB, progress, round } from '../harness.ts';
import type { FreshetTarget } from '../targets/freshet.ts';
import { type MetricDef, Series, type SuiteWorkload, withTarget } from './workload.ts';

/*
 * One broker on one data dir, page-cache durability:
 * 1. creates TOPICS topics of 100 partitions each (sequentially: create_s);
 * 2. produces RECORDS_PER_PARTITION records of 100 B to every partition, one `{records}` POST per topic with
 *    explicit partitions, acks=all, a few topics at a time (produce_s); then reads VmRSS (rss_loaded_mib);
 * 3. per repetition: stops the broker (SIGTERM; shutdown_s, and a note if it needed SIGKILL), starts it again
 *    on the same dir, and reports the time from spawn to its `listening` line (restart_listening_s), then fetches
 *    every partition raw from offset 0 (CONCURRENCY at a time, retrying errors) until each one answers with
 *    all its records (restart_serving_s, from spawn), and VmRSS after listening and after serving everything.
 */

const PARTITIONS_PER_TOPIC = 100;
const RECORDS_PER_PARTITION = 3;
const VALUE_BYTES = 100;
const PRODUCE_CONCURRENCY = 4;
const CONCURRENCY = 32;
const RECORD_BATCH_ACCEPT = 'application/vnd.kafka.recordbatch, application/msgpack';

const METRICS: readonly MetricDef[] = [
  { name: 'restart_serving_s', unit: 's', digits: 3 },
  { name: 'restart_listening_s', unit: 's', digits: 3 },
  { name: 'rss_mib', unit: 'MiB', digits: 1 },
  { name: 'rss_listening_mib', unit: 'MiB', digits: 1 },
  { name: 'shutdown_s', unit: 's', digits: 3 },
];
const SETUP_METRICS: readonly MetricDef[] = [
  { name: 'rss_loaded_mib', unit: 'MiB', digits: 1 },
  { name: 'create_s', unit: 's', digits: 3 },
  { name: 'produce_s', unit: 's', digits: 3 },
];

/** Runs `task(i)` for i in [0, count) with at most `concurrency` at once. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const topicName = (t: number) => `w6-${String(t).padStart(4, '0')}`;
const mib = (bytes: number | null) => (bytes === null ? Number.NaN : bytes / MIB);

/** Fetches every partition until each has answered with all its records; bounded by `deadline`. */
async function serveAll(http: HttpClient, topics: number, deadline: number): Promise<number> {
  let retries = 0;
  await pool(topics * PARTITIONS_PER_TOPIC, CONCURRENCY, async (i) => {
    const topic = topicName(Math.floor(i / PARTITIONS_PER_TOPIC));
    const partition = i % PARTITIONS_PER_TOPIC;
    for (;;) {
      try {
        const { body } = await http.exchange('GET', `/v1/topics/${topic}/partitions/${partition}/records`, {
          query: { offset: 0, maxBytes: 64 * 1024 },
          accept: RECORD_BATCH_ACCEPT,
        });
        let records = 0;
        let offset = 0;
        for (let position = 0; position < body.length; ) {
          const header = readBatchHeader(body, position);
          records += header.recordCount;
          offset = lastOffsetOf(header) + 1;
          position += header.sizeInBytes;
        }
        if (records !== RECORDS_PER_PARTITION || offset !== RECORDS_PER_PARTITION)
          throw new Error(`${topic}/${partition}: ${records} records up to offset ${offset}`);
        return;
      } catch (err) {
        if (performance.now() > deadline) throw err;
        retries++;
        await new Promise((done) => setTimeout(done, 50));
      }
    }
  });
  return retries;
}

export const w6: SuiteWorkload<FreshetTarget> = {
  name: 'w6',
  title: '10,000 partitions (100 topics × 100): create, produce to every one, restart; RSS and restart time',
  durability: 'os-cache',
  peers: false,
  async run(makeTarget, ctx) {
    const partitions = ctx.quick ? 1_000 : 10_000;
    const topics = partitions / PARTITIONS_PER_TOPIC;
    const deadlineMs = ctx.quick ? 120_000 : 600_000;
    const notes: string[] = [];
    return withTarget(makeTarget, 'os-cache', async (target, options) => {
      const admin = target.admin();
      const description = target.describe();
      const start = performance.now();
      for (let t = 0; t < topics; t++) {
        if (performance.now() - start > deadlineMs) throw new Error('w6: creating topics took too long');
        await admin.createTopic(topicName(t), { partitions: PARTITIONS_PER_TOPIC });
      }
      const createS = (performance.now() - start) / 1000;
      progress(`suite: w6: ${partitions} partitions created in ${createS.toFixed(2)} s`);

      const value = new Uint8Array(VALUE_BYTES).fill(0x61);
      const records = Array.from({ length: PARTITIONS_PER_TOPIC * RECORDS_PER_PARTITION }, (_, i) => ({
        value,
        partition: Math.floor(i / RECORDS_PER_PARTITION),
      }));
      const produceStart = performance.now();
      const http = new HttpClient({ url: target.broker.url });
      await pool(topics, PRODUCE_CONCURRENCY, async (t) => {
        const answer = await http.request<{ results?: unknown[] }>(
          'POST',
          `/v1/topics/${topicName(t)}/records`,
          {
            query: { acks: 'all' },
            body: { records },
          },
        );
        if (answer?.results?.length !== records.length)
          throw new Error(
            `w6: ${topicName(t)}: ${answer?.results?.length} of ${records.length} records acknowledged`,
          );
      });
      const produceS = (performance.now() - produceStart) / 1000;
      const rssLoaded = mib(target.broker.rssBytes());
      progress(
        `suite: w6: ${partitions * RECORDS_PER_PARTITION} records produced in ${produceS.toFixed(2)} s; RSS ${rssLoaded.toFixed(1)} MiB`,
      );
      const setup = new Series(
        {
          workload: 'w6',
          variant: 'setup',
          target: target.name,
          targetDescription: description,
          durability: 'os-cache',
          params: { partitions, topics, recordsPerPartition: RECORDS_PER_PARTITION, valueBytes: VALUE_BYTES },
        },
        SETUP_METRICS,
      );
      setup.add({ rss_loaded_mib: rssLoaded, create_s: createS, produce_s: produceS }, null);

      const restarts = new Series({ ...setup.meta, variant: 'restart' }, METRICS);
      for (let rep = 1; rep <= ctx.reps; rep++) {
        await target.stop();
        const stopped = target.lastStopReport();
        if (stopped?.killed) notes.push(`w6 r${rep}: the broker needed SIGKILL to stop`);
        await target.start(options);
        const broker = target.broker;
        const listeningS = broker.listeningMs / 1000;
        const rssListening = mib(broker.rssBytes());
        const retries = await serveAll(
          new HttpClient({ url: broker.url }),
          topics,
          performance.now() + deadlineMs,
        );
        const servingS = (performance.now() - broker.spawnedAt) / 1000;
        const rss = mib(broker.rssBytes());
        restarts.add(
          {
            restart_serving_s: servingS,
            restart_listening_s: listeningS,
            rss_mib: rss,
            rss_listening_mib: rssListening,
            shutdown_s: (stopped?.ms ?? Number.NaN) / 1000,
          },
          null,
        );
        if (retries > 0)
          notes.push(`w6 r${rep}: ${retries} partition fetches were retried after the restart`);
        progress(
          `suite: w6 r${rep}: shutdown ${round((stopped?.ms ?? 0) / 1000, 2)} s; listening after ${listeningS.toFixed(2)} s, ` +
            `every partition served after ${servingS.toFixed(2)} s; RSS ${rssListening.toFixed(1)} → ${rss.toFixed(1)} MiB`,
        );
      }
      return { runs: [...restarts.rows(), ...setup.rows()], latency: [], notes };
    });
  },
};
