/**
 * The Kafka door in a cluster, over an in-process engine seen through a cluster view: Metadata and
 * DescribeCluster list the live brokers with a Kafka listener, and each partition's leader, epoch,
 * replicas, isr and offline replicas; a partition without a reachable leader is LEADER_NOT_AVAILABLE;
 * CreateTopics hands the replication factor to the engine; Fetch (v12+, endpoints v16) and Produce (v10)
 * answer NOT_LEADER_OR_FOLLOWER with the current leader. No real cluster runs inside these unit tests, so
 * the view is a thin wrapper over the real engine (end-to-end cluster tests boot real brokers).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerInfo, Engine, PartitionState, TopicDescription } from '../../../src/ipc/engine.ts';
import type { KafkaContext } from '../../../src/kafka/api.ts';
import { createTopicsApi } from '../../../src/kafka/apis/create-topics.ts';
import { describeClusterApi } from '../../../src/kafka/apis/describe-cluster.ts';
import { fetchApi } from '../../../src/kafka/apis/fetch.ts';
import { listOffsetsApi } from '../../../src/kafka/apis/list-offsets.ts';
import { metadataApi } from '../../../src/kafka/apis/metadata.ts';
import { produceApi } from '../../../src/kafka/apis/produce.ts';
import type {
  CreateTopicsRequest,
  FetchRequest,
  MetadataRequest,
  ProduceRequest,
} from '../../../src/kafka/generated/messages.ts';
import { BrokerError, ERRORS } from '../../../src/shared/errors.ts';
import { batchOf, call, createHarness, type Harness } from './support.ts';

const { LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, INVALID_REPLICATION_FACTOR, FENCED_LEADER_EPOCH } =
  ERRORS;

/** Nodes 0 (the harness's door), 1 and 2 with Kafka listeners; 3 is live but HTTP only; 4 is down. */
const BROKERS: BrokerInfo[] = [
  { nodeId: 2, host: 'broker-2', httpPort: 8082, kafkaPort: 9092, rack: 'b' },
  { nodeId: 0, host: 'broker-0', httpPort: 8080, kafkaPort: 9092, rack: 'a' },
  { nodeId: 1, host: 'broker-1', httpPort: 8081, kafkaPort: 9093, rack: null },
  { nodeId: 3, host: 'broker-3', httpPort: 8083, kafkaPort: null, rack: null },
];
const KAFKA_BROKERS = [
  { nodeId: 0, host: 'broker-0', port: 9092, rack: 'a' },
  { nodeId: 1, host: 'broker-1', port: 9093, rack: null },
  { nodeId: 2, host: 'broker-2', port: 9092, rack: 'b' },
];

type Replication = Required<Pick<PartitionState, 'leader' | 'leaderEpoch' | 'replicas' | 'isr'>>;

/** Topic 't', partition by partition: led here, led by 1 (a replica down), leaderless, led by HTTP-only 3. */
const LAYOUT: Record<string, Replication[]> = {
  t: [
    { leader: 0, leaderEpoch: 2, replicas: [0, 1, 2], isr: [0, 1] },
    { leader: 1, leaderEpoch: 5, replicas: [1, 2, 4], isr: [1, 2] },
    { leader: -1, leaderEpoch: 7, replicas: [2, 4], isr: [] },
    { leader: 3, leaderEpoch: 1, replicas: [3, 0], isr: [3, 0] },
  ],
};

/**
 * The real engine as a broker of the cluster above would show it: `brokers()` lists BROKERS,
 * `describeTopic` adds the layout's replication fields, and produce, fetch and listOffsets refuse the
 * partitions this node (0) does not lead, as the cluster's engine does. `overrides` replace methods.
 */
function clusterView(engine: Engine, overrides: Partial<Engine> = {}): Engine {
  const leaderOf = (topic: string, partition: number) => LAYOUT[topic]?.[partition]?.leader ?? 0;
  const refuse = (topic: string, partition: number) => {
    const leader = leaderOf(topic, partition);
    if (leader === -1) throw new BrokerError('LEADER_NOT_AVAILABLE', `${topic}-${partition} has no leader`);
    if (leader !== 0)
      throw new BrokerError('NOT_LEADER_OR_FOLLOWER', `${topic}-${partition} is led by ${leader}`);
  };
  const view: Partial<Engine> = {
    brokers: () => BROKERS,
    async describeTopic(name: string): Promise<TopicDescription> {
      const description = await engine.describeTopic(name);
      return {
        ...description,
        partitions: description.partitions.map((p) => ({ ...p, ...LAYOUT[name]?.[p.partition] })),
      };
    },
    async produce(request) {
      refuse(request.topic, request.partition);
      return engine.produce(request);
    },
    async fetchRaw(request) {
      refuse(request.topic, request.partition);
      return engine.fetchRaw(request);
    },
    async listOffset(topic, partition, spec) {
      refuse(topic, partition);
      return engine.listOffset(topic, partition, spec);
    },
    ...overrides,
  };
  return new Proxy(engine, {
    get(target, key) {
      if (key in view) return view[key as keyof Engine];
      const value = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Topics by name, or null for every topic; the rest left at their defaults, which every version takes. */
function metadataRequest(topics: string[] | null): MetadataRequest {
  return { topics: topics === null ? null : topics.map((name) => ({ name })) };
}

function creatable(
  name: string,
  replicationFactor: number,
  numPartitions = 1,
): CreateTopicsRequest.CreatableTopic {
  return { name, numPartitions, replicationFactor, assignments: [], configs: [] };
}

/** Partitions of 't' from offset 0: by name (v4-12), or by `topicId` (v13+). */
function fetchRequest(partitions: number[], topicId?: string): FetchRequest {
  return {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 1,
    maxBytes: 50 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        ...(topicId === undefined ? { topic: 't' } : { topicId }),
        partitions: partitions.map((partition) => ({
          partition,
          currentLeaderEpoch: -1,
          fetchOffset: 0,
          lastFetchedEpoch: -1,
          logStartOffset: -1,
          partitionMaxBytes: 1 << 20,
        })),
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  };
}

function produceRequest(partitions: number[]): ProduceRequest {
  return {
    transactionalId: null,
    acks: -1,
    timeoutMs: 5_000,
    topicData: [{ name: 't', partitionData: partitions.map((index) => ({ index, records: batchOf(1) })) }],
  };
}

let h: Harness;
let ctx: KafkaContext;

beforeEach(async () => {
  h = await createHarness();
  await h.engine.createTopic('t', 4);
  ctx = { ...h.ctx, engine: clusterView(h.engine) };
});
afterEach(async () => {
  await h.close();
});

describe('Metadata in a cluster', () => {
  it.each([1, 9, 12])('v%i lists the live brokers with a Kafka listener, by node id', async (version) => {
    const answer = await call(metadataApi, version, metadataRequest(null), ctx);
    expect(answer!.brokers).toEqual(KAFKA_BROKERS);
    expect(answer!.controllerId).toBe(0);
    expect(answer!.topics.map((t) => [t.name, t.errorCode])).toEqual([['t', 0]]);
  });

  it('v0 lists the brokers without their racks', async () => {
    const answer = await call(metadataApi, 0, { topics: [] }, ctx);
    expect(answer!.brokers.map((b) => [b.nodeId, b.host, b.port])).toEqual(
      KAFKA_BROKERS.map((b) => [b.nodeId, b.host, b.port]),
    );
  });

  it.each([9, 12])(
    'v%i gives each partition its leader, epoch, replicas, isr and offline replicas',
    async (version) => {
      const answer = await call(metadataApi, version, metadataRequest(['t']), ctx);
      expect(answer!.topics[0]!.partitions).toEqual([
        {
          errorCode: 0,
          partitionIndex: 0,
          leaderId: 0,
          leaderEpoch: 2,
          replicaNodes: [0, 1, 2],
          isrNodes: [0, 1],
          offlineReplicas: [],
        },
        {
          errorCode: 0,
          partitionIndex: 1,
          leaderId: 1,
          leaderEpoch: 5,
          replicaNodes: [1, 2, 4],
          isrNodes: [1, 2],
          offlineReplicas: [4],
        },
        // No leader elected: LEADER_NOT_AVAILABLE, with what else is known.
        {
          errorCode: LEADER_NOT_AVAILABLE.code,
          partitionIndex: 2,
          leaderId: -1,
          leaderEpoch: 7,
          replicaNodes: [2, 4],
          isrNodes: [],
          offlineReplicas: [4],
        },
        // Led by a live broker that has no Kafka listener: no client can go there.
        {
          errorCode: LEADER_NOT_AVAILABLE.code,
          partitionIndex: 3,
          leaderId: -1,
          leaderEpoch: 1,
          replicaNodes: [3, 0],
          isrNodes: [3, 0],
          offlineReplicas: [],
        },
      ]);
    },
  );

  it('v1 has the leaders, replicas and isr, without the epoch and offline replicas', async () => {
    const answer = await call(metadataApi, 1, metadataRequest(['t']), ctx);
    expect(
      answer!.topics[0]!.partitions.map((p) => [p.errorCode, p.leaderId, p.replicaNodes, p.isrNodes]),
    ).toEqual([
      [0, 0, [0, 1, 2], [0, 1]],
      [0, 1, [1, 2, 4], [1, 2]],
      [LEADER_NOT_AVAILABLE.code, -1, [2, 4], []],
      [LEADER_NOT_AVAILABLE.code, -1, [3, 0], [3, 0]],
    ]);
  });

  it('leaves out a topic deleted while every topic is listed, and answers one asked for by name', async () => {
    await h.engine.createTopic('gone', 1);
    const vanishing = clusterView(h.engine, {
      describeTopic: async (name: string) => {
        if (name === 'gone')
          throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
        return h.engine.describeTopic(name);
      },
    });
    const every = await call(metadataApi, 12, metadataRequest(null), { ...ctx, engine: vanishing });
    expect(every!.topics.map((t) => t.name)).toEqual(['t']);
    const named = await call(metadataApi, 12, metadataRequest(['gone']), { ...ctx, engine: vanishing });
    expect(named!.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ['gone', ERRORS.UNKNOWN_TOPIC_OR_PARTITION.code],
    ]);
  });

  it('lists the door itself while it knows no live broker (before joining its cluster)', async () => {
    const unjoined = clusterView(h.engine, { brokers: () => [] });
    const answer = await call(metadataApi, 12, metadataRequest(['t']), { ...ctx, engine: unjoined });
    expect(answer!.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: 19092, rack: null }]);
    // Every replica is offline, as far as this broker knows.
    expect(answer!.topics[0]!.partitions[1]).toMatchObject({ leaderId: -1, offlineReplicas: [1, 2, 4] });
  });

  it('on a single broker still names the door itself as the one leader', async () => {
    const answer = await call(metadataApi, 12, metadataRequest(['t']), h.ctx);
    expect(answer!.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: 19092, rack: null }]);
    expect(answer!.topics[0]!.partitions[3]).toEqual({
      errorCode: 0,
      partitionIndex: 3,
      leaderId: 0,
      leaderEpoch: 0,
      replicaNodes: [0],
      isrNodes: [0],
      offlineReplicas: [],
    });
  });
});

describe('DescribeCluster in a cluster', () => {
  it.each([0, 1])('v%i lists the same brokers as Metadata', async (version) => {
    const answer = await call(
      describeClusterApi,
      version,
      { includeClusterAuthorizedOperations: false },
      ctx,
    );
    expect(answer!.errorCode).toBe(0);
    expect(answer!.brokers).toEqual(
      KAFKA_BROKERS.map(({ nodeId, host, port, rack }) => ({ brokerId: nodeId, host, port, rack })),
    );
  });
});

describe('CreateTopics and the replication factor', () => {
  it('hands the factor to the engine: a single broker refuses 3, takes 1 and the default', async () => {
    const answer = await call(
      createTopicsApi,
      5,
      {
        topics: [creatable('rf3', 3), creatable('rf1', 1), creatable('default', -1), creatable('rf0', 0)],
        timeoutMs: 1_000,
        validateOnly: false,
      },
      h.ctx,
    );
    expect(answer!.topics.map((t) => [t.name, t.errorCode, t.replicationFactor])).toEqual([
      ['rf3', INVALID_REPLICATION_FACTOR.code, -1],
      ['rf1', 0, 1],
      ['default', 0, 1],
      ['rf0', INVALID_REPLICATION_FACTOR.code, -1],
    ]);
    // The single broker's own message, not the door's.
    expect(answer!.topics[0]!.errorMessage).toMatch(/single broker/);
    expect((await h.engine.listTopics()).map((t) => t.name).sort()).toEqual(['default', 'rf1', 't']);
  });

  it('passes the factor (-1 as the default) and answers the replica count created', async () => {
    const asked: Array<number | undefined> = [];
    const engine = clusterView(h.engine, {
      async createTopic(name, partitions, config, replicationFactor) {
        asked.push(replicationFactor);
        const description = await h.engine.createTopic(name, partitions, config);
        const replicas = [1, 2, 0].slice(0, replicationFactor ?? 2);
        return {
          ...description,
          partitions: description.partitions.map((p) => ({
            ...p,
            leader: 1,
            leaderEpoch: 0,
            replicas,
            isr: replicas,
          })),
        };
      },
    });
    const answer = await call(
      createTopicsApi,
      7,
      {
        topics: [creatable('three', 3, 2), creatable('default', -1)],
        timeoutMs: 1_000,
        validateOnly: false,
      },
      { ...ctx, engine },
    );
    expect(asked).toEqual([3, undefined]);
    expect(answer!.topics.map((t) => [t.name, t.errorCode, t.numPartitions, t.replicationFactor])).toEqual([
      ['three', 0, 2, 3],
      ['default', 0, 1, 2],
    ]);
  });

  it('validateOnly takes 1 up to the live broker count, and -1 as an unknown default', async () => {
    const answer = await call(
      createTopicsApi,
      5,
      {
        topics: [creatable('four', 4), creatable('five', 5), creatable('default', -1), creatable('zero', 0)],
        timeoutMs: 1_000,
        validateOnly: true,
      },
      ctx,
    );
    expect(answer!.topics.map((t) => [t.name, t.errorCode, t.replicationFactor])).toEqual([
      ['four', 0, 4],
      ['five', INVALID_REPLICATION_FACTOR.code, -1],
      ['default', 0, -1],
      ['zero', INVALID_REPLICATION_FACTOR.code, -1],
    ]);
    const single = await call(
      createTopicsApi,
      5,
      { topics: [creatable('two', 2), creatable('default', -1)], timeoutMs: 1_000, validateOnly: true },
      h.ctx,
    );
    expect(single!.topics.map((t) => [t.name, t.errorCode, t.replicationFactor])).toEqual([
      ['two', INVALID_REPLICATION_FACTOR.code, -1],
      ['default', 0, 1],
    ]);
    expect((await h.engine.listTopics()).map((t) => t.name)).toEqual(['t']);
  });
});

describe('Fetch, Produce and ListOffsets on partitions led elsewhere', () => {
  it('Fetch v16 answers NOT_LEADER_OR_FOLLOWER with the leader and its endpoint', async () => {
    await h.engine.produce({ topic: 't', partition: 0, batches: batchOf(2), acks: -1 });
    const topicId = h.engine.topicId('t')!;
    const answer = await call(fetchApi, 16, fetchRequest([0, 1, 2, 3], topicId), ctx);
    const [led, elsewhere, leaderless, unreachable] = answer!.responses[0]!.partitions;
    expect(led).toMatchObject({
      errorCode: 0,
      highWatermark: 2,
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
    });
    expect(elsewhere).toMatchObject({
      errorCode: NOT_LEADER_OR_FOLLOWER.code,
      currentLeader: { leaderId: 1, leaderEpoch: 5 },
    });
    // LEADER_NOT_AVAILABLE names nobody: the client waits for Metadata to show a leader.
    expect(leaderless).toMatchObject({
      errorCode: LEADER_NOT_AVAILABLE.code,
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
    });
    // The leader is named even without a Kafka endpoint to list (as Kafka does).
    expect(unreachable).toMatchObject({
      errorCode: NOT_LEADER_OR_FOLLOWER.code,
      currentLeader: { leaderId: 3, leaderEpoch: 1 },
    });
    expect(answer!.nodeEndpoints).toEqual([{ nodeId: 1, host: 'broker-1', port: 9093, rack: null }]);
  });

  it('Fetch v12 names the leader without endpoints, also on FENCED_LEADER_EPOCH', async () => {
    const fenced = clusterView(h.engine, {
      fetchRaw: () => Promise.reject(new BrokerError('FENCED_LEADER_EPOCH', 'epoch 4 is older than 5')),
    });
    const answer = await call(fetchApi, 12, fetchRequest([1]), { ...ctx, engine: fenced });
    expect(answer!.responses[0]!.partitions[0]).toMatchObject({
      errorCode: FENCED_LEADER_EPOCH.code,
      currentLeader: { leaderId: 1, leaderEpoch: 5 },
    });
    expect(answer!.nodeEndpoints).toEqual([]);
    // Before v12 there is no currentLeader (decoded: the default).
    const v11 = await call(fetchApi, 11, fetchRequest([1]), ctx);
    expect(v11!.responses[0]!.partitions[0]).toMatchObject({
      errorCode: NOT_LEADER_OR_FOLLOWER.code,
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
    });
  });

  it('a leader that cannot be described is unknown', async () => {
    const blind = clusterView(h.engine, {
      describeTopic: () => Promise.reject(new BrokerError('NOT_LEADER_OR_FOLLOWER', 'shutting down')),
    });
    const answer = await call(fetchApi, 16, fetchRequest([1], h.engine.topicId('t')!), {
      ...ctx,
      engine: blind,
    });
    expect(answer!.responses[0]!.partitions[0]).toMatchObject({
      errorCode: NOT_LEADER_OR_FOLLOWER.code,
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
    });
    expect(answer!.nodeEndpoints).toEqual([]);
  });

  it('Produce v10 answers NOT_LEADER_OR_FOLLOWER with the leader and its endpoint; v9 without', async () => {
    const answer = await call(produceApi, 10, produceRequest([0, 1, 3]), ctx);
    expect(answer!.responses[0]!.partitionResponses).toMatchObject([
      { index: 0, errorCode: 0, baseOffset: 0, currentLeader: { leaderId: -1, leaderEpoch: -1 } },
      { index: 1, errorCode: NOT_LEADER_OR_FOLLOWER.code, currentLeader: { leaderId: 1, leaderEpoch: 5 } },
      { index: 3, errorCode: NOT_LEADER_OR_FOLLOWER.code, currentLeader: { leaderId: 3, leaderEpoch: 1 } },
    ]);
    expect(answer!.nodeEndpoints).toEqual([{ nodeId: 1, host: 'broker-1', port: 9093, rack: null }]);
    const v9 = await call(produceApi, 9, produceRequest([1]), ctx);
    expect(v9!.responses[0]!.partitionResponses[0]).toMatchObject({
      errorCode: NOT_LEADER_OR_FOLLOWER.code,
      currentLeader: { leaderId: -1, leaderEpoch: -1 },
    });
    expect(v9!.nodeEndpoints).toEqual([]);
  });

  it('ListOffsets v4+ answers an unknown offset epoch in a cluster, 0 on a single broker', async () => {
    await h.engine.produce({ topic: 't', partition: 0, batches: batchOf(3), acks: -1 });
    const request = {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 't',
          partitions: [0, 1].map((partitionIndex) => ({
            partitionIndex,
            currentLeaderEpoch: -1,
            timestamp: -1,
          })),
        },
      ],
    };
    const cluster = await call(listOffsetsApi, 4, request, ctx);
    expect(cluster!.topics[0]!.partitions).toMatchObject([
      { partitionIndex: 0, errorCode: 0, offset: 3, leaderEpoch: -1 },
      { partitionIndex: 1, errorCode: NOT_LEADER_OR_FOLLOWER.code, offset: -1 },
    ]);
    const single = await call(listOffsetsApi, 4, request, h.ctx);
    expect(single!.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, offset: 3, leaderEpoch: 0 });
  });
});
