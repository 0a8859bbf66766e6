/**
 * @module
 * Shared helpers for the HTTP tests: an app over a real in-process engine (memory or a temp dir), and
 * requests and answers in JSON or msgpack.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { expect } from 'vitest';
import { type BrokerConfig, DEFAULT_BROKER_CONFIG } from '../../src/config/broker-config.ts';
import { createApp } from '../../src/http/app.ts';
import { createMetrics, type Metrics } from '../../src/http/metrics.ts';
import { createLocalEngine, type LocalEngine } from '../../src/ipc/local-engine.ts';

/** A client-side msgpack codec, separate from the server's, as a real client would have. */
export const clientPackr = new Packr({ useRecords: false, mapsAsObjects: true });

export interface Harness {
  app: ReturnType<typeof createApp>;
  engine: LocalEngine;
  metrics: Metrics;
  config: BrokerConfig;
  /** Closes the engine and removes the temp dir, if any. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Keep logs in a fresh temp dir instead of memory. */
  onDisk?: boolean;
  config?: Partial<BrokerConfig>;
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = options.onDisk
    ? fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-http-'))
    : path.join(os.tmpdir(), 'freshet-http-unused');
  const config: BrokerConfig = { ...DEFAULT_BROKER_CONFIG, workers: 1, dataDir, ...options.config };
  const engine = await createLocalEngine({ config, memory: !options.onDisk });
  const metrics = createMetrics();
  const app = createApp(engine, { config, metrics });
  return {
    app,
    engine,
    metrics,
    config,
    async close() {
      await engine.close();
      if (options.onDisk) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A response and its decoded body; bodies have many shapes, so tests read them untyped. */
// biome-ignore lint/suspicious/noExplicitAny: answer bodies are asserted on, not typed
export type Answer = { res: Response; body: any };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : decoder.decode(bytes);
}

/** A JSON request; answers the response and its parsed JSON body (null when empty). */
export async function jsonRequest(
  app: Harness['app'],
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await app.request(url, init);
  const raw = await res.text();
  return { res, body: raw === '' ? null : JSON.parse(raw) };
}

/** A msgpack request (body packed, msgpack accepted); answers the response and its unpacked body. */
export async function msgpackRequest(
  app: Harness['app'],
  method: string,
  url: string,
  body?: unknown,
): Promise<Answer> {
  const init: RequestInit = { method, headers: { accept: 'application/msgpack' } };
  if (body !== undefined) {
    init.body = clientPackr.pack(body) as Uint8Array<ArrayBuffer>;
    (init.headers as Record<string, string>)['content-type'] = 'application/msgpack';
  }
  const res = await app.request(url, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { res, body: bytes.length === 0 ? null : clientPackr.unpack(bytes) };
}

/** Creates a topic over HTTP and checks it worked. */
export async function createTopic(app: Harness['app'], name: string, partitions = 1): Promise<void> {
  const { res, body } = await jsonRequest(app, 'POST', '/v1/topics', { name, partitions });
  if (res.status !== 201) throw new Error(`creating ${name}: ${res.status} ${JSON.stringify(body)}`);
}

/** Asserts an error answer: status, Kafka error name and a non-empty message. */
export function expectError(answer: Answer, status: number, code: string): void {
  expect({ status: answer.res.status, code: answer.body?.error?.code }).toEqual({ status, code });
  expect(answer.body.error.message).toEqual(expect.any(String));
  expect(answer.body.error.message.length).toBeGreaterThan(0);
}
