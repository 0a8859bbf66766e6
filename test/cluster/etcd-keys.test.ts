/**
 * @module
 * The etcd key layout and the topic / partition values stored under it (`src/cluster/etcd-keys.ts`):
 * valid values round-trip, every malformed value parses to null (readers skip it), and the topic and
 * partition keys nest under their prefixes without one topic's prefix catching another's keys.
 */
import { describe, expect, it } from 'vitest';
import {
  clusterKeys,
  type PartitionMeta,
  parsePartitionMeta,
  parseTopicMeta,
  type TopicMeta,
} from '../../src/cluster/etcd-keys.ts';

const TOPIC: TopicMeta = {
  topicId: 'b5f1c2d8-0a41-4e0e-9d1b-2f7c9c1b8a10',
  partitions: 6,
  replicationFactor: 3,
  config: { 'retention.ms': 86_400_000, 'cleanup.policy': 'delete' },
  createdAt: 1_700_000_000_000,
};

const PARTITION: PartitionMeta = {
  replicas: [2, 1, 3],
  leader: 2,
  leaderEpoch: 4,
  leaderRegistration: 1234,
  isr: [2, 3],
};

/** TOPIC / PARTITION as JSON with `changes` applied; a value of `undefined` removes the field. */
function withFields(base: object, changes: Record<string, unknown>): string {
  const value: Record<string, unknown> = { ...base, ...changes };
  for (const [key, v] of Object.entries(changes)) if (v === undefined) delete value[key];
  return JSON.stringify(value);
}

const NOT_AN_OBJECT = ['', '{', 'not json', '{"partitions": 1,}', 'null', '[]', '"text"', '42', 'true'];

describe('parseTopicMeta', () => {
  it.each([
    { name: 'full', meta: TOPIC },
    { name: 'no config overrides', meta: { ...TOPIC, config: {} } },
    { name: 'one partition, RF 1', meta: { ...TOPIC, partitions: 1, replicationFactor: 1 } },
  ])('round-trips a valid value: $name', ({ meta }) => {
    expect(parseTopicMeta(JSON.stringify(meta))).toEqual(meta);
  });

  it('keeps only the known fields of a value written with more', () => {
    expect(parseTopicMeta(withFields(TOPIC, { addedLater: [1, 2] }))).toEqual(TOPIC);
  });

  it.each(NOT_AN_OBJECT)('null for a value that is not a JSON object: %j', (text) => {
    expect(parseTopicMeta(text)).toBeNull();
  });

  it.each([
    ['topicId missing', { topicId: undefined }],
    ['topicId a number', { topicId: 7 }],
    ['topicId null', { topicId: null }],
    ['partitions missing', { partitions: undefined }],
    ['partitions 0', { partitions: 0 }],
    ['partitions negative', { partitions: -3 }],
    ['partitions fractional', { partitions: 1.5 }],
    ['partitions a string', { partitions: '6' }],
    ['partitions past 2^53', { partitions: 2 ** 53 }],
    ['replicationFactor missing', { replicationFactor: undefined }],
    ['replicationFactor 0', { replicationFactor: 0 }],
    ['replicationFactor negative', { replicationFactor: -1 }],
    ['replicationFactor fractional', { replicationFactor: 2.5 }],
    ['replicationFactor a string', { replicationFactor: '3' }],
    ['config missing', { config: undefined }],
    ['config null', { config: null }],
    ['config a list', { config: [['retention.ms', 1]] }],
    ['config a string', { config: 'retention.ms=1' }],
    ['a config value an object', { config: { 'retention.ms': { ms: 1 } } }],
    ['a config value null', { config: { 'retention.ms': null } }],
    ['a config value a boolean', { config: { 'unclean.leader.election.enable': true } }],
    ['a config value a list', { config: { 'cleanup.policy': ['delete'] } }],
    ['createdAt missing', { createdAt: undefined }],
    ['createdAt an ISO string', { createdAt: '2024-01-01T00:00:00Z' }],
    ['createdAt fractional', { createdAt: 1.5 }],
    ['createdAt null', { createdAt: null }],
  ] as const)('null when %s', (_, changes) => {
    expect(parseTopicMeta(withFields(TOPIC, changes))).toBeNull();
  });
});

describe('parsePartitionMeta', () => {
  it.each([
    { name: 'led, part of the ISR out', meta: PARTITION },
    { name: 'no leader (-1), empty ISR', meta: { ...PARTITION, leader: -1, leaderRegistration: 0, isr: [] } },
    {
      name: 'one replica, epoch 0',
      meta: { replicas: [0], leader: 0, leaderEpoch: 0, leaderRegistration: 9, isr: [0] },
    },
  ])('round-trips a valid value: $name', ({ meta }) => {
    expect(parsePartitionMeta(JSON.stringify(meta))).toEqual(meta);
  });

  it('keeps only the known fields of a value written with more', () => {
    expect(parsePartitionMeta(withFields(PARTITION, { observers: [4] }))).toEqual(PARTITION);
  });

  it.each(NOT_AN_OBJECT)('null for a value that is not a JSON object: %j', (text) => {
    expect(parsePartitionMeta(text)).toBeNull();
  });

  it.each([
    ['replicas missing', { replicas: undefined }],
    ['replicas empty', { replicas: [] }],
    ['replicas not a list', { replicas: 2 }],
    ['replicas null', { replicas: null }],
    ['a replica negative', { replicas: [2, -1, 3] }],
    ['a replica fractional', { replicas: [2, 1.5] }],
    ['a replica a string', { replicas: ['2', 1] }],
    ['a replica null', { replicas: [2, null] }],
    ['isr missing', { isr: undefined }],
    ['isr null', { isr: null }],
    ['isr not a list', { isr: '2,3' }],
    ['an isr member negative', { isr: [2, -3] }],
    ['an isr member a string', { isr: ['2'] }],
    ['leader missing', { leader: undefined }],
    ['leader below -1', { leader: -2 }],
    ['leader fractional', { leader: 1.5 }],
    ['leader a string', { leader: '2' }],
    ['leader null', { leader: null }],
    ['leaderEpoch missing', { leaderEpoch: undefined }],
    ['leaderEpoch fractional', { leaderEpoch: 0.5 }],
    ['leaderEpoch a string', { leaderEpoch: '4' }],
    ['leaderEpoch null', { leaderEpoch: null }],
    ['leaderRegistration missing', { leaderRegistration: undefined }],
    ['leaderRegistration a string', { leaderRegistration: '1234' }],
    ['leaderRegistration fractional', { leaderRegistration: 12.5 }],
  ] as const)('null when %s', (_, changes) => {
    expect(parsePartitionMeta(withFields(PARTITION, changes))).toBeNull();
  });

  // Epochs start at 0 and only grow (partition-controller.ts), and etcd revisions are never negative: a
  // negative one is a value no Freshet wrote. Followers send the epoch in every replica fetch, where a
  // negative one is INVALID_REQUEST (replica-protocol.ts), so it must be skipped here, not followed.
  it.each([
    ['leaderEpoch negative', { leaderEpoch: -1 }],
    ['leaderRegistration negative', { leaderRegistration: -5 }],
  ] as const)('null when %s', (_, changes) => {
    expect(parsePartitionMeta(withFields(PARTITION, changes))).toBeNull();
  });
});

describe('clusterKeys: topics and partitions', () => {
  const keys = clusterKeys('prod');

  it('lays the keys out under the cluster root', () => {
    expect(keys.topicsPrefix).toBe('/freshet/prod/topics/');
    expect(keys.topic('orders')).toBe('/freshet/prod/topics/orders');
    expect(keys.partitionsPrefix).toBe('/freshet/prod/partitions/');
    expect(keys.topicPartitionsPrefix('orders')).toBe('/freshet/prod/partitions/orders/');
    expect(keys.partition('orders', 0)).toBe('/freshet/prod/partitions/orders/0');
    expect(keys.partition('orders', 11)).toBe('/freshet/prod/partitions/orders/11');
  });

  it('nests every key under its prefixes, and each prefix under the root', () => {
    for (const prefix of [keys.topicsPrefix, keys.partitionsPrefix, keys.topicPartitionsPrefix('t')]) {
      expect(prefix.startsWith(keys.root)).toBe(true);
      expect(prefix.endsWith('/')).toBe(true);
    }
    expect(keys.topic('t').startsWith(keys.topicsPrefix)).toBe(true);
    expect(keys.topicPartitionsPrefix('t').startsWith(keys.partitionsPrefix)).toBe(true);
    expect(keys.partition('t', 3).startsWith(keys.topicPartitionsPrefix('t'))).toBe(true);
  });

  it("keeps topics, partitions and brokers apart, and one topic's prefix off another's partitions", () => {
    const all = [
      keys.topic('orders'),
      keys.partition('orders', 0),
      keys.broker(1),
      keys.controller,
      keys.controllerEpoch,
    ];
    expect(all.filter((k) => k.startsWith(keys.topicsPrefix))).toEqual([keys.topic('orders')]);
    expect(all.filter((k) => k.startsWith(keys.partitionsPrefix))).toEqual([keys.partition('orders', 0)]);
    expect(all.filter((k) => k.startsWith(keys.brokersPrefix))).toEqual([keys.broker(1)]);
    // "orders" is a prefix of the name "orders2" but not of its keys.
    expect(keys.partition('orders2', 0).startsWith(keys.topicPartitionsPrefix('orders'))).toBe(false);
    expect(keys.topic('orders2').startsWith(`${keys.topic('orders')}/`)).toBe(false);
  });

  it("keeps one cluster's keys out of another's whose name extends it", () => {
    const other = clusterKeys('prod2');
    for (const key of [other.topicsPrefix, other.partition('orders', 0), other.topic('orders')]) {
      expect(key.startsWith(keys.root)).toBe(false);
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(keys)).toBe(true);
  });
});
