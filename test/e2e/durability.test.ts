/** @module What survives a restart and a kill -9 of the real broker process, and offsets under concurrency. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pack, unpack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import '../../src/records/compression.ts';
import { encodeRecordBatch } from '../../src/records/record-batch.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import {
  createTopic,
  describeTopic,
  type JsonRecordOut,
  produceJson,
  readPartition,
  requestJson,
  type TopicDescription,
  uniqueTopic,
} from './support.ts';

const running: BrokerHandle[] = [];
const dirs: string[] = [];

/** The tests own their data dirs (so a stop does not remove a dir a restart needs). */
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'freshet-e2e-durability-'));
  dirs.push(dir);
  return dir;
}

async function start(
  options: Parameters<typeof startBroker>[0] & { dataDir: string },
): Promise<BrokerHandle> {
  const broker = await startBroker(options);
  running.push(broker);
  return broker;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((broker) => broker.stop()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type Offsets = { earliest: unknown; latest: unknown; byTime: unknown };

async function offsetsOf(url: string, topic: string, partition: number, timestamp: number): Promise<Offsets> {
  const at = async (spec: string) =>
    (await requestJson(`${url}/v1/topics/${topic}/partitions/${partition}/offsets?at=${spec}`)).body;
  return { earliest: await at('earliest'), latest: await at('latest'), byTime: await at(String(timestamp)) };
}

/** A description without worker indexes, which depend on the worker count. */
function placementFree(description: TopicDescription) {
  return { ...description, partitions: description.partitions.map(({ worker: _, ...rest }) => rest) };
}

interface Snapshot {
  descriptions: Array<ReturnType<typeof placementFree>>;
  records: Record<string, JsonRecordOut[]>;
  offsets: Record<string, Offsets>;
}

async function snapshot(url: string, topics: string[], timestamp: number): Promise<Snapshot> {
  const result: Snapshot = { descriptions: [], records: {}, offsets: {} };
  for (const topic of topics) {
    const description = await describeTopic(url, topic);
    result.descriptions.push(placementFree(description));
    for (const { partition } of description.partitions) {
      result.records[`${topic}/${partition}`] = await readPartition(url, topic, partition);
      result.offsets[`${topic}/${partition}`] = await offsetsOf(url, topic, partition, timestamp);
    }
  }
  return result;
}

interface LoopOutcome {
  sent: Set<string>;
  /** `${partition}:${offset}` → value, for every record a 200 answer acknowledged. */
  acknowledged: Map<string, string>;
  /** Why each producer stopped: a failed request (HTTP status or connection error). */
  failures: string[];
  /** 200 answers whose results do not match the request. */
  violations: string[];
  /** True when every producer stopped on a failed request (the kill), none on its bounds. */
  endedByFailure: boolean;
}

/**
 * `producers` concurrent acks=all producers (even ones JSON, odd ones msgpack), each sending 1-3 records a
 * request with explicit partitions and unique values, until a request fails or 5000 requests / 15 s.
 */
function produceLoop(url: string, topic: string, partitions: number, producers: number) {
  const outcome: LoopOutcome = {
    sent: new Set(),
    acknowledged: new Map(),
    failures: [],
    violations: [],
    endedByFailure: false,
  };
  const deadline = Date.now() + 15_000;

  async function produceOnce(id: number, seq: number): Promise<void> {
    const partition = (id + seq) % partitions;
    const count = 1 + (seq % 3);
    const values = Array.from({ length: count }, (_, i) => `p${id}-s${seq}-r${i}`);
    for (const value of values) outcome.sent.add(value);
    type Results = Array<{ partition: number; offset: number }>;
    let results: Results;
    if (id % 2 === 0) {
      const answer = await requestJson<{ results: Results }>(`${url}/v1/topics/${topic}/records?acks=all`, {
        body: { records: values.map((value) => ({ value, partition })) },
      });
      if (answer.status !== 200) throw new Error(`HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
      results = answer.body.results;
    } else {
      const response = await fetch(`${url}/v1/topics/${topic}/records?acks=all`, {
        method: 'POST',
        headers: { 'content-type': 'application/msgpack' },
        body: pack({
          records: values.map((value) => ({ value: Buffer.from(value), partition })),
        }) as BodyInit,
      });
      const body = unpack(new Uint8Array(await response.arrayBuffer())) as { results: Results };
      if (response.status !== 200) throw new Error(`HTTP ${response.status} ${JSON.stringify(body)}`);
      results = body.results;
    }
    // A 200 with wrong results is a broker fault, not the kill: recorded apart so it cannot pass as one.
    if (
      results.length !== count ||
      results.some((r, i) => r.partition !== partition || r.offset !== results[0]!.offset + i)
    ) {
      outcome.violations.push(
        `producer ${id} seq ${seq}: sent ${count} records to ${partition}, answered ${JSON.stringify(results)}`,
      );
    }
    results.forEach((result, i) => {
      const where = `${result.partition}:${result.offset}`;
      const earlier = outcome.acknowledged.get(where);
      if (earlier !== undefined)
        outcome.violations.push(`${where} acknowledged twice: ${earlier}, ${values[i]}`);
      outcome.acknowledged.set(where, values[i]!);
    });
  }

  async function producer(id: number): Promise<boolean> {
    for (let seq = 0; seq < 5000 && Date.now() < deadline; seq++) {
      try {
        await produceOnce(id, seq);
      } catch (err) {
        outcome.failures.push(`producer ${id}: ${(err as Error).message}`);
        return true;
      }
    }
    return false;
  }

  const loops = Array.from({ length: producers }, (_, id) => producer(id));
  return {
    /** Waits until `count` records are acknowledged, or `ms` passed. */
    async acknowledgedAtLeast(count: number, ms: number): Promise<void> {
      const until = Date.now() + ms;
      while (outcome.acknowledged.size < count && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    done: Promise.all(loops).then((ended) => ({ ...outcome, endedByFailure: ended.every(Boolean) })),
  };
}

/**
 * After a restart: each partition is gap-free from offset 0, holds only values that were sent, each at
 * most once, and every acknowledged record is at its acknowledged offset with its value.
 */
async function expectAcknowledgedIntact(
  url: string,
  topic: string,
  partitions: number,
  outcome: LoopOutcome,
) {
  const seen = new Set<string>();
  for (let partition = 0; partition < partitions; partition++) {
    const records = await readPartition(url, topic, partition);
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    for (const record of records) {
      const value = String(record.value);
      expect(outcome.sent.has(value), `unknown value ${value}`).toBe(true);
      expect(seen.has(value), `duplicate value ${value}`).toBe(false);
      seen.add(value);
    }
    const lost: string[] = [];
    for (const [where, value] of outcome.acknowledged) {
      const [p, offset] = where.split(':').map(Number) as [number, number];
      if (p !== partition) continue;
      if (records[offset]?.value !== value) {
        lost.push(`${where} acknowledged ${value}, found ${JSON.stringify(records[offset]?.value)}`);
      }
    }
    expect(lost).toEqual([]);
  }
}

describe('durability of the broker process', () => {
  it('keeps topics, configs, partitions, records and offsets across a SIGTERM restart', async () => {
    const first = await start({ dataDir: tempDir(), workers: 2 });
    const orders = uniqueTopic('orders');
    const events = uniqueTopic('events');
    // Small segments, so the restart reopens several segments per partition.
    await createTopic(first.url, orders, 3, { 'segment.bytes': 1024, 'retention.ms': 3_600_000 });
    await createTopic(first.url, events, 1);
    const t0 = 1_700_000_000_000;
    for (let round = 0; round < 10; round++) {
      await produceJson(
        first.url,
        orders,
        [0, 1, 2].map((partition) => ({
          partition,
          key: `k${round}`,
          value: `order ${round} on ${partition} ${'x'.repeat(100)}`,
          headers: [{ key: 'round', value: String(round) }],
          timestamp: t0 + round * 1000,
        })),
      );
    }
    await produceJson(first.url, events, [
      { value: { base64: Buffer.from([0, 255, 1]).toString('base64') } },
    ]);
    const grown = await requestJson(`${first.url}/v1/topics/${events}/partitions`, { body: { count: 2 } });
    expect(grown.status).toBe(200);
    const altered = await requestJson(`${first.url}/v1/topics/${events}/config`, {
      method: 'PATCH',
      body: { config: { 'retention.bytes': 1_048_576, 'flush.policy': 'always' } },
    });
    expect(altered.status).toBe(200);
    await produceJson(first.url, events, [{ value: 'on the new partition', partition: 1, timestamp: t0 }]);

    const before = await snapshot(first.url, [orders, events], t0 + 4500);
    expect(before.records[`${orders}/1`]).toHaveLength(10);
    expect(before.descriptions[1]!.partitions).toHaveLength(2);
    expect(before.descriptions[1]!.config['flush.policy']).toBe('always');
    expect(before.descriptions[0]!.config['segment.bytes']).toBe(1024);
    expect(before.offsets[`${orders}/2`]!.byTime).toEqual({ offset: 5, timestamp: t0 + 5000 });

    await first.stop();
    expect(first.process.exitCode).toBe(0);
    // A different worker count moves partitions between workers; the data must not care.
    const second = await start({ dataDir: first.dataDir, workers: 3 });
    const listed = await requestJson<{ topics: Array<{ name: string; partitions: number }> }>(
      `${second.url}/v1/topics`,
    );
    expect(listed.body.topics).toEqual(
      expect.arrayContaining([
        { name: orders, partitions: 3 },
        { name: events, partitions: 2 },
      ]),
    );
    const after = await snapshot(second.url, [orders, events], t0 + 4500);
    expect(after).toEqual(before);

    // Offsets continue where they were.
    const more = await produceJson(second.url, orders, [{ partition: 0, value: 'after restart' }]);
    expect(more).toEqual([{ partition: 0, offset: 10 }]);
  });

  it.each(['always', 'interval'])(
    'keeps every acknowledged record after kill -9 during concurrent acks=all produce (flush.policy %s)',
    async (policy) => {
      const first = await start({ dataDir: tempDir(), workers: 2, args: ['--flush-policy', policy] });
      const topic = uniqueTopic('crash');
      // Small segments, so the crash also lands around segment rolls.
      await createTopic(first.url, topic, 2, { 'segment.bytes': 4096 });
      const loop = produceLoop(first.url, topic, 2, 4);
      await loop.acknowledgedAtLeast(300, 5_000);
      await first.kill9();
      const outcome = await loop.done;
      expect(outcome.violations).toEqual([]);
      expect(outcome.endedByFailure, outcome.failures.join('\n')).toBe(true);
      expect(outcome.acknowledged.size).toBeGreaterThan(20);

      const second = await start({ dataDir: first.dataDir, workers: 2 });
      await expectAcknowledgedIntact(second.url, topic, 2, outcome);
      // The recovered log takes appends at its end.
      const [next] = await produceJson(second.url, topic, [{ value: 'after crash', partition: 0 }]);
      expect(next!.offset).toBe((await readPartition(second.url, topic, 0)).length - 1);
    },
  );

  it('drains on SIGTERM during concurrent produce: exit 0, every acknowledged record kept', async () => {
    const first = await start({ dataDir: tempDir(), workers: 2 });
    const topic = uniqueTopic('drain');
    await createTopic(first.url, topic, 2);
    const loop = produceLoop(first.url, topic, 2, 4);
    await loop.acknowledgedAtLeast(300, 5_000);
    const exit = new Promise<number | null>((resolve) => first.process.once('exit', (code) => resolve(code)));
    first.process.kill('SIGTERM');
    expect(await exit, first.stderr()).toBe(0);
    const outcome = await loop.done;
    expect(outcome.violations).toEqual([]);
    expect(outcome.endedByFailure).toBe(true);
    // Refusals while stopping are connection errors or a retriable 503, never a broker fault.
    expect(outcome.failures.filter((f) => /HTTP (?!503)/.test(f))).toEqual([]);

    const second = await start({ dataDir: first.dataDir, workers: 2 });
    await expectAcknowledgedIntact(second.url, topic, 2, outcome);
  });

  it('gives 8 concurrent producers on one partition unique, gap-free offsets', async () => {
    const broker = await start({ dataDir: tempDir(), workers: 2 });
    const topic = uniqueTopic('concurrent');
    await createTopic(broker.url, topic, 1);
    const requestsPerProducer = 20;
    const recordsPerRequest = 4;
    const offsetToValue = new Map<number, string>();
    const offsets: number[] = [];

    async function producer(id: number): Promise<void> {
      for (let seq = 0; seq < requestsPerProducer; seq++) {
        const values = Array.from({ length: recordsPerRequest }, (_, i) => `p${id}-s${seq}-r${i}`);
        let results: Array<{ partition: number; offset: number }>;
        if (id < 4) {
          results = await produceJson(
            broker.url,
            topic,
            values.map((value) => ({ value })),
          );
        } else if (id < 6) {
          const response = await fetch(`${broker.url}/v1/topics/${topic}/records`, {
            method: 'POST',
            headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
            body: pack({ records: values.map((value) => ({ value })) }) as BodyInit,
          });
          expect(response.status).toBe(200);
          results = (unpack(new Uint8Array(await response.arrayBuffer())) as { results: typeof results })
            .results;
        } else {
          const batch = encodeRecordBatch(values.map((value) => ({ value: Buffer.from(value) })));
          const response = await fetch(`${broker.url}/v1/topics/${topic}/records?partition=0`, {
            method: 'POST',
            headers: { 'content-type': 'application/vnd.kafka.recordbatch' },
            body: batch as BodyInit,
          });
          expect(response.status).toBe(200);
          results = ((await response.json()) as { results: typeof results }).results;
        }
        expect(results).toHaveLength(recordsPerRequest);
        results.forEach((result, i) => {
          expect(result.partition).toBe(0);
          // One request's records are one batch: consecutive offsets.
          expect(result.offset).toBe(results[0]!.offset + i);
          offsets.push(result.offset);
          offsetToValue.set(result.offset, values[i]!);
        });
      }
    }

    await Promise.all(Array.from({ length: 8 }, (_, id) => producer(id)));
    const total = 8 * requestsPerProducer * recordsPerRequest;
    expect([...offsets].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    const records = await readPartition(broker.url, topic, 0);
    expect(records).toHaveLength(total);
    for (const record of records) expect(record.value).toBe(offsetToValue.get(record.offset));
  });
});
