/**
 * @module
 * The cluster side of the CLI, in-process: `freshet cluster status` against small HTTP servers that answer
 * fixed `GET /v1/cluster` and `GET /v1/replicas` bodies (one listed broker not running: `?`), the
 * LEADER/REPLICAS/ISR columns of `topics describe`, and against a real single broker
 * `topics create --replication-factor` and a comma-separated `--url` list.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionLag, statusText } from '../../src/cli/cluster.ts';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { describeText } from '../../src/cli/topics.ts';
import type { TopicDescription } from '../../src/client/index.ts';
import type { ClusterStatusBody, ReplicaStatusBody } from '../../src/http/routes/cluster.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';

function fakeIo(env: CliIo['env'] = {}) {
  const out = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdin: (async function* () {})(),
    stdout: {
      write: (s: string) => {
        out.stdout += s;
        return true;
      },
    },
    stderr: {
      write: (s: string) => {
        out.stderr += s;
        return true;
      },
    },
    env,
  };
  return { io, out };
}

async function freshet(args: string[], env: CliIo['env'] = {}) {
  const { io, out } = fakeIo(env);
  const status = await main(args, io);
  return { status, ...out };
}

/** An HTTP server answering fixed JSON bodies by path (404 otherwise); records the paths asked. */
async function fixedServer(bodies: Record<string, unknown>) {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    asked.push(req.url ?? '');
    const body = bodies[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'UNKNOWN_SERVER_ERROR', message: 'no such path' } }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on (a server's, closed). */
async function deadPort(): Promise<number> {
  const server = await fixedServer({});
  await server.close();
  return server.port;
}

describe('freshet cluster status', () => {
  let servers: Array<Awaited<ReturnType<typeof fixedServer>>>;
  let status: ClusterStatusBody;

  beforeAll(async () => {
    const ports = [0, 0, await deadPort()];
    // The servers need each other's ports in their answers: start them, then fill the bodies in.
    const bodies: Array<Record<string, unknown>> = [{}, {}];
    servers = [await fixedServer(bodies[0]!), await fixedServer(bodies[1]!)];
    ports[0] = servers[0]!.port;
    ports[1] = servers[1]!.port;
    status = {
      mode: 'etcd',
      nodeId: 1,
      cluster: 'c1',
      controller: { nodeId: 1, epoch: 2 },
      brokers: ports.map((httpPort, i) => ({
        nodeId: i + 1,
        host: '127.0.0.1',
        httpPort,
        kafkaPort: null,
        rack: null,
        startedAt: '2020-01-01T00:00:00.000Z',
      })),
      partitions: [
        { topic: 'orders', partition: 1, leader: 2, leaderEpoch: 1, replicas: [2, 1, 3], isr: [2, 1] },
        { topic: 'orders', partition: 0, leader: 1, leaderEpoch: 3, replicas: [1, 2, 3], isr: [1, 2] },
        { topic: 'audit', partition: 0, leader: -1, leaderEpoch: 7, replicas: [3], isr: [] },
      ],
    };
    const node1: ReplicaStatusBody = {
      nodeId: 1,
      replicas: [
        {
          topic: 'orders',
          partition: 0,
          role: 'leader',
          leaderEpoch: 3,
          logEndOffset: 100,
          highWatermark: 90,
          followers: [
            { nodeId: 2, logEndOffset: 90, inSync: true },
            { nodeId: 3, logEndOffset: 40, inSync: false },
          ],
        },
        {
          topic: 'orders',
          partition: 1,
          role: 'follower',
          leaderEpoch: 1,
          logEndOffset: 45,
          highWatermark: 45,
        },
      ],
    };
    const node2: ReplicaStatusBody = {
      nodeId: 2,
      replicas: [
        {
          topic: 'orders',
          partition: 0,
          role: 'follower',
          leaderEpoch: 3,
          logEndOffset: 95,
          highWatermark: 90,
        },
        {
          topic: 'orders',
          partition: 1,
          role: 'leader',
          leaderEpoch: 1,
          logEndOffset: 50,
          highWatermark: 45,
          followers: [{ nodeId: 1, logEndOffset: 45, inSync: true }],
        },
      ],
    };
    Object.assign(bodies[0]!, { '/v1/cluster': status, '/v1/replicas': node1 });
    Object.assign(bodies[1]!, { '/v1/cluster': { ...status, nodeId: 2 }, '/v1/replicas': node2 });
  });
  afterAll(async () => {
    for (const server of servers ?? []) await server.close();
  });

  it('prints the brokers, then per partition leader, epoch, replicas, ISR and lag per follower', async () => {
    const run = await freshet(['cluster', 'status', '--url', servers[0]!.url]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const [p1, p2, p3] = status.brokers.map((b) => b.httpPort);
    expect(run.stdout).toBe(
      [
        'Cluster: c1  Brokers: 3  Controller: node 1 (epoch 2)  Asked: node 1',
        'NODE  HOST       HTTP   KAFKA  RACK  CONTROLLER',
        `1     127.0.0.1  ${p1}  -      -     yes (epoch 2)`,
        `2     127.0.0.1  ${p2}  -      -     no`,
        `3     127.0.0.1  ${p3}  -      -     no`,
        '',
        'TOPIC   PARTITION  LEADER  EPOCH  REPLICAS  ISR  LAG',
        'audit   0          none    7      3         -    -',
        'orders  0          1       3      1,2,3     1,2  2:5,3:?',
        'orders  1          2       1      2,1,3     2,1  1:5,3:?',
        '',
      ].join('\n'),
    );
    // Every listed broker was asked for its replicas (node 3 does not answer: '?').
    expect(servers[1]!.asked).toContain('/v1/replicas');
  });

  it('--json is the API answer with each partition given its followers lag', async () => {
    const run = await freshet(['cluster', 'status', '--json', '--url', servers[1]!.url]);
    expect(run.status).toBe(0);
    const answer = JSON.parse(run.stdout);
    expect(answer.nodeId).toBe(2);
    expect(answer.brokers).toEqual(status.brokers);
    expect(answer.partitions).toEqual([
      { ...status.partitions[2], lag: [] },
      {
        ...status.partitions[1],
        lag: [
          { nodeId: 2, lag: 5 },
          { nodeId: 3, lag: null },
        ],
      },
      {
        ...status.partitions[0],
        lag: [
          { nodeId: 1, lag: 5 },
          { nodeId: 3, lag: null },
        ],
      },
    ]);
  });

  it('shows no partition table for a single node, and asks no broker for replicas', async () => {
    const single = await fixedServer({
      '/v1/cluster': {
        mode: 'single',
        nodeId: 0,
        cluster: null,
        controller: null,
        brokers: [],
        partitions: [],
      },
    });
    try {
      const run = await freshet(['cluster', 'status', '--url', single.url]);
      expect(run.status).toBe(0);
      expect(run.stdout).toBe('Single node (no --etcd): node 0, no controller\nNo brokers registered\n');
      const json = await freshet(['cluster', 'status', '--json', '--url', single.url]);
      expect(JSON.parse(json.stdout).partitions).toEqual([]);
      expect(single.asked).toEqual(['/v1/cluster', '/v1/cluster']);
    } finally {
      await single.close();
    }
  });
});

describe('lag and tables', () => {
  it("takes a follower's own log end offset, else the leader's view when its broker lacks the replica", () => {
    const partitions = [
      { topic: 't', partition: 0, leader: 1, leaderEpoch: 1, replicas: [1, 2, 3], isr: [1] },
    ];
    const leader = {
      nodeId: 1,
      replicas: [
        {
          topic: 't',
          partition: 0,
          role: 'leader' as const,
          leaderEpoch: 1,
          logEndOffset: 10,
          highWatermark: 3,
          followers: [
            { nodeId: 2, logEndOffset: 3, inSync: false },
            { nodeId: 3, logEndOffset: 1, inSync: false },
          ],
        },
      ],
    };
    const lag = (answers: Array<[number, typeof leader | null]>) =>
      partitionLag(partitions, new Map(answers))[0]!.lag;
    expect(
      lag([
        [1, leader],
        [2, { nodeId: 2, replicas: [] }],
        [3, null],
      ]),
    ).toEqual([
      { nodeId: 2, lag: 7 },
      { nodeId: 3, lag: null },
    ]);
    // The leader did not answer: no lag is known.
    expect(lag([[2, { nodeId: 2, replicas: [] }]])).toEqual([
      { nodeId: 2, lag: null },
      { nodeId: 3, lag: null },
    ]);
  });

  it('leaves the broker table as it was when there are no partitions', () => {
    const text = statusText({
      mode: 'etcd',
      nodeId: 1,
      cluster: 'c',
      controller: null,
      brokers: [{ nodeId: 1, host: 'h', httpPort: 1, kafkaPort: 2, rack: 'r' }],
    });
    expect(text).toBe(
      'Cluster: c  Brokers: 1  Controller: none elected  Asked: node 1\n' +
        'NODE  HOST  HTTP  KAFKA  RACK  CONTROLLER\n1     h     1     2      r     no\n',
    );
  });

  it('topics describe shows LEADER, REPLICAS and ISR only when the broker names leaders', () => {
    const topic: TopicDescription = {
      name: 't',
      partitions: [
        {
          partition: 0,
          logStartOffset: 0,
          highWatermark: 5,
          worker: 0,
          leader: 2,
          leaderEpoch: 1,
          replicas: [2, 1],
          isr: [2, 1],
        },
        {
          partition: 1,
          logStartOffset: 1,
          highWatermark: 3,
          worker: 1,
          leader: -1,
          leaderEpoch: 4,
          replicas: [1, 2],
          isr: [],
        },
      ],
      config: {},
    };
    expect(describeText(topic, false)).toBe(
      [
        'Topic: t  Partitions: 2',
        'PARTITION  LOG-START-OFFSET  HIGH-WATERMARK  RECORDS  WORKER  LEADER  REPLICAS  ISR',
        '0          0                 5               5        0       2       2,1       2,1',
        '1          1                 3               2        1       none    1,2       -',
        '',
      ].join('\n'),
    );
    const single: TopicDescription = {
      name: 't',
      partitions: [{ partition: 0, logStartOffset: 0, highWatermark: 5, worker: 0 }],
      config: {},
    };
    expect(describeText(single, false)).toBe(
      'Topic: t  Partitions: 1\nPARTITION  LOG-START-OFFSET  HIGH-WATERMARK  RECORDS  WORKER\n0          0                 5               5        0\n',
    );
  });
});

describe('against a real single broker', () => {
  let broker: BrokerHandle;
  beforeAll(async () => {
    broker = await startBroker({ workers: 1 });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('topics create --replication-factor: 1 is taken, 3 is refused by a single broker, 0 is bad usage', async () => {
    const topic = `cli-rf-${process.pid}`;
    const one = await freshet(['topics', 'create', topic, '--replication-factor', '1', '--url', broker.url]);
    expect(one.stderr).toBe('');
    expect(one.status).toBe(0);
    expect(one.stdout).toBe(`Created topic '${topic}' with 1 partitions\n`);
    const three = await freshet(['topics', 'create', `${topic}-3`, '-r', '3', '--url', broker.url]);
    expect(three.status).toBe(1);
    expect(three.stderr).toMatch(/^freshet: INVALID_REPLICATION_FACTOR: /);
    const zero = await freshet([
      'topics',
      'create',
      `${topic}-0`,
      '--replication-factor',
      '0',
      '--url',
      broker.url,
    ]);
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('--replication-factor must be an integer >= 1');
    const help = await freshet(['topics', 'create', '--help']);
    expect(help.stdout).toContain('--replication-factor <value>');
  });

  it('takes a comma-separated --url list and uses the first broker that answers', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const topic = `cli-list-${process.pid}`;
    const created = await freshet(['topics', 'create', topic, '--url', `${broker.url},${dead}`]);
    expect(created.status).toBe(0);
    const listed = await freshet(['topics', 'list', '--json', '--url', `${dead}, ${broker.url}`]);
    expect(listed.stderr).toBe('');
    expect(listed.status).toBe(0);
    expect(JSON.parse(listed.stdout).topics).toContainEqual({ name: topic, partitions: 1 });
    const viaEnv = await freshet(['topics', 'describe', topic], { FRESHET_URL: `${dead},${broker.url}` });
    expect(viaEnv.status).toBe(0);
    expect(viaEnv.stdout).toMatch(/^Topic: cli-list-\d+ {2}Partitions: 1\nPARTITION +LOG-START-OFFSET/);
    expect(viaEnv.stdout).not.toContain('LEADER');
    const empty = await freshet(['topics', 'list', '--url', ' , ']);
    expect(empty.status).toBe(2);
  });
});
