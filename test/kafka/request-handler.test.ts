/**
 * @module
 * The server's request handler without sockets (what each frame goes through), the advertised-address
 * helpers and the persisted cluster id.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnyKafkaApi, KafkaContext, KafkaDoorConfig } from '../../src/kafka/api.ts';
import { apiVersionsApi } from '../../src/kafka/apis/api-versions.ts';
import { loadClusterId } from '../../src/kafka/cluster-id.ts';
import { advertisedKafkaHost, createRequestHandler, hostPort } from '../../src/kafka/server.ts';
import type { Logger } from '../../src/shared/logger.ts';
import { decodeResponse, WireClient } from './wire-client.ts';

const CONFIG: KafkaDoorConfig = {
  nodeId: 0,
  advertisedHost: 'localhost',
  advertisedPort: 9092,
  clusterId: 'AAAAAAAAAAAAAAAAAAAAAA',
  maxFetchWaitMs: 500,
  maxRequestBytes: 1 << 20,
};

function recordingLogger() {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, msg, fields });
    };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function handlerFor(apis: AnyKafkaApi[]) {
  const { logger, lines } = recordingLogger();
  const handler = createRequestHandler({
    apis,
    byKey: new Map(apis.map((a) => [a.apiKey, a])),
    engine: {} as never,
    logger,
    config: () => CONFIG,
    clientHost: '10.0.0.7',
  });
  return { handler, lines };
}

/** A request frame without its size prefix. */
function frameOf(...args: Parameters<typeof WireClient.frame>): Uint8Array {
  return WireClient.frame(...args).subarray(4);
}

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

describe('createRequestHandler', () => {
  const seen: KafkaContext[] = [];
  const metadata: AnyKafkaApi = {
    apiKey: 3,
    minVersion: 1,
    maxVersion: 12,
    async handle(request, _version, ctx) {
      seen.push(ctx);
      if (request.topics?.[0]?.name === 'throw') throw new Error('handler bug');
      if (request.topics?.[0]?.name === 'silent') return null;
      return { brokers: [], topics: [], controllerId: 0, clusterId: ctx.config.clusterId };
    },
  };
  const apis = [metadata, apiVersionsApi];

  it('decodes, calls the API with the context, and encodes the response frame', async () => {
    const { handler } = handlerFor(apis);
    const chunks = await handler(frameOf(3, 9, { topics: null }, 42, 'my-client'));
    const frame = join(chunks!).subarray(4);
    expect(decodeResponse(3, 9, frame)).toMatchObject({
      correlationId: 42,
      body: { controllerId: 0, clusterId: CONFIG.clusterId },
    });
    expect(seen.at(-1)).toMatchObject({ clientId: 'my-client', clientHost: '10.0.0.7', config: CONFIG });
  });

  it('gives ApiVersions the served list, sorted by key', async () => {
    const { handler } = handlerFor(apis);
    const chunks = await handler(frameOf(18, 2, {}, 7));
    const { body } = decodeResponse(18, 2, join(chunks!).subarray(4));
    expect(body.apiKeys).toEqual([
      { apiKey: 3, minVersion: 1, maxVersion: 12 },
      { apiKey: 18, minVersion: 0, maxVersion: 3 },
    ]);
  });

  it('answers ApiVersions above the served versions in the v0 layout with error 35', async () => {
    const { handler, lines } = handlerFor(apis);
    const frame = frameOf(18, 3, { clientSoftwareName: 'a', clientSoftwareVersion: '1' }, 9);
    new DataView(frame.buffer, frame.byteOffset).setInt16(2, 7); // claim v7
    const { correlationId, body } = decodeResponse(18, 0, join((await handler(frame))!).subarray(4));
    expect(correlationId).toBe(9);
    expect(body.errorCode).toBe(35);
    expect(body.apiKeys.map((k) => k.apiKey)).toEqual([3, 18]);
    expect(lines.map((l) => l.level)).toEqual(['debug']);
  });

  it('returns null (no response) when the API does', async () => {
    const { handler } = handlerFor(apis);
    expect(await handler(frameOf(3, 1, { topics: [{ name: 'silent' }] }, 1))).toBeNull();
  });

  it('throws synchronously, logging at debug, for an unserved version, an unknown key or garbage', () => {
    const { handler, lines } = handlerFor(apis);
    expect(() => handler(frameOf(3, 0, { topics: [] }, 1))).toThrow(/not supported/);
    expect(() => handler(frameOf(0, 3, { acks: 1, timeoutMs: 1, topicData: [] }, 1))).toThrow();
    expect(() => handler(Uint8Array.of(1, 2, 3))).toThrow();
    expect(lines.map((l) => l.level)).toEqual(['debug', 'debug', 'debug']);
  });

  it('rejects, logging a warning, when the API throws', async () => {
    const { handler, lines } = handlerFor(apis);
    await expect(handler(frameOf(3, 1, { topics: [{ name: 'throw' }] }, 1))).rejects.toThrow('handler bug');
    expect(lines).toMatchObject([
      {
        level: 'warn',
        fields: { apiKey: 3, version: 1, clientHost: '10.0.0.7', error: 'Error: handler bug' },
      },
    ]);
  });
});

describe('advertised address', () => {
  it('advertises --host unless it is a wildcard, and the configured host over both', () => {
    expect(advertisedKafkaHost('10.1.2.3', null)).toBe('10.1.2.3');
    expect(advertisedKafkaHost('0.0.0.0', null)).toBe('127.0.0.1');
    expect(advertisedKafkaHost('::', null)).toBe('127.0.0.1');
    expect(advertisedKafkaHost('0.0.0.0', 'kafka.internal')).toBe('kafka.internal');
  });

  it('writes host:port with brackets around IPv6 addresses', () => {
    expect(hostPort('127.0.0.1', 9092)).toBe('127.0.0.1:9092');
    expect(hostPort('::1', 9092)).toBe('[::1]:9092');
  });
});

describe('loadClusterId', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-cluster-id-'));
    dirs.push(dir);
    return dir;
  };

  it('creates a 22-character id once and returns the same one afterwards', () => {
    const dir = tempDir();
    const id = loadClusterId(dir);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(loadClusterId(dir)).toBe(id);
    expect(fs.readFileSync(path.join(dir, '.freshet', 'cluster-id'), 'utf8')).toBe(`${id}\n`);
    expect(loadClusterId(tempDir())).not.toBe(id);
  });

  it('refuses a file that holds something else, naming it', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, '.freshet'));
    fs.writeFileSync(path.join(dir, '.freshet', 'cluster-id'), 'not an id');
    expect(() => loadClusterId(dir)).toThrow(/cluster-id does not hold a cluster id/);
  });
});
