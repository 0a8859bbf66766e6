/**
 * @module
 * Admin against a real broker process: topic CRUD, config changes, partition growth, offset look-ups by
 * position and time, and broker errors surfaced as FreshetErrors with their Kafka codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, FreshetError, Producer } from '../../src/client/index.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import { uniqueTopic } from './helpers.ts';

let broker: BrokerHandle;
let admin: Admin;

beforeAll(async () => {
  broker = await startBroker({ workers: 2 });
  admin = new Admin({ url: broker.url });
});
afterAll(async () => {
  await broker?.stop();
});

async function codeOf(promise: Promise<unknown>): Promise<FreshetError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FreshetError);
  return err as FreshetError;
}

describe('Admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const name = uniqueTopic('admin-crud');
    const created = await admin.createTopic(name, { partitions: 3, config: { 'retention.ms': 3_600_000 } });
    expect(created.name).toBe(name);
    expect(created.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(created.partitions.every((p) => p.highWatermark === 0 && p.logStartOffset === 0)).toBe(true);
    expect(Number(created.config['retention.ms'])).toBe(3_600_000);

    expect(await admin.listTopics()).toContainEqual({ name, partitions: 3 });
    const described = await admin.describeTopic(name);
    expect(described.partitions).toHaveLength(3);

    await admin.deleteTopic(name);
    expect((await admin.listTopics()).some((t) => t.name === name)).toBe(false);
    expect((await codeOf(admin.describeTopic(name))).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('creates with the broker default partition count when none is given', async () => {
    const created = await admin.createTopic(uniqueTopic('admin-default'));
    expect(created.partitions.length).toBeGreaterThanOrEqual(1);
  });

  it('alters config (null removes an override) and grows partitions', async () => {
    const name = uniqueTopic('admin-alter');
    const created = await admin.createTopic(name, { partitions: 1 });
    const altered = await admin.alterTopicConfig(name, { 'retention.ms': 60_000, 'segment.ms': 600_000 });
    expect(Number(altered.config['retention.ms'])).toBe(60_000);
    expect(Number(altered.config['segment.ms'])).toBe(600_000);
    const removed = await admin.alterTopicConfig(name, { 'retention.ms': null });
    expect(removed.config).toEqual({ ...created.config, 'segment.ms': 600_000 });
    expect((await admin.describeTopic(name)).config).toEqual(removed.config);
    const grown = await admin.createPartitions(name, 4);
    expect(grown.partitions).toHaveLength(4);
    expect((await codeOf(admin.createPartitions(name, 2))).code).toBe('INVALID_PARTITIONS');
  });

  it('looks up offsets: earliest, latest, and by time', async () => {
    const name = uniqueTopic('admin-offsets');
    await admin.createTopic(name, { partitions: 1 });
    const producer = new Producer({ url: broker.url });
    const base = Date.now() - 10_000;
    await producer.send(
      name,
      [0, 1, 2, 3].map((i) => ({ value: `v${i}`, timestamp: base + i * 1000 })),
    );
    await producer.close();
    expect(await admin.listOffset(name, 0, 'earliest')).toMatchObject({ offset: 0 });
    expect(await admin.listOffset(name, 0, 'latest')).toMatchObject({ offset: 4 });
    expect(await admin.listOffset(name, 0, base + 1500)).toMatchObject({ offset: 2, timestamp: base + 2000 });
    expect(await admin.listOffset(name, 0, new Date(base + 3000))).toMatchObject({ offset: 3 });
    expect((await admin.listOffset(name, 0, Date.now() + 60_000)).offset).toBe(-1);
  });

  it('surfaces broker errors with Kafka codes and HTTP status', async () => {
    const name = uniqueTopic('admin-errors');
    await admin.createTopic(name, { partitions: 1 });
    const exists = await codeOf(admin.createTopic(name));
    expect(exists).toMatchObject({ code: 'TOPIC_ALREADY_EXISTS', status: 409, retriable: false });
    expect(exists.message).toContain(name);
    expect(await codeOf(admin.createTopic('bad name!'))).toMatchObject({
      code: 'INVALID_TOPIC_EXCEPTION',
      status: 400,
    });
    expect(await codeOf(admin.alterTopicConfig(name, { 'retention.ms': 'soon' }))).toMatchObject({
      code: 'INVALID_CONFIG',
      status: 400,
    });
    expect(await codeOf(admin.alterTopicConfig(name, { 'no.such.config': null }))).toMatchObject({
      code: 'INVALID_CONFIG',
      status: 400,
    });
    expect(await codeOf(admin.deleteTopic(uniqueTopic('admin-missing')))).toMatchObject({
      code: 'UNKNOWN_TOPIC_OR_PARTITION',
      status: 404,
    });
    expect((await codeOf(admin.listOffset(name, 9, 'latest'))).code).toBe('UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('reports an unreachable broker as NETWORK_EXCEPTION after its retries', async () => {
    const dead = new Admin({ url: 'http://127.0.0.1:1', retries: 1, retryBackoffMs: 1 });
    expect(await codeOf(dead.listTopics())).toMatchObject({ code: 'NETWORK_EXCEPTION', retriable: true });
  });
});
