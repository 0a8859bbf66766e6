/**
 * The Kafka admin APIs over an in-process engine, through the codec: CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs, AlterConfigs, IncrementalAlterConfigs and DescribeCluster.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OFFSETS_TOPIC as COORDINATOR_OFFSETS_TOPIC } from '../../../src/coordinator/group-records.ts';
import { MAX_PARTITIONS_PER_TOPIC as REGISTRY_MAX } from '../../../src/coordinator/topic-registry.ts';
import { alterConfigsApi } from '../../../src/kafka/apis/alter-configs.ts';
import { createPartitionsApi } from '../../../src/kafka/apis/create-partitions.ts';
import {
  createTopicsApi,
  MAX_PARTITIONS_PER_TOPIC,
  OFFSETS_TOPIC,
} from '../../../src/kafka/apis/create-topics.ts';
import { deleteTopicsApi } from '../../../src/kafka/apis/delete-topics.ts';
import { describeClusterApi } from '../../../src/kafka/apis/describe-cluster.ts';
import { CONFIG_SOURCE, describeConfigsApi } from '../../../src/kafka/apis/describe-configs.ts';
import { incrementalAlterConfigsApi } from '../../../src/kafka/apis/incremental-alter-configs.ts';
import type { CreateTopicsRequest } from '../../../src/kafka/generated/messages.ts';
import { ERRORS } from '../../../src/shared/errors.ts';
import { call, createHarness, type Harness } from './support.ts';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const TOPIC = 2;
const BROKER = 4;

function topic(
  name: string,
  options: Partial<Omit<CreateTopicsRequest.CreatableTopic, 'configs'>> & {
    configs?: Record<string, string | null>;
  } = {},
): CreateTopicsRequest.CreatableTopic {
  return {
    name,
    numPartitions: options.numPartitions ?? 1,
    replicationFactor: options.replicationFactor ?? -1,
    assignments: options.assignments ?? [],
    configs: Object.entries(options.configs ?? {}).map(([n, value]) => ({ name: n, value })),
  };
}

let h: Harness;

beforeEach(async () => {
  h = await createHarness({ config: { defaultPartitions: 3 } });
});
afterEach(async () => {
  await h.close();
});

describe('CreateTopics', () => {
  it('keeps the validateOnly constants equal to the registry and coordinator ones', () => {
    expect(MAX_PARTITIONS_PER_TOPIC).toBe(REGISTRY_MAX);
    expect(OFFSETS_TOPIC).toBe(COORDINATOR_OFFSETS_TOPIC);
  });

  it.each([0, 1, 4])('v%i creates topics, default partitions for -1', async (version) => {
    const answer = await call(
      createTopicsApi,
      version,
      {
        topics: [topic('a', { numPartitions: 2 }), topic('b', { numPartitions: -1 })],
        timeoutMs: 1000,
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
    expect((await h.engine.describeTopic('a')).partitions).toHaveLength(2);
    expect((await h.engine.describeTopic('b')).partitions).toHaveLength(3);
  });

  it('v5+ answers the partitions, replication factor and configs; v7 the new topic id', async () => {
    const answer = await call(
      createTopicsApi,
      7,
      {
        topics: [
          topic('c', { numPartitions: -1, replicationFactor: 1, configs: { 'retention.ms': '1000' } }),
        ],
        timeoutMs: 1000,
        validateOnly: false,
      },
      h.ctx,
    );
    const t = answer!.topics[0]!;
    expect(t).toMatchObject({
      name: 'c',
      errorCode: 0,
      numPartitions: 3,
      replicationFactor: 1,
      topicId: (await h.engine.describeTopic('c')).topicId,
    });
    expect(t.topicId).not.toBe(ZERO_UUID);
    const retention = t.configs!.find((c) => c.name === 'retention.ms');
    expect(retention).toMatchObject({ value: '1000', configSource: 1, readOnly: false, isSensitive: false });
    expect(t.configs!.find((c) => c.name === 'segment.bytes')!.configSource).toBe(5);
  });

  it('validateOnly checks everything and creates nothing', async () => {
    await h.engine.createTopic('exists', 1);
    const answer = await call(
      createTopicsApi,
      5,
      {
        topics: [
          topic('ok', { configs: { 'retention.ms': '5000' } }),
          topic('exists'),
          topic('bad config', {}),
          topic('cfg', { configs: { 'cleanup.policy': 'compact' } }),
          topic('many', { numPartitions: MAX_PARTITIONS_PER_TOPIC + 1 }),
          topic(OFFSETS_TOPIC),
        ],
        timeoutMs: 1000,
        validateOnly: true,
      },
      h.ctx,
    );
    expect(answer!.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['ok', 0],
      ['exists', ERRORS.TOPIC_ALREADY_EXISTS.code],
      ['bad config', ERRORS.INVALID_TOPIC_EXCEPTION.code],
      ['cfg', ERRORS.INVALID_CONFIG.code],
      ['many', ERRORS.INVALID_PARTITIONS.code],
      [OFFSETS_TOPIC, ERRORS.INVALID_TOPIC_EXCEPTION.code],
    ]);
    expect(answer!.topics[0]).toMatchObject({ numPartitions: 1, replicationFactor: 1 });
    expect((await h.engine.listTopics()).map((t) => t.name)).toEqual(['exists']);
  });

  it('refuses what a single broker cannot do, with messages', async () => {
    await h.engine.createTopic('exists', 1);
    const answer = await call(
      createTopicsApi,
      4,
      {
        topics: [
          topic('rf3', { replicationFactor: 3 }),
          topic('zero', { numPartitions: 0 }),
          topic('manual', { numPartitions: -1, assignments: [{ partitionIndex: 0, brokerIds: [0] }] }),
          topic('unknown', { configs: { 'cleanup.policy': 'compact' } }),
          topic('badvalue', { configs: { 'retention.ms': 'soon' } }),
          topic('nullvalue', { configs: { 'retention.ms': null } }),
          topic('exists'),
          topic('twice'),
          topic('twice'),
        ],
        timeoutMs: 1000,
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['rf3', ERRORS.INVALID_REPLICATION_FACTOR.code],
      ['zero', ERRORS.INVALID_PARTITIONS.code],
      ['manual', ERRORS.INVALID_REQUEST.code],
      ['unknown', ERRORS.INVALID_CONFIG.code],
      ['badvalue', ERRORS.INVALID_CONFIG.code],
      ['nullvalue', ERRORS.INVALID_CONFIG.code],
      ['exists', ERRORS.TOPIC_ALREADY_EXISTS.code],
      ['twice', ERRORS.INVALID_REQUEST.code],
      ['twice', ERRORS.INVALID_REQUEST.code],
    ]);
    expect(answer!.topics[0]!.errorMessage).toMatch(/single broker/);
    expect(answer!.topics[3]!.errorMessage).toMatch(/min\.insync\.replicas/);
    expect((await h.engine.listTopics()).map((t) => t.name)).toEqual(['exists']);
  });
});

describe('DeleteTopics', () => {
  it.each([0, 3, 5])(
    'v%i deletes by name; unknown topics are UNKNOWN_TOPIC_OR_PARTITION',
    async (version) => {
      await h.engine.createTopic('a', 1);
      const answer = await call(
        deleteTopicsApi,
        version,
        { topicNames: ['a', 'nope'], timeoutMs: 1000 },
        h.ctx,
      );
      expect(answer!.responses.map((r) => [r.name, r.errorCode])).toEqual([
        ['a', 0],
        ['nope', ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
      ]);
      if (version >= 5) expect(answer!.responses[1]!.errorMessage).toMatch(/nope/);
      expect(await h.engine.listTopics()).toEqual([]);
    },
  );

  it('v6 deletes by name, and answers UNKNOWN_TOPIC_ID for an id no topic has', async () => {
    await h.engine.createTopic('a', 1);
    const id = '5b6a2a3e-0000-4000-8000-000000000001';
    const answer = await call(
      deleteTopicsApi,
      6,
      {
        topics: [
          { name: 'a', topicId: ZERO_UUID },
          { name: null, topicId: id },
        ],
        timeoutMs: 1000,
      },
      h.ctx,
    );
    expect(answer!.responses).toEqual([
      { name: 'a', topicId: ZERO_UUID, errorCode: 0, errorMessage: null },
      { name: null, topicId: id, errorCode: ERRORS.UNKNOWN_TOPIC_ID.code, errorMessage: expect.any(String) },
    ]);
  });
});

describe('CreatePartitions', () => {
  it.each([0, 1, 2, 3])(
    'v%i grows a topic; shrinking, unknown topics and manual assignments fail',
    async (version) => {
      await h.engine.createTopic('a', 2);
      await h.engine.createTopic('b', 2);
      const answer = await call(
        createPartitionsApi,
        version,
        {
          topics: [
            { name: 'a', count: 4, assignments: null },
            { name: 'b', count: 1, assignments: null },
            { name: 'nope', count: 3, assignments: null },
          ],
          timeoutMs: 1000,
          validateOnly: false,
        },
        h.ctx,
      );
      expect(answer!.results.map((r) => [r.name, r.errorCode])).toEqual([
        ['a', 0],
        ['b', ERRORS.INVALID_PARTITIONS.code],
        ['nope', ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
      ]);
      expect(answer!.results[0]!.errorMessage).toBeNull();
      expect((await h.engine.describeTopic('a')).partitions).toHaveLength(4);
      const manual = await call(
        createPartitionsApi,
        version,
        {
          topics: [{ name: 'b', count: 3, assignments: [{ brokerIds: [0] }] }],
          timeoutMs: 1000,
          validateOnly: false,
        },
        h.ctx,
      );
      expect(manual!.results[0]!.errorCode).toBe(ERRORS.INVALID_REQUEST.code);
    },
  );

  it('validateOnly checks the count and changes nothing', async () => {
    await h.engine.createTopic('a', 2);
    const answer = await call(
      createPartitionsApi,
      2,
      {
        topics: [
          { name: 'a', count: 5, assignments: null },
          { name: 'a', count: 2, assignments: null },
        ],
        timeoutMs: 1000,
        validateOnly: true,
      },
      h.ctx,
    );
    // Listed twice: both refused, as Kafka does.
    expect(answer!.results.map((r) => r.errorCode)).toEqual([
      ERRORS.INVALID_REQUEST.code,
      ERRORS.INVALID_REQUEST.code,
    ]);
    const one = await call(
      createPartitionsApi,
      2,
      { topics: [{ name: 'a', count: 5, assignments: null }], timeoutMs: 1000, validateOnly: true },
      h.ctx,
    );
    expect(one!.results[0]!.errorCode).toBe(0);
    const shrink = await call(
      createPartitionsApi,
      2,
      { topics: [{ name: 'a', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: true },
      h.ctx,
    );
    expect(shrink!.results[0]!.errorCode).toBe(ERRORS.INVALID_PARTITIONS.code);
    expect((await h.engine.describeTopic('a')).partitions).toHaveLength(2);
  });
});

describe('DescribeConfigs', () => {
  beforeEach(async () => {
    await h.engine.createTopic('t', 1, { 'retention.ms': '60000' });
  });

  it('v0 lists every topic setting with isDefault', async () => {
    const answer = await call(
      describeConfigsApi,
      0,
      { resources: [{ resourceType: TOPIC, resourceName: 't', configurationKeys: null }] },
      h.ctx,
    );
    const result = answer!.results[0]!;
    expect(result).toMatchObject({
      errorCode: 0,
      errorMessage: null,
      resourceType: TOPIC,
      resourceName: 't',
    });
    const byName = new Map(result.configs.map((c) => [c.name, c]));
    expect(byName.get('retention.ms')).toMatchObject({ value: '60000', isDefault: false, readOnly: false });
    expect(byName.get('segment.bytes')).toMatchObject({ value: String(1024 ** 3), isDefault: true });
    expect(byName.get('flush.ms')!.value).toBe('9223372036854775807');
    expect(byName.get('flush.policy')!.value).toBe('interval');
    expect(result.configs.length).toBeGreaterThanOrEqual(9);
  });

  it('v1-v4 give the source, synonyms, types and documentation; keys filter the list', async () => {
    for (const version of [1, 2, 3, 4]) {
      const answer = await call(
        describeConfigsApi,
        version,
        {
          resources: [
            { resourceType: TOPIC, resourceName: 't', configurationKeys: ['retention.ms', 'segment.bytes'] },
          ],
          includeSynonyms: true,
          ...(version >= 3 ? { includeDocumentation: true } : {}),
        },
        h.ctx,
      );
      const configs = answer!.results[0]!.configs;
      expect(configs.map((c) => [c.name, c.configSource])).toEqual([
        ['segment.bytes', 5],
        ['retention.ms', 1],
      ]);
      expect(configs[1]!.synonyms).toEqual([{ name: 'retention.ms', value: '60000', source: 1 }]);
      if (version >= 3) {
        expect(configs.map((c) => c.configType)).toEqual([3, 5]);
        expect(configs[1]!.documentation).toMatch(/delete/);
      }
    }
  });

  it('answers brokers with an empty list, and refuses unknown topics, other brokers and resource types', async () => {
    const answer = await call(
      describeConfigsApi,
      2,
      {
        resources: [
          { resourceType: BROKER, resourceName: '0', configurationKeys: null },
          { resourceType: BROKER, resourceName: '', configurationKeys: null },
          { resourceType: TOPIC, resourceName: 'nope', configurationKeys: null },
          { resourceType: BROKER, resourceName: '7', configurationKeys: null },
          { resourceType: 16, resourceName: 'x', configurationKeys: null },
        ],
        includeSynonyms: false,
      },
      h.ctx,
    );
    expect(answer!.results.map((r) => [r.errorCode, r.configs.length])).toEqual([
      [0, 0],
      [0, 0],
      [ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code, 0],
      [ERRORS.INVALID_REQUEST.code, 0],
      [ERRORS.INVALID_REQUEST.code, 0],
    ]);
  });
});

describe('AlterConfigs', () => {
  const overrides = async (name: string) => h.engine.topicConfigOverrides(name);

  it.each([0, 1, 2])('v%i sets the whole override set when nothing would be removed', async (version) => {
    await h.engine.createTopic('t', 1, { 'retention.ms': '60000' });
    const answer = await call(
      alterConfigsApi,
      version,
      {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [
              { name: 'retention.ms', value: '120000' },
              { name: 'segment.bytes', value: '1048576' },
            ],
          },
        ],
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.responses[0]).toEqual({
      errorCode: 0,
      errorMessage: null,
      resourceType: TOPIC,
      resourceName: 't',
    });
    expect(await overrides('t')).toEqual({ 'retention.ms': '120000', 'segment.bytes': '1048576' });
    expect((await h.engine.describeTopic('t')).config['retention.ms']).toBe(120000);
  });

  it.each([0, 1, 2])('v%i removes every override the request leaves out or gives null', async (version) => {
    await h.engine.createTopic('t', 1, {
      'retention.ms': '60000',
      'segment.ms': '3600000',
      'flush.policy': 'always',
    });
    const answer = await call(
      alterConfigsApi,
      version,
      {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [
              { name: 'segment.bytes', value: '1048576' },
              { name: 'flush.policy', value: null },
              // Kafka drops a null value, so even an unknown name given null is no error.
              { name: 'no.such.config', value: null },
            ],
          },
        ],
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.responses[0]!.errorCode).toBe(0);
    expect(await overrides('t')).toEqual({ 'segment.bytes': '1048576' });
    // Back to the broker defaults: what a topic without overrides has.
    await h.engine.createTopic('plain', 1);
    const defaults = (await h.engine.describeTopic('plain')).config;
    expect((await h.engine.describeTopic('t')).config).toEqual({ ...defaults, 'segment.bytes': 1048576 });

    // An empty list removes them all.
    const empty = await call(
      alterConfigsApi,
      version,
      { resources: [{ resourceType: TOPIC, resourceName: 't', configs: [] }], validateOnly: false },
      h.ctx,
    );
    expect(empty!.responses[0]!.errorCode).toBe(0);
    expect(await overrides('t')).toEqual({});
  });

  it('refuses bad configs and other resources, leaving the overrides; validateOnly changes nothing', async () => {
    await h.engine.createTopic('t', 1, { 'retention.ms': '60000' });
    const answer = await call(
      alterConfigsApi,
      1,
      {
        resources: [
          { resourceType: TOPIC, resourceName: 'nope', configs: [] },
          { resourceType: BROKER, resourceName: '0', configs: [{ name: 'log.retention.ms', value: '1' }] },
          { resourceType: 8, resourceName: '0', configs: [] },
        ],
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.responses.map((r) => r.errorCode)).toEqual([
      ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code,
      ERRORS.INVALID_CONFIG.code,
      ERRORS.INVALID_REQUEST.code,
    ]);
    const bad = await call(
      alterConfigsApi,
      1,
      {
        resources: [
          // Would also remove retention.ms: refused as a whole, so it stays.
          { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'segment.bytes', value: 'big' }] },
          { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'no.such.config', value: '1' }] },
        ],
        validateOnly: false,
      },
      h.ctx,
    );
    expect(bad!.responses.map((r) => r.errorCode)).toEqual([
      ERRORS.INVALID_CONFIG.code,
      ERRORS.INVALID_CONFIG.code,
    ]);
    expect(await overrides('t')).toEqual({ 'retention.ms': '60000' });
    const dry = await call(
      alterConfigsApi,
      1,
      {
        resources: [
          // Would remove retention.ms and set segment.bytes.
          { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'segment.bytes', value: '1048576' }] },
        ],
        validateOnly: true,
      },
      h.ctx,
    );
    expect(dry!.responses[0]!.errorCode).toBe(0);
    const dryBad = await call(
      alterConfigsApi,
      1,
      {
        resources: [
          { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'segment.bytes', value: '1' }] },
        ],
        validateOnly: true,
      },
      h.ctx,
    );
    expect(dryBad!.responses[0]!.errorCode).toBe(ERRORS.INVALID_CONFIG.code);
    expect(await overrides('t')).toEqual({ 'retention.ms': '60000' });
  });
});

describe('IncrementalAlterConfigs', () => {
  const SET = 0;
  const DELETE = 1;
  const APPEND = 2;

  it.each([0, 1])('v%i: SET changes only what it names; DELETE of a default is a no-op', async (version) => {
    await h.engine.createTopic('t', 1, { 'retention.ms': '60000' });
    const answer = await call(
      incrementalAlterConfigsApi,
      version,
      {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [
              { name: 'segment.ms', configOperation: SET, value: '3600000' },
              { name: 'flush.ms', configOperation: DELETE, value: null },
            ],
          },
        ],
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.responses[0]!.errorCode).toBe(0);
    expect(await h.engine.topicConfigOverrides('t')).toEqual({
      'retention.ms': '60000',
      'segment.ms': '3600000',
    });
  });

  it.each([0, 1])('v%i: DELETE removes an override, back to the broker default', async (version) => {
    await h.engine.createTopic('t', 1, { 'retention.ms': '60000', 'segment.ms': '3600000' });
    const answer = await call(
      incrementalAlterConfigsApi,
      version,
      {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [
              { name: 'retention.ms', configOperation: DELETE, value: null },
              { name: 'segment.bytes', configOperation: SET, value: '1048576' },
              // No override to remove: a no-op, as in Kafka, known setting or not.
              { name: 'flush.ms', configOperation: DELETE, value: null },
              { name: 'no.such.config', configOperation: DELETE, value: null },
            ],
          },
        ],
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.responses[0]).toMatchObject({ errorCode: 0, errorMessage: null });
    expect(await h.engine.topicConfigOverrides('t')).toEqual({
      'segment.ms': '3600000',
      'segment.bytes': '1048576',
    });
    await h.engine.createTopic('plain', 1);
    const defaultRetention = (await h.engine.describeTopic('plain')).config['retention.ms'];
    expect((await h.engine.describeTopic('t')).config['retention.ms']).toBe(defaultRetention);

    const keys = ['retention.ms', 'segment.ms'];
    const v0 = await call(
      describeConfigsApi,
      0,
      { resources: [{ resourceType: TOPIC, resourceName: 't', configurationKeys: keys }] },
      h.ctx,
    );
    const byName = new Map(v0!.results[0]!.configs.map((c) => [c.name, c]));
    expect(byName.get('retention.ms')).toMatchObject({ value: String(defaultRetention), isDefault: true });
    expect(byName.get('segment.ms')).toMatchObject({ value: '3600000', isDefault: false });
    const v1 = await call(
      describeConfigsApi,
      1,
      {
        resources: [{ resourceType: TOPIC, resourceName: 't', configurationKeys: keys }],
        includeSynonyms: false,
      },
      h.ctx,
    );
    expect(
      Object.fromEntries(v1!.results[0]!.configs.map((c) => [c.name, [c.value, c.configSource]])),
    ).toEqual({
      'retention.ms': [String(defaultRetention), CONFIG_SOURCE.DEFAULT_CONFIG],
      'segment.ms': ['3600000', CONFIG_SOURCE.DYNAMIC_TOPIC_CONFIG],
    });
  });

  it('refuses APPEND, bad values and broker changes; all or nothing', async () => {
    await h.engine.createTopic('t', 1, { 'retention.ms': '60000' });
    const answer = await call(
      incrementalAlterConfigsApi,
      1,
      {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [
              { name: 'retention.ms', configOperation: DELETE, value: null },
              { name: 'segment.ms', configOperation: APPEND, value: '3600000' },
            ],
          },
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [
              { name: 'retention.ms', configOperation: DELETE, value: null },
              { name: 'segment.ms', configOperation: SET, value: 'soon' },
            ],
          },
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [{ name: 'retention.ms', configOperation: SET, value: '-5' }],
          },
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [{ name: 'retention.ms', configOperation: 9, value: '5' }],
          },
          {
            resourceType: BROKER,
            resourceName: '',
            configs: [{ name: 'log.retention.ms', configOperation: SET, value: '5' }],
          },
        ],
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.responses.map((r) => r.errorCode)).toEqual([
      ERRORS.INVALID_CONFIG.code,
      ERRORS.INVALID_CONFIG.code,
      ERRORS.INVALID_CONFIG.code,
      ERRORS.INVALID_REQUEST.code,
      ERRORS.INVALID_CONFIG.code,
    ]);
    expect(answer!.responses[0]!.errorMessage).toMatch(/APPEND applies to list settings/);
    expect(await h.engine.topicConfigOverrides('t')).toEqual({ 'retention.ms': '60000' });
  });

  it('validateOnly changes nothing', async () => {
    await h.engine.createTopic('t', 1, { 'segment.ms': '3600000' });
    const answer = await call(
      incrementalAlterConfigsApi,
      1,
      {
        resources: [
          {
            resourceType: TOPIC,
            resourceName: 't',
            configs: [
              { name: 'retention.ms', configOperation: SET, value: '1000' },
              { name: 'segment.ms', configOperation: DELETE, value: null },
            ],
          },
        ],
        validateOnly: true,
      },
      h.ctx,
    );
    expect(answer!.responses[0]!.errorCode).toBe(0);
    expect(await h.engine.topicConfigOverrides('t')).toEqual({ 'segment.ms': '3600000' });
  });
});

describe('DescribeCluster', () => {
  it.each([0, 1])('v%i: one broker, which is the controller', async (version) => {
    const answer = await call(
      describeClusterApi,
      version,
      { includeClusterAuthorizedOperations: false },
      h.ctx,
    );
    expect(answer).toMatchObject({
      errorCode: 0,
      clusterId: 'test-cluster',
      controllerId: 0,
      brokers: [{ brokerId: 0, host: '127.0.0.1', port: 19092, rack: null }],
      clusterAuthorizedOperations: -2147483648,
    });
  });

  it('reports every cluster operation when asked, and refuses the controller endpoint type', async () => {
    const ops = await call(
      describeClusterApi,
      1,
      { includeClusterAuthorizedOperations: true, endpointType: 1 },
      h.ctx,
    );
    const bits = ops!.clusterAuthorizedOperations;
    for (const op of [5, 7, 8, 9, 10, 11, 12]) expect(bits & (1 << op)).not.toBe(0);
    expect(bits & (1 << 3)).toBe(0);
    const controllers = await call(
      describeClusterApi,
      1,
      { includeClusterAuthorizedOperations: false, endpointType: 2 },
      h.ctx,
    );
    expect(controllers!.errorCode).toBe(ERRORS.MISMATCHED_ENDPOINT_TYPE.code);
    const unknown = await call(
      describeClusterApi,
      1,
      { includeClusterAuthorizedOperations: false, endpointType: 9 },
      h.ctx,
    );
    expect(unknown!.errorCode).toBe(ERRORS.UNSUPPORTED_ENDPOINT_TYPE.code);
  });
});
