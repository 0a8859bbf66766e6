/**
 * @module
 * `GET /v1/cluster` and `GET /v1/replicas` with and without their sources, and a cluster's topic fields
 * (replicationFactor in, leader/leaderEpoch/replicas/isr out) through the routes and both codecs, against an
 * engine that answers as a cluster member would.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import type { ClusterStatusBody, ReplicaStatusBody } from '../../src/http/routes/cluster.ts';
import type { Engine, TopicDescription } from '../../src/ipc/engine.ts';
import { createHarness, type Harness, jsonRequest, msgpackRequest } from './support.ts';

const STATUS: ClusterStatusBody = {
  mode: 'etcd',
  nodeId: 2,
  cluster: 'c1',
  controller: { nodeId: 1, epoch: 3 },
  brokers: [
    { nodeId: 1, host: '127.0.0.1', httpPort: 8081, kafkaPort: 9091, rack: null, startedAt: 't1' },
    { nodeId: 2, host: '127.0.0.1', httpPort: 8082, kafkaPort: null, rack: 'r2', startedAt: 't2' },
  ],
  partitions: [
    { topic: 'orders', partition: 0, leader: 1, leaderEpoch: 4, replicas: [1, 2], isr: [1, 2] },
    { topic: 'orders', partition: 1, leader: -1, leaderEpoch: 2, replicas: [2, 1], isr: [] },
  ],
};

const REPLICAS: ReplicaStatusBody = {
  nodeId: 2,
  replicas: [
    {
      topic: 'orders',
      partition: 0,
      role: 'follower',
      leaderEpoch: 4,
      logEndOffset: 10,
      highWatermark: 10,
    },
    {
      topic: 'orders',
      partition: 2,
      role: 'leader',
      leaderEpoch: 1,
      logEndOffset: 7,
      highWatermark: 5,
      followers: [{ nodeId: 1, logEndOffset: 5, inSync: false }],
    },
  ],
};

describe('cluster routes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('answers a single node with no partitions and no replicas by default', async () => {
    const cluster = await jsonRequest(h.app, 'GET', '/v1/cluster');
    expect(cluster.res.status).toBe(200);
    expect(cluster.body).toEqual({
      mode: 'single',
      nodeId: 0,
      cluster: null,
      controller: null,
      brokers: [],
      partitions: [],
    });
    const replicas = await jsonRequest(h.app, 'GET', '/v1/replicas');
    expect(replicas.res.status).toBe(200);
    expect(replicas.body).toEqual({ nodeId: 0, replicas: [] });
    expect((await msgpackRequest(h.app, 'GET', '/v1/replicas')).body).toEqual({ nodeId: 0, replicas: [] });
  });

  it('answers what its sources say, in JSON and msgpack', async () => {
    const app = createApp(h.engine, {
      config: h.config,
      clusterStatus: async () => STATUS,
      replicaStatus: async () => REPLICAS,
    });
    expect((await jsonRequest(app, 'GET', '/v1/cluster')).body).toEqual(STATUS);
    expect((await msgpackRequest(app, 'GET', '/v1/cluster')).body).toEqual(STATUS);
    expect((await jsonRequest(app, 'GET', '/v1/replicas')).body).toEqual(REPLICAS);
    expect((await msgpackRequest(app, 'GET', '/v1/replicas')).body).toEqual(REPLICAS);
  });

  it('passes a source failure through the error handler', async () => {
    const { BrokerError } = await import('../../src/shared/errors.ts');
    const app = createApp(h.engine, {
      config: h.config,
      replicaStatus: async () => {
        throw new BrokerError('REQUEST_TIMED_OUT', 'still joining');
      },
    });
    const { res, body } = await jsonRequest(app, 'GET', '/v1/replicas');
    expect(res.status).toBe(504);
    expect(body.error.code).toBe('REQUEST_TIMED_OUT');
  });
});

describe('topic routes in a cluster', () => {
  let h: Harness;
  let created: unknown[];
  let app: ReturnType<typeof createApp>;

  /** What a cluster member adds to each partition. */
  function asCluster(description: TopicDescription): TopicDescription {
    return {
      ...description,
      partitions: description.partitions.map((p) => ({
        ...p,
        leader: p.partition === 0 ? 2 : -1,
        leaderEpoch: 5,
        replicas: [2, 1, 3],
        isr: p.partition === 0 ? [2, 1] : [],
      })),
    };
  }

  beforeEach(async () => {
    h = await createHarness();
    created = [];
    const engine = h.engine;
    // The real engine, but answering as a cluster member and taking any replication factor.
    const member = new Proxy(engine, {
      get(target, prop) {
        if (prop === 'createTopic') {
          return async (...args: Parameters<Engine['createTopic']>) => {
            created.push(args);
            return asCluster(await target.createTopic(args[0], args[1], args[2]));
          };
        }
        if (prop === 'describeTopic') {
          return async (name: string) => asCluster(await target.describeTopic(name));
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    app = createApp(member, { config: h.config });
  });
  afterEach(() => h.close());

  it('hands replicationFactor to the engine', async () => {
    const { res } = await jsonRequest(app, 'POST', '/v1/topics', {
      name: 'r',
      partitions: 2,
      replicationFactor: 3,
    });
    expect(res.status).toBe(201);
    await jsonRequest(app, 'POST', '/v1/topics', { name: 'd', partitions: 1 });
    expect(created).toEqual([
      ['r', 2, {}, 3],
      ['d', 1, {}, undefined],
    ]);
  });

  it('describes leader, leaderEpoch, replicas and isr in JSON and msgpack', async () => {
    await jsonRequest(app, 'POST', '/v1/topics', { name: 'r', partitions: 2, replicationFactor: 3 });
    const expected = [
      {
        partition: 0,
        logStartOffset: 0,
        highWatermark: 0,
        worker: 0,
        leader: 2,
        leaderEpoch: 5,
        replicas: [2, 1, 3],
        isr: [2, 1],
      },
      {
        partition: 1,
        logStartOffset: 0,
        highWatermark: 0,
        worker: 0,
        leader: -1,
        leaderEpoch: 5,
        replicas: [2, 1, 3],
        isr: [],
      },
    ];
    expect((await jsonRequest(app, 'GET', '/v1/topics/r')).body.partitions).toEqual(expected);
    expect((await msgpackRequest(app, 'GET', '/v1/topics/r')).body.partitions).toEqual(expected);
  });
});
