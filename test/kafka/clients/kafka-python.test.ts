/**
 * @module
 * kafka-python (Debian's 2.0.2), unmodified and used as its documentation shows, against a real broker's Kafka
 * door: a KafkaProducer sending JSON values then flush(), a KafkaConsumer in a group iterating until its
 * timeout, commit and resume, KafkaAdminClient create/delete topics, and offsets_for_times. kafka-python probes
 * the broker's version itself (no `api_version` pinned). The suite fails, never skips, without kafka-python.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Admin } from '../../../src/client/index.ts';
import type { BrokerHandle } from '../../support/broker.ts';
import {
  cleanup,
  duplicates,
  expectSuccess,
  javaPartition,
  requireKafkaPython,
  runToExit,
  startKafkaBroker,
  uniqueName,
} from './support.ts';

const SCRIPT = fileURLToPath(new URL('./kafka_python_clients.py', import.meta.url));
const PARTITIONS = 3;

interface Sent {
  partition: number;
  offset: number;
  timestamp: number;
}
interface Consumed {
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: unknown;
}
interface WithVersion {
  apiVersion: number[];
}

afterEach(cleanup);

/** Runs one command of kafka_python_clients.py against `broker`; its JSON answer. */
async function kafkaPython<T>(
  broker: BrokerHandle,
  command: string,
  args: Record<string, unknown>,
): Promise<T & WithVersion> {
  // Looked up here, not in a beforeAll, so each test fails (none is skipped) without kafka-python.
  const run = await runToExit(requireKafkaPython(), [SCRIPT, command], {
    input: JSON.stringify({ bootstrap: broker.kafkaAddress, api_version: null, ...args }),
    timeoutMs: 60_000,
  });
  expectSuccess(`kafka-python ${command}`, run, broker);
  const lines = run.stdout.trim().split('\n');
  const answer = JSON.parse(lines[lines.length - 1]!) as T & WithVersion;
  // kafka-python guessed a broker of 0.11 or newer: it speaks RecordBatch v2 (magic 2), not the old formats.
  expect(
    answer.apiVersion[0]! * 1000 + answer.apiVersion[1]!,
    `api_version ${answer.apiVersion}`,
  ).toBeGreaterThanOrEqual(11);
  return answer;
}

describe('kafka-python', () => {
  it('KafkaProducer sends JSON values and flushes; a group KafkaConsumer reads them, commits, and resumes', async () => {
    // The documented snippets write to a topic nobody created: the broker creates it (auto.create.topics).
    const broker = await startKafkaBroker({ args: ['--default-partitions', String(PARTITIONS)] });
    const topic = uniqueName('kpy');
    const group = uniqueName('kpy-group');
    const first = Array.from({ length: 200 }, (_, i) => ({
      n: i,
      user: `user-${i}`,
      tags: ['a', 'b'],
      ok: i % 2 === 0,
    }));
    const keys = first.map((v) => v.user);
    const produced = await kafkaPython<{ sent: Sent[] }>(broker, 'produce', { topic, values: first, keys });
    expect(produced.sent).toHaveLength(first.length);
    produced.sent.forEach((s, i) => {
      expect(s.partition, keys[i]).toBe(javaPartition(keys[i]!, PARTITIONS));
    });
    for (let p = 0; p < PARTITIONS; p++) {
      const offsets = produced.sent.filter((s) => s.partition === p).map((s) => s.offset);
      expect(offsets, `partition ${p}`).toEqual(offsets.map((_, i) => i));
    }
    const described = await new Admin({ url: broker.url }).describeTopic(topic);
    expect(described.partitions).toHaveLength(PARTITIONS);

    // Manual commit: iterate, commit(), close without auto-commit.
    const run1 = await kafkaPython<{ records: Consumed[]; committed: Record<string, number | null> }>(
      broker,
      'consume',
      { topic, group, commit: 'manual', timeout_ms: 6000 },
    );
    expect(run1.records).toHaveLength(first.length);
    expect(duplicates(run1.records.map((r) => `${r.partition}/${r.offset}`))).toEqual([]);
    const byKey = new Map(run1.records.map((r) => [r.key, r]));
    first.forEach((value, i) => {
      const got = byKey.get(keys[i]!);
      expect(got?.value, keys[i]).toEqual(value);
      expect(got?.partition).toBe(produced.sent[i]!.partition);
      expect(got?.offset).toBe(produced.sent[i]!.offset);
    });
    const ends = Object.fromEntries(described.partitions.map((p) => [String(p.partition), p.highWatermark]));
    expect(run1.committed).toEqual(ends);
    // The group's commit, as the HTTP door sees it.
    const viaHttp = await new Admin({ url: broker.url }).fetchOffsets(group, topic);
    expect(Object.fromEntries(viaHttp.map((c) => [String(c.partition), c.offset]))).toEqual(ends);

    // More records; a new consumer in the same group starts after the committed offsets (auto-commit this time).
    const second = Array.from({ length: 50 }, (_, i) => ({ n: 1000 + i }));
    const secondKeys = second.map((v) => `late-${v.n}`);
    await kafkaPython(broker, 'produce', { topic, values: second, keys: secondKeys });
    const run2 = await kafkaPython<{ records: Consumed[] }>(broker, 'consume', {
      topic,
      group,
      timeout_ms: 6000,
    });
    expect(run2.records.map((r) => r.key).sort()).toEqual([...secondKeys].sort());
    expect(run2.records.map((r) => r.value)).toEqual(expect.arrayContaining(second));

    // close() committed: a third consumer has nothing left to read.
    const run3 = await kafkaPython<{ records: Consumed[] }>(broker, 'consume', {
      topic,
      group,
      timeout_ms: 3000,
    });
    expect(run3.records).toEqual([]);
  });

  it('KafkaAdminClient creates topics (and is told when one exists) and deletes them', async () => {
    const broker = await startKafkaBroker();
    const kept = uniqueName('kpy-admin-kept');
    const dropped = uniqueName('kpy-admin-dropped');
    const answer = await kafkaPython<{ createdTwice: string; afterCreate: string[]; afterDelete: string[] }>(
      broker,
      'admin',
      { create: [kept, dropped], partitions: PARTITIONS, delete: [dropped] },
    );
    expect(answer.createdTwice).toBe('TopicAlreadyExistsError');
    expect(answer.afterCreate).toEqual(expect.arrayContaining([kept, dropped]));
    expect(answer.afterDelete).toContain(kept);
    expect(answer.afterDelete).not.toContain(dropped);
    // The HTTP door agrees.
    const admin = new Admin({ url: broker.url });
    expect((await admin.describeTopic(kept)).partitions).toHaveLength(PARTITIONS);
    const names = (await admin.listTopics()).map((t) => t.name);
    expect(names).toContain(kept);
    expect(names).not.toContain(dropped);
  });

  it('offsets_for_times finds the first offset at or after a timestamp on every partition', async () => {
    const broker = await startKafkaBroker();
    const topic = uniqueName('kpy-times');
    await new Admin({ url: broker.url }).createTopic(topic, { partitions: PARTITIONS });
    const base = Date.now() - 120_000;
    const count = 60;
    const keys = Array.from({ length: count }, (_, i) => `t-${i}`);
    const timestamps = keys.map((_, i) => base + i * 1000);
    const produced = await kafkaPython<{ sent: Sent[] }>(broker, 'produce', {
      topic,
      values: keys.map((k) => ({ k })),
      keys,
      timestamps,
    });
    const query = base + 30_500;
    const answer = await kafkaPython<{
      found: Record<string, { offset: number; timestamp: number } | null>;
      beginning: Record<string, number>;
      end: Record<string, number>;
    }>(broker, 'offsets_for_times', { topic, timestamp: query });
    for (let p = 0; p < PARTITIONS; p++) {
      const inPartition = produced.sent
        .map((s, i) => ({ ...s, timestamp: timestamps[i]! }))
        .filter((s) => s.partition === p);
      const first = inPartition.find((s) => s.timestamp >= query);
      expect(answer.found[String(p)], `partition ${p}`).toEqual(
        first === undefined ? null : { offset: first.offset, timestamp: first.timestamp },
      );
      expect(answer.beginning[String(p)]).toBe(0);
      expect(answer.end[String(p)]).toBe(inPartition.length);
    }
    const later = await kafkaPython<{ found: Record<string, unknown> }>(broker, 'offsets_for_times', {
      topic,
      timestamp: Date.now() + 3_600_000,
    });
    expect(Object.values(later.found)).toEqual([null, null, null]);
  });
});
