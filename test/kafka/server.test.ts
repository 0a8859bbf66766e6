/**
 * @module
 * The Kafka TCP listener of a real broker process, driven by a raw client (node:net + the codecs):
 * ApiVersions (v0, v3, and a version above the served ones), Metadata v0/v1/v9/v12 over topics made over
 * HTTP, auto-creation, pipelining, malformed frames that close their connection only, the cluster id and the
 * advertised address across a restart, and a fuzz run that checks the broker stays up with bounded memory.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDescriptor } from '../../src/kafka/codec/descriptor.ts';
import { encodeRequestFrame } from '../../src/kafka/codec/frame.ts';
import { ApiVersionsRequest, MetadataRequest } from '../../src/kafka/generated/messages.ts';
import { runToExit } from '../e2e/support.ts';
import { type BrokerHandle, BUN, startBroker } from '../support/broker.ts';
import { messageArb } from './arbitraries.ts';
import { decodeResponse, WireClient } from './wire-client.ts';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

async function createTopic(url: string, name: string, partitions: number): Promise<void> {
  const res = await fetch(`${url}/v1/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, partitions }),
  });
  expect(res.status, await res.text()).toBe(201);
}

async function topicExists(url: string, name: string): Promise<boolean> {
  const res = await fetch(`${url}/v1/topics/${name}`);
  await res.arrayBuffer();
  return res.status === 200;
}

function connect(broker: BrokerHandle): Promise<WireClient> {
  return WireClient.connect(broker.kafka.host, broker.kafka.port);
}

/** The request header of a version the codec cannot encode: api key, version, correlation id, client id. */
function rawHeader(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  rest: number[] = [],
): Uint8Array {
  const body = [
    ...[apiKey >> 8, apiKey & 0xff, apiVersion >> 8, apiVersion & 0xff],
    ...[
      correlationId >>> 24,
      (correlationId >> 16) & 0xff,
      (correlationId >> 8) & 0xff,
      correlationId & 0xff,
    ],
    ...[0, 4, 0x74, 0x65, 0x73, 0x74], // client id 'test'
    ...rest,
  ];
  return withSize(Uint8Array.from(body));
}

function withSize(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Resident set size of a process, from /proc (Linux). */
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line!.split(/\s+/)[1]) * 1024;
}

let broker: BrokerHandle;
const topics = {
  three: `kafka-three-${process.pid}`,
  one: `kafka-one-${process.pid}`,
};

beforeAll(async () => {
  broker = await startBroker({ workers: 1 });
  await createTopic(broker.url, topics.three, 3);
  await createTopic(broker.url, topics.one, 1);
});

afterAll(async () => {
  await broker?.stop();
});

describe('ApiVersions', () => {
  it('v0 lists the served APIs sorted by key, ApiVersions 0-3, Metadata 0-12 and Fetch 4-16 among them', async () => {
    const client = await connect(broker);
    const { body } = await client.request(18, 0, {});
    expect(body.errorCode).toBe(0);
    const keys = body.apiKeys.map((k) => k.apiKey);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    expect(new Set(keys).size).toBe(keys.length);
    expect(body.apiKeys).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 });
    expect(body.apiKeys).toContainEqual({ apiKey: 3, minVersion: 0, maxVersion: 12 });
    expect(body.apiKeys).toContainEqual({ apiKey: 1, minVersion: 4, maxVersion: 16 });
    client.close();
  });

  it('v3 (flexible request header, client software fields) answers with header v0', async () => {
    const client = await connect(broker);
    const { body } = await client.request(18, 3, {
      clientSoftwareName: 'freshet-test',
      clientSoftwareVersion: '1.0.0',
    });
    expect(body.errorCode).toBe(0);
    expect(body.throttleTimeMs).toBe(0);
    expect(body.apiKeys).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 });
    client.close();
  });

  it('a version above the served ones gets error 35 in the v0 layout, and the connection stays usable', async () => {
    const client = await connect(broker);
    // A v4 request as librdkafka would send it: header v2 (tags), then a body Freshet does not know.
    client.write(rawHeader(18, 4, 77, [0, 5, 0x61, 0x62, 0x63, 0x64, 0x02, 0x31, 0, 0]));
    const { correlationId, body } = decodeResponse(18, 0, await client.nextFrame());
    expect(correlationId).toBe(77);
    expect(body.errorCode).toBe(35);
    expect(body.apiKeys).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 });
    const retry = await client.request(18, 3, { clientSoftwareName: 'x', clientSoftwareVersion: '1' });
    expect(retry.body.errorCode).toBe(0);
    client.close();
  });
});

describe('Metadata', () => {
  it('v1 of every topic (null): one broker at the listener address, controller = node 0', async () => {
    const client = await connect(broker);
    const { body } = await client.request(3, 1, { topics: null });
    expect(body.brokers).toEqual([{ nodeId: 0, host: '127.0.0.1', port: broker.kafka.port, rack: null }]);
    expect(body.controllerId).toBe(0);
    const three = body.topics.find((t) => t.name === topics.three)!;
    expect(three).toMatchObject({ errorCode: 0, isInternal: false });
    expect(three.partitions).toEqual(
      [0, 1, 2].map((p) => ({
        errorCode: 0,
        partitionIndex: p,
        leaderId: 0,
        leaderEpoch: -1, // not in v1: decoded as the default
        replicaNodes: [0],
        isrNodes: [0],
        offlineReplicas: [],
      })),
    );
    expect(body.topics.map((t) => t.name)).toContain(topics.one);
    client.close();
  });

  it('v0 with an empty list means every topic; v1 with an empty list means none', async () => {
    const client = await connect(broker);
    const v0 = await client.request(3, 0, { topics: [] });
    expect(v0.body.topics.map((t) => t.name)).toEqual(expect.arrayContaining([topics.three, topics.one]));
    const v1 = await client.request(3, 1, { topics: [] });
    expect(v1.body.topics).toEqual([]);
    client.close();
  });

  it('v9 (flexible) of named topics: cluster id, errors for unknown and invalid names', async () => {
    const client = await connect(broker);
    const unknown = `kafka-unknown-${process.pid}`;
    const { body } = await client.request(3, 9, {
      topics: [{ name: topics.one }, { name: unknown }, { name: 'bad name!' }, { name: topics.one }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(body.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(body.controllerId).toBe(0);
    expect(body.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      [topics.one, 0, 1],
      [unknown, 3, 0],
      ['bad name!', 17, 0],
    ]);
    expect(body.topics[0]!.partitions[0]).toMatchObject({ leaderEpoch: 0, offlineReplicas: [] });
    expect(body.topics[0]!.topicAuthorizedOperations).toBe(-2147483648);
    expect(await topicExists(broker.url, unknown)).toBe(false);
    client.close();
  });

  it('v12: topic ids as the HTTP API shows them, a topic asked for by id, and an unknown id', async () => {
    const described = await fetch(`${broker.url}/v1/topics/${topics.three}`);
    const { topicId } = (await described.json()) as { topicId: string };
    expect(topicId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const client = await connect(broker);
    const { body } = await client.request(3, 12, {
      topics: [
        { name: topics.three, topicId: ZERO_UUID },
        { name: null, topicId: '01234567-89ab-cdef-0123-456789abcdef' },
      ],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: true,
    });
    expect(body.topics[0]).toMatchObject({ errorCode: 0, name: topics.three, topicId });
    expect(body.topics[0]!.partitions).toHaveLength(3);
    expect(body.topics[1]).toMatchObject({ errorCode: 100, name: null });
    const byId = await client.request(3, 12, {
      topics: [{ name: null, topicId }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    expect(byId.body.topics).toMatchObject([{ errorCode: 0, name: topics.three, topicId }]);
    client.close();
  });

  it('auto-creates a requested topic before v4 always and from v4 when the client allows it', async () => {
    const client = await connect(broker);
    const v1Topic = `kafka-auto-v1-${process.pid}`;
    const v4Topic = `kafka-auto-v4-${process.pid}`;
    const v1 = await client.request(3, 1, { topics: [{ name: v1Topic }] });
    expect(v1.body.topics).toMatchObject([
      { name: v1Topic, errorCode: 0, partitions: [{ partitionIndex: 0 }] },
    ]);
    expect(await topicExists(broker.url, v1Topic)).toBe(true);
    const v4 = await client.request(3, 4, { topics: [{ name: v4Topic }], allowAutoTopicCreation: true });
    expect(v4.body.topics).toMatchObject([{ name: v4Topic, errorCode: 0 }]);
    expect(await topicExists(broker.url, v4Topic)).toBe(true);
    client.close();
  });
});

describe('connections', () => {
  it('answers pipelined requests in request order', async () => {
    const client = await connect(broker);
    const sent: Array<{ apiKey: 3 | 18; version: number; correlationId: number }> = [];
    const bytes: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      const apiKey = i % 3 === 0 ? 18 : 3;
      const version = apiKey === 18 ? i % 4 : [0, 1, 4, 9, 12][i % 5]!;
      const correlationId = 1000 + i;
      const body = apiKey === 18 ? {} : { topics: version === 0 ? [] : null };
      bytes.push(WireClient.frame(apiKey as 3, version, body as never, correlationId));
      sent.push({ apiKey, version, correlationId });
    }
    // Back to back in one write.
    const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
    let offset = 0;
    for (const b of bytes) {
      all.set(b, offset);
      offset += b.length;
    }
    client.write(all);
    for (const { apiKey, version, correlationId } of sent) {
      const response = await client.response(apiKey, version);
      expect(response.correlationId).toBe(correlationId);
    }
    client.close();
  });

  it('holds back while a client does not read its answers, then answers everything in order', async () => {
    const client = await connect(broker);
    client.pause();
    // 300 requests of 200 long invalid names each: ~15 MB of answers, more than socket buffers and the
    // connection's queue hold, so the server must stop reading and resume on drain.
    const names = Array.from({ length: 200 }, (_, i) => ({ name: `${'x'.repeat(240)}!${i}` }));
    const count = 300;
    const ids: number[] = [];
    for (let i = 0; i < count; i++)
      ids.push(client.send(3, 9, { topics: names, allowAutoTopicCreation: false }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    client.resume();
    for (const id of ids) {
      const { correlationId, body } = await client.response(3, 9);
      expect(correlationId).toBe(id);
      expect(body.topics).toHaveLength(200);
      expect(body.topics[199]).toMatchObject({ errorCode: 17, name: names[199]!.name });
    }
    client.close();
  });

  const malformed: Array<[string, () => Uint8Array]> = [
    ['a size prefix of 2^31-1', () => Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 1, 2, 3)],
    ['a negative size prefix', () => Uint8Array.of(0xff, 0xff, 0xff, 0xf0, 1, 2, 3)],
    ['garbage (an HTTP request)', () => new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a frame too short for a header', () => withSize(Uint8Array.of(0, 18, 0))],
    ['an unknown API key', () => rawHeader(9999, 0, 5)],
    ['an unsupported version (Metadata v13)', () => rawHeader(3, 13, 5, [0, 0, 0, 0, 1, 0])],
    [
      'a body the codec cannot read (Metadata v1, truncated array)',
      () => rawHeader(3, 1, 5, [0, 0, 0, 9, 0]),
    ],
    ['trailing bytes after the body (ApiVersions v0)', () => rawHeader(18, 0, 5, [1, 2, 3])],
  ];
  it.each(malformed)('closes the connection on %s; another connection keeps working', async (_, bytes) => {
    const other = await connect(broker);
    const bad = await connect(broker);
    // The connection works until the bad bytes arrive.
    expect((await bad.request(18, 0, {})).body.errorCode).toBe(0);
    bad.write(bytes());
    await bad.expectClosed();
    expect(
      (await other.request(18, 3, { clientSoftwareName: 'a', clientSoftwareVersion: '1' })).body.errorCode,
    ).toBe(0);
    other.close();
    expect(broker.process.exitCode).toBeNull();
  });

  it('forgets a truncated frame when the client goes away, and carries on', async () => {
    const truncated = await connect(broker);
    const frame = WireClient.frame(3, 1, { topics: null }, 1);
    truncated.write(frame.subarray(0, frame.length - 3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    truncated.close();
    await truncated.closed;
    const client = await connect(broker);
    expect((await client.request(3, 1, { topics: null })).body.brokers).toHaveLength(1);
    client.close();
    expect(broker.process.exitCode).toBeNull();
  });
});

describe('cluster id and advertised address', () => {
  it('keeps the cluster id across restarts and advertises the configured host and port', async () => {
    const first = await startBroker({ workers: 1, args: ['--no-auto-create-topics'] });
    let clusterId: string | null | undefined;
    const dataDir = first.dataDir;
    const idle = await connect(first);
    try {
      const client = await connect(first);
      clusterId = (await client.request(3, 2, { topics: null })).body.clusterId;
      expect(clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      // Auto-creation is off for the broker: even Metadata v1 does not create.
      const v1 = await client.request(3, 1, { topics: [{ name: 'not-created' }] });
      expect(v1.body.topics).toMatchObject([{ name: 'not-created', errorCode: 3 }]);
      client.close();
    } finally {
      // Stop it but keep its data dir for the restart. An idle Kafka connection does not hold up SIGTERM.
      const exited = new Promise<number | null>((resolve) => first.process.once('exit', resolve));
      const started = Date.now();
      first.process.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(4_000);
      await idle.expectClosed();
    }
    const second = await startBroker({
      workers: 1,
      dataDir,
      args: ['--kafka-advertised-host', 'kafka.example.test', '--kafka-advertised-port', '19092'],
    });
    try {
      const client = await connect(second);
      const { body } = await client.request(3, 9, { topics: null });
      expect(body.clusterId).toBe(clusterId);
      expect(body.brokers).toEqual([{ nodeId: 0, host: 'kafka.example.test', port: 19092, rack: null }]);
      client.close();
    } finally {
      await second.stop();
      first.cleanup();
    }
  });
});

describe('start-up', () => {
  it('stops with exit ≠ 0 and a message naming the port when the Kafka port is taken', async () => {
    const port = String(broker.kafka.port);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'freshet-kafka-port-'));
    try {
      const result = await runToExit(BUN, [
        'src/main.ts',
        '--data-dir',
        dataDir,
        '--http-port',
        '0',
        '--kafka-port',
        port,
        '--workers',
        '1',
      ]);
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(result.stderr).toContain(`127.0.0.1:${port} (--kafka-port, --host)`);
      expect(result.stdout).not.toContain('listening');
      expect(existsSync(path.join(dataDir, '.lock')), 'the lock file is left behind').toBe(false);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('runs without a Kafka listener with --kafka-port -1', async () => {
    const plain = await startBroker({ workers: 1, args: ['--kafka-port', '-1'] });
    try {
      expect((await fetch(`${plain.url}/healthz`)).status).toBe(200);
      expect(() => plain.kafka).toThrow(/no Kafka listener/);
    } finally {
      await plain.stop();
    }
  });
});

/** Valid frames of the APIs served here, for the fuzz run to mutate. */
function validFrame(descriptor: MessageDescriptor, versions: number[]): fc.Arbitrary<Uint8Array> {
  return fc
    .constantFrom(...versions)
    .chain((version) => fc.tuple(fc.constant(version), messageArb(descriptor, version), fc.integer()))
    .map(([version, body, correlationId]) =>
      encodeRequestFrame(
        { apiKey: descriptor.apiKey as 3, apiVersion: version, correlationId, clientId: 'fuzz' },
        body as never,
      ).toBytes(),
    );
}

const anyValidFrame = fc.oneof(
  validFrame(ApiVersionsRequest, [0, 1, 2, 3]),
  validFrame(MetadataRequest, [0, 1, 4, 9, 10, 12]),
);

/** A valid frame, mutated: bytes flipped, cut short, or given a wrong size prefix. */
const mutatedFrame = fc
  .tuple(anyValidFrame, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }))
  .chain(([frame, flips]) =>
    fc.oneof(
      fc.constant(
        (() => {
          const copy = frame.slice();
          for (const [at, byte] of flips) copy[at % copy.length] = byte;
          return copy;
        })(),
      ),
      fc.nat({ max: frame.length }).map((n) => frame.slice(0, n)),
      fc.integer({ min: -10, max: 1_000_000 }).map((size) => {
        const copy = frame.slice();
        new DataView(copy.buffer).setInt32(0, size);
        return copy;
      }),
    ),
  );

/** A large frame (1-4 MiB) that is read whole and then refused: the memory it took must be given back. */
const largeFrame = fc.integer({ min: 1 << 20, max: 4 << 20 }).map((size) => {
  const bytes = new Uint8Array(4 + size);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, size);
  view.setInt16(4, 3); // Metadata v1, an empty topic array, then bytes no field accounts for
  view.setInt16(6, 1);
  bytes.fill(7, 16);
  return bytes;
});

const fuzzBytes = fc.array(
  fc.oneof(
    { weight: 1, arbitrary: largeFrame },
    { weight: 6, arbitrary: mutatedFrame },
    { weight: 2, arbitrary: anyValidFrame },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  ),
  { minLength: 1, maxLength: 5 },
);

describe('fuzz', () => {
  let fuzzBroker: BrokerHandle;
  beforeAll(async () => {
    // No auto-creation, so valid Metadata frames with random names create nothing.
    fuzzBroker = await startBroker({ workers: 1, args: ['--no-auto-create-topics'] });
  });
  afterAll(async () => {
    await fuzzBroker?.stop();
  });

  it('survives random and mutated frames on many connections, memory bounded', async () => {
    const pid = fuzzBroker.process.pid!;
    // Warm up, then measure.
    for (let i = 0; i < 3; i++) {
      const client = await connect(fuzzBroker);
      await client.request(3, 12, { topics: null });
      client.close();
    }
    const rssBefore = rssBytes(pid);
    let closedByServer = 0;
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(fuzzBytes, async (parts) => {
        const client = await connect(fuzzBroker);
        for (const part of parts) client.write(part);
        // A probe after the frames: its answer means everything before it was handled.
        client.send(18, 0, {});
        // Frames whose size prefix asks for more bytes than sent leave the server waiting: give up soon.
        const deadline = Date.now() + 100;
        while (!client.isClosed && Date.now() < deadline) {
          try {
            await client.nextFrame(deadline - Date.now());
            answered++;
          } catch {
            break;
          }
        }
        if (client.isClosed) closedByServer++;
        client.close();
        await client.closed;
      }),
      { numRuns: 120, seed: 20_261_122 },
    );
    expect(closedByServer).toBeGreaterThan(0);
    expect(answered).toBeGreaterThan(0);
    expect(fuzzBroker.process.exitCode).toBeNull();
    const client = await connect(fuzzBroker);
    expect(
      (await client.request(18, 3, { clientSoftwareName: 'a', clientSoftwareVersion: '1' })).body.errorCode,
    ).toBe(0);
    client.close();
    const grown = rssBytes(pid) - rssBefore;
    expect(grown, `RSS grew by ${Math.round(grown / 1024 / 1024)} MiB`).toBeLessThan(100 * 1024 * 1024);
  });

  it('gives back the memory of large refused frames: 512 MiB sent, RSS bounded', async () => {
    const pid = fuzzBroker.process.pid!;
    const rssBefore = rssBytes(pid);
    const size = 4 << 20;
    const bytes = new Uint8Array(4 + size);
    const view = new DataView(bytes.buffer);
    view.setInt32(0, size);
    view.setInt16(4, 3); // Metadata v1 with trailing bytes: read whole, then refused
    view.setInt16(6, 1);
    // 4 connections at a time: each holds at most about twice its frame (chunks, then the frame) at once.
    // RSS grows by what the garbage collector has not yet reclaimed (about 100 MiB), far from what was sent.
    for (let round = 0; round < 32; round++) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const client = await connect(fuzzBroker);
          client.write(bytes);
          await client.expectClosed(10_000);
        }),
      );
    }
    const grown = rssBytes(pid) - rssBefore;
    expect(grown, `RSS grew by ${Math.round(grown / 1024 / 1024)} MiB`).toBeLessThan(160 * 1024 * 1024);
    const client = await connect(fuzzBroker);
    expect((await client.request(18, 0, {})).body.errorCode).toBe(0);
    client.close();
  });
});
