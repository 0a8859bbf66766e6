/**
 * @module
 * Leader following (src/client/router.ts) against an in-process stand-in for a cluster: three brokers,
 * each a real app (createApp over one shared in-process engine) behind a guard that answers as a cluster
 * member would: 503 NOT_LEADER_OR_FOLLOWER for a partition it does not lead, 503 LEADER_NOT_AVAILABLE
 * while none is elected, descriptions with leader/replicas/isr, and `GET /v1/cluster` listing the three.
 * A broker marked down does not answer at all (fetch rejects). No real cluster runs here (that is the
 * cluster suite's); what is checked is where each request goes, and that records arrive.
 * And on a single broker: exactly the requests of a client without a router.
 */
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Admin,
  Consumer,
  type ConsumerRecord,
  HttpClient,
  LeaderRouter,
  Producer,
} from '../../src/client/index.ts';
import { createApp } from '../../src/http/app.ts';
import { createErrorHandler } from '../../src/http/error-handler.ts';
import type { ClusterStatusBody } from '../../src/http/routes/cluster.ts';
import type { Engine, TopicDescription } from '../../src/ipc/engine.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { silentLogger } from '../../src/shared/logger.ts';
import { createHarness, type Harness } from '../http/support.ts';
import { faultyFetch, recordingFetch, text, waitFor } from './helpers.ts';

const NODES = [1, 2, 3] as const;
const urlOf = (nodeId: number) => `http://127.0.0.1:${8080 + nodeId}`;

interface Seen {
  node: number;
  method: string;
  path: string;
  status: number;
}

interface FakeCluster {
  fetch: typeof fetch;
  requests: Seen[];
  /** Nodes whose fetch rejects as an unreachable host's would. */
  down: Set<number>;
  setLeader(topic: string, partition: number, leader: number): void;
  /** Requests to `node` whose path contains `fragment`. */
  count(node: number, fragment: string, method?: string): number;
}

function fakeCluster(engine: Engine, config: Harness['config']): FakeCluster {
  const leaders = new Map<string, { leader: number; epoch: number }>();
  const leaderOf = (topic: string, partition: number) =>
    leaders.get(`${topic}/${partition}`) ?? { leader: 1, epoch: 0 };
  // As a real member's: current offsets only for the partitions it leads (a follower's lag behind).
  const describe = (description: TopicDescription, nodeId: number): TopicDescription => ({
    ...description,
    partitions: description.partitions.map((p) => {
      const { leader, epoch } = leaderOf(description.name, p.partition);
      const offsets = leader === nodeId ? {} : { highWatermark: 0 };
      return {
        ...p,
        ...offsets,
        leader,
        leaderEpoch: epoch,
        replicas: [1, 2, 3],
        isr: leader < 0 ? [] : [leader],
      };
    }),
  });
  const viewOf = (nodeId: number) =>
    new Proxy(engine, {
      get(target, prop) {
        if (prop === 'describeTopic') {
          return async (name: string) => describe(await target.describeTopic(name), nodeId);
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  const status = (nodeId: number): ClusterStatusBody => ({
    mode: 'etcd',
    nodeId,
    cluster: 'fake',
    controller: { nodeId: 1, epoch: 1 },
    brokers: NODES.map((n) => ({
      nodeId: n,
      host: '127.0.0.1',
      httpPort: 8080 + n,
      kafkaPort: null,
      rack: null,
      startedAt: '2020-01-01T00:00:00.000Z',
    })),
    partitions: [],
  });
  const apps = new Map<number, Hono>();
  for (const nodeId of NODES) {
    const inner = createApp(viewOf(nodeId), { config, clusterStatus: async () => status(nodeId) });
    const outer = new Hono();
    outer.onError(createErrorHandler(silentLogger));
    outer.use('*', async (c, next) => {
      const url = new URL(c.req.url);
      const match = /^\/v1\/topics\/([^/]+)\/(?:partitions\/(\d+)\/(?:records|offsets)|records)$/.exec(
        url.pathname,
      );
      const partition = match?.[2] ?? url.searchParams.get('partition');
      if (match !== null && partition !== null) {
        const { leader } = leaderOf(decodeURIComponent(match[1]!), Number(partition));
        if (leader < 0) throw new BrokerError('LEADER_NOT_AVAILABLE', 'no leader elected');
        if (leader !== nodeId) throw new BrokerError('NOT_LEADER_OR_FOLLOWER', `node ${nodeId} is no leader`);
      }
      await next();
    });
    outer.all('*', (c) => inner.fetch(c.req.raw));
    apps.set(nodeId, outer);
  }
  const requests: Seen[] = [];
  const down = new Set<number>();
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const node = Number(url.port) - 8080;
    const method = init?.method ?? 'GET';
    const path = url.pathname + url.search;
    if (down.has(node) || !apps.has(node)) {
      requests.push({ node, method, path, status: 0 });
      throw new TypeError('fetch failed');
    }
    const response = await apps.get(node)!.fetch(new Request(url, init));
    requests.push({ node, method, path, status: response.status });
    return response;
  }) as typeof fetch;
  return {
    fetch: fetchImpl,
    requests,
    down,
    setLeader(topic, partition, leader) {
      const epoch = leaderOf(topic, partition).epoch + 1;
      leaders.set(`${topic}/${partition}`, { leader, epoch });
    },
    count(node, fragment, method) {
      return requests.filter(
        (r) => r.node === node && r.path.includes(fragment) && (method === undefined || r.method === method),
      ).length;
    },
  };
}

/** Produce requests (the batch path) for `partition`, as [node, status]. */
function produces(cluster: FakeCluster, topic: string, partition: number): Array<[number, number]> {
  return cluster.requests
    .filter(
      (r) => r.method === 'POST' && r.path.startsWith(`/v1/topics/${topic}/records?partition=${partition}&`),
    )
    .map((r) => [r.node, r.status]);
}

async function pollUntil(consumer: Consumer, count: number, timeoutMs = 5_000): Promise<ConsumerRecord[]> {
  const records: ConsumerRecord[] = [];
  const deadline = Date.now() + timeoutMs;
  while (records.length < count && Date.now() < deadline) {
    records.push(...(await consumer.poll({ maxWaitMs: 100 })));
  }
  return records;
}

describe('leader following', () => {
  let h: Harness;
  let cluster: FakeCluster;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    h = await createHarness();
    cluster = fakeCluster(h.engine, h.config);
    await h.engine.createTopic('t', 2);
    cluster.setLeader('t', 0, 1);
    cluster.setLeader('t', 1, 2);
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await h.close();
  });

  function producer(options: ConstructorParameters<typeof Producer>[0] = {}): Producer {
    const p = new Producer({ url: urlOf(1), fetch: cluster.fetch, lingerMs: 0, ...options });
    closers.push(() => p.close());
    return p;
  }

  function consumer(options: ConstructorParameters<typeof Consumer>[0] = {}): Consumer {
    const c = new Consumer({ url: urlOf(1), fetch: cluster.fetch, fetchMaxWaitMs: 50, ...options });
    closers.push(() => c.close());
    return c;
  }

  it("sends each partition's batches to its leader, learnt with the topic's description", async () => {
    const p = producer();
    const results = await p.send('t', [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 1 },
    ]);
    expect(results).toEqual([
      { topic: 't', partition: 0, offset: 0 },
      { topic: 't', partition: 1, offset: 0 },
    ]);
    expect(produces(cluster, 't', 0)).toEqual([[1, 200]]);
    expect(produces(cluster, 't', 1)).toEqual([[2, 200]]);
    // One description (the producer's own) and one broker list: no 503 on the way.
    expect(cluster.requests.filter((r) => r.path === '/v1/topics/t')).toHaveLength(1);
    expect(cluster.requests.filter((r) => r.path === '/v1/cluster')).toHaveLength(1);
    expect(cluster.requests.every((r) => r.status < 400)).toBe(true);
  });

  it('follows a leader that moved: the 503 sends the batch on to the new leader at once', async () => {
    // A backoff this long would time the test out: the move must not wait for one.
    const p = producer({ retryBackoffMs: 60_000 });
    await p.send('t', { value: 'before', partition: 0 });
    cluster.setLeader('t', 0, 3);
    const started = Date.now();
    expect(await p.send('t', { value: 'after', partition: 0 })).toEqual({
      topic: 't',
      partition: 0,
      offset: 1,
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(produces(cluster, 't', 0)).toEqual([
      [1, 200],
      [1, 503],
      [3, 200],
    ]);
    // Later batches go straight to the new leader.
    await p.send('t', { value: 'again', partition: 0 });
    expect(produces(cluster, 't', 0).at(-1)).toEqual([3, 200]);
    expect(produces(cluster, 't', 0)).toHaveLength(4);
  });

  it('consumes from the leader (offset look-up and fetches) and follows it when it moves', async () => {
    const p = producer();
    await p.send('t', [
      { value: 'r0', partition: 1 },
      { value: 'r1', partition: 1 },
    ]);
    // Asked of node 1, which is no leader of partition 1: the consumer finds node 2 by itself.
    const c = consumer({ retryBackoffMs: 60_000 });
    c.assign([{ topic: 't', partition: 1, offset: 'earliest' }]);
    const first = await pollUntil(c, 2);
    expect(first.map((r) => text(r.value))).toEqual(['r0', 'r1']);
    expect(cluster.count(1, '/partitions/1/offsets')).toBe(1);
    expect(cluster.count(2, '/partitions/1/offsets')).toBe(1);
    expect(cluster.count(2, '/partitions/1/records')).toBeGreaterThan(0);
    expect(cluster.count(1, '/partitions/1/records')).toBe(0);

    cluster.setLeader('t', 1, 3);
    // (A long-poll node 2 took before the move may still answer r2: the stand-in checks at the start.)
    await p.send('t', { value: 'r2', partition: 1 });
    await p.send('t', { value: 'r3', partition: 1 });
    const second = await pollUntil(c, 2);
    expect(second.map((r) => [r.offset, text(r.value)])).toEqual([
      [2, 'r2'],
      [3, 'r3'],
    ]);
    expect(cluster.count(3, '/partitions/1/records', 'GET')).toBeGreaterThan(0);
    // Node 2 answered NOT_LEADER_OR_FOLLOWER once it no longer led, and the fetch went on to node 3 without a backoff.
    expect(
      cluster.requests.some(
        (r) => r.node === 2 && r.path.includes('/partitions/1/records') && r.status === 503,
      ),
    ).toBe(true);
  });

  it('waits (with backoff) while no leader is elected, then sends to the one elected', async () => {
    cluster.setLeader('t', 0, -1);
    const p = producer({ retryBackoffMs: 20, maxRetryBackoffMs: 50, retries: 20 });
    const sent = p.send('t', { value: 'x', partition: 0 });
    await waitFor(() => cluster.requests.filter((r) => r.path === '/v1/topics/t').length >= 3);
    cluster.setLeader('t', 0, 2);
    expect(await sent).toEqual({ topic: 't', partition: 0, offset: 0 });
    // Nothing was sent to a broker while there was no leader to send to.
    expect(produces(cluster, 't', 0)).toEqual([[2, 200]]);
  });

  it('looks the leader up again when it does not answer, and follows the one that takes over', async () => {
    cluster.setLeader('t', 0, 3);
    cluster.down.add(3);
    const p = producer({ retryBackoffMs: 20, maxRetryBackoffMs: 50, retries: 20 });
    const sent = p.send('t', { value: 'x', partition: 0 });
    await waitFor(() => produces(cluster, 't', 0).length >= 2);
    cluster.setLeader('t', 0, 2);
    expect(await sent).toEqual({ topic: 't', partition: 0, offset: 0 });
    const tried = produces(cluster, 't', 0);
    expect(tried.at(-1)).toEqual([2, 200]);
    expect(tried.slice(0, -1).every(([node, status]) => node === 3 && status === 0)).toBe(true);
  });

  it('looks leaders up from any broker that answers, and starts from the first bootstrap URL that does', async () => {
    cluster.down.add(1);
    const admin = new Admin({
      bootstrap: [urlOf(1), urlOf(2)],
      fetch: cluster.fetch,
      retryBackoffMs: 10,
    });
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['t']);
    await admin.listTopics();
    // Node 1 was tried once; after that, requests go to node 2.
    expect(cluster.count(1, '/v1/topics')).toBe(1);
    expect(cluster.count(2, '/v1/topics')).toBe(2);

    const c = new Consumer({ bootstrap: [urlOf(1), urlOf(2)], fetch: cluster.fetch, fetchMaxWaitMs: 50 });
    closers.push(() => c.close());
    await h.engine.produce({
      topic: 't',
      partition: 1,
      acks: -1,
      batches: (await import('../../src/records/record-batch.ts')).encodeRecordBatch([
        { key: null, value: new TextEncoder().encode('v'), timestamp: 1 },
      ]),
    });
    c.assign([{ topic: 't', partition: 1, offset: 0 }]);
    expect((await pollUntil(c, 1)).map((r) => text(r.value))).toEqual(['v']);
  });

  it('lists offsets at the leader (Admin), after describing the topic', async () => {
    const admin = new Admin({ url: urlOf(3), fetch: cluster.fetch });
    await admin.describeTopic('t');
    expect(await admin.listOffset('t', 1, 'latest')).toEqual({ offset: 0 });
    expect(cluster.count(2, '/partitions/1/offsets')).toBe(1);
    expect(cluster.requests.every((r) => r.status < 400)).toBe(true);
  });

  it("reads each partition's offsets from its leader when a broker's description lags", async () => {
    const p = producer();
    await p.send('t', [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 1 },
      { value: 'c', partition: 1 },
    ]);
    const admin = new Admin({ url: urlOf(1), fetch: cluster.fetch });
    const described = await admin.describeTopic('t');
    // Node 1 leads partition 0 only: its description of partition 1 is behind.
    expect(described.partitions.map((s) => s.highWatermark)).toEqual([1, 0]);
    const current = await admin.withLeaderOffsets(described);
    expect(current.partitions.map((s) => [s.logStartOffset, s.highWatermark])).toEqual([
      [0, 1],
      [0, 2],
    ]);
    expect(await admin.resolveOffsets('t', { offset: 5 })).toEqual([
      { topic: 't', partition: 0, offset: 1 },
      { topic: 't', partition: 1, offset: 2 },
    ]);
    // A leader that does not answer: an error, or (best effort) the description's own values.
    cluster.setLeader('t', 1, 3);
    cluster.down.add(3);
    const quick = new Admin({ url: urlOf(1), fetch: cluster.fetch, retries: 1, retryBackoffMs: 5 });
    const stale = await quick.describeTopic('t');
    await expect(quick.withLeaderOffsets(stale)).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' });
    expect((await quick.withLeaderOffsets(stale, { bestEffort: true })).partitions[1]!.highWatermark).toBe(0);
  });

  it('shares what it learnt between clients on one HttpClient', async () => {
    const http = new HttpClient({ url: urlOf(1), fetch: cluster.fetch });
    await new Admin({ http }).describeTopic('t');
    const p = producer({ http });
    await p.send('t', { value: 'x', partition: 1 });
    expect(produces(cluster, 't', 1)).toEqual([[2, 200]]);
    expect(cluster.requests.filter((r) => r.path === '/v1/cluster')).toHaveLength(1);
  });
});

describe('on a single broker', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  /** A fetch into the in-process app at http://broker.test. */
  const appFetch = (app: Harness['app']) =>
    (async (input: RequestInfo | URL, init?: RequestInit) =>
      app.fetch(new Request(String(input), init))) as typeof fetch;

  it('sends everything to the one URL and never asks for leaders or brokers, even on retriable errors', async () => {
    await h.engine.createTopic('s', 2);
    const faults = faultyFetch(
      { failures: 2, match: (method, url) => method === 'POST' && url.includes('/records') },
      appFetch(h.app),
    );
    const recorder = recordingFetch(faults.fetch);
    const http = new HttpClient({ url: 'http://broker.test', fetch: recorder.fetch });
    const p = new Producer({ http, lingerMs: 0, retryBackoffMs: 5 });
    await p.send('s', { value: 'x', partition: 1 });
    await p.close();
    const c = new Consumer({ http, fetchMaxWaitMs: 20 });
    c.assign([{ topic: 's', partition: 1, offset: 'earliest' }]);
    expect((await pollUntil(c, 1)).map((r) => text(r.value))).toEqual(['x']);
    await c.close();
    const paths = recorder.requests.map((r) => new URL(r.url));
    expect(paths.every((u) => u.origin === 'http://broker.test')).toBe(true);
    expect(paths.filter((u) => u.pathname === '/v1/topics/s')).toHaveLength(1);
    expect(paths.some((u) => u.pathname === '/v1/cluster')).toBe(false);
    // Two injected 503 LEADER_NOT_AVAILABLE, then the batch: three produce requests, nothing else.
    expect(paths.filter((u) => u.pathname === '/v1/topics/s/records')).toHaveLength(3);
  });

  it('routes synchronously to the one URL', () => {
    const router = new LeaderRouter(['http://broker.test'], () => Promise.reject(new Error('no look-ups')));
    router.learn({
      name: 's',
      partitions: [{ partition: 0, logStartOffset: 0, highWatermark: 0, worker: 0 }],
      config: {},
    });
    expect(router.urlFor('s', 0)).toBe('http://broker.test');
    expect(router.urlFor('other', 3)).toBe('http://broker.test');
  });
});
