/**
 * @module
 * Shared helpers for the Kafka data and admin API tests: a real in-process engine (memory or a temp dir),
 * a KafkaContext over it, and `call`, which sends a request through the codec at a version, runs the
 * handler and decodes its answer at the same version, as the wire would.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrokerConfig, DEFAULT_BROKER_CONFIG } from '../../../src/config/broker-config.ts';
import { createLocalEngine, type LocalEngine } from '../../../src/ipc/local-engine.ts';
import type { KafkaApi, KafkaContext } from '../../../src/kafka/api.ts';
import { decodeMessage, encodeMessage, Reader, Writer } from '../../../src/kafka/codec/index.ts';
import {
  REQUEST_DESCRIPTORS,
  RESPONSE_DESCRIPTORS,
  type RequestByApiKey,
  type ResponseByApiKey,
} from '../../../src/kafka/generated/messages.ts';
import { encodeRecordBatch, type RecordInput } from '../../../src/records/record-batch.ts';
import { silentLogger } from '../../../src/shared/logger.ts';

export interface Harness {
  engine: LocalEngine;
  ctx: KafkaContext;
  close(): Promise<void>;
}

/**
 * `onDisk` logs in a new temp dir, removed on close; `dataDir` logs in that dir, kept on close (to start
 * another engine over it); neither: in memory.
 */
export async function createHarness(
  options: {
    onDisk?: boolean;
    dataDir?: string;
    config?: Partial<BrokerConfig>;
    maxFetchWaitMs?: number;
  } = {},
): Promise<Harness> {
  const temporary = options.onDisk === true && options.dataDir === undefined;
  const dataDir =
    options.dataDir ??
    (temporary
      ? fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-kafka-apis-'))
      : path.join(os.tmpdir(), 'freshet-kafka-apis-unused'));
  const config: BrokerConfig = { ...DEFAULT_BROKER_CONFIG, workers: 1, dataDir, ...options.config };
  const engine = await createLocalEngine({
    config,
    memory: !options.onDisk && options.dataDir === undefined,
  });
  const ctx: KafkaContext = {
    engine,
    config: {
      nodeId: 0,
      advertisedHost: '127.0.0.1',
      advertisedPort: 19092,
      clusterId: 'test-cluster',
      maxFetchWaitMs: options.maxFetchWaitMs ?? 5_000,
      maxRequestBytes: 1 << 24,
    },
    logger: silentLogger,
    clientId: 'test',
    clientHost: '127.0.0.1',
  };
  return {
    engine,
    ctx,
    async close() {
      // As the broker shuts down: long-polls (and waits they abandoned) answer now, then the engine closes.
      await engine.stopWaiting();
      await engine.close();
      if (temporary) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Key = keyof RequestByApiKey & keyof ResponseByApiKey;

/** `value` encoded at `version` and decoded back: every field set, as a handler receives it. */
export function overTheWire<K extends Key>(
  apiKey: K,
  version: number,
  value: RequestByApiKey[K],
): RequestByApiKey[K] {
  const writer = new Writer();
  encodeMessage(REQUEST_DESCRIPTORS[apiKey], version, value, writer);
  return decodeMessage(REQUEST_DESCRIPTORS[apiKey], version, new Reader(writer.toBytes()));
}

/** Sends `request` through the codec at `version`, runs the handler, and decodes its answer (null: none). */
export async function call<K extends Key>(
  api: KafkaApi<K>,
  version: number,
  request: RequestByApiKey[K],
  ctx: KafkaContext,
): Promise<ResponseByApiKey[K] | null> {
  const response = await api.handle(overTheWire(api.apiKey, version, request), version, ctx);
  if (response === null) return null;
  const writer = new Writer();
  encodeMessage(RESPONSE_DESCRIPTORS[api.apiKey], version, response, writer);
  return decodeMessage(RESPONSE_DESCRIPTORS[api.apiKey], version, new Reader(writer.toBytes()));
}

const encoder = new TextEncoder();

/** A batch of records `value-<i>` (keys `key-<i>`), as a client builds it (baseOffset 0). */
export function batchOf(count: number, options: { from?: number; timestamp?: number } = {}): Uint8Array {
  const from = options.from ?? 0;
  const records: RecordInput[] = [];
  for (let i = from; i < from + count; i++) {
    records.push({
      key: encoder.encode(`key-${i}`),
      value: encoder.encode(`value-${i}`),
      ...(options.timestamp !== undefined ? { timestamp: options.timestamp + i } : {}),
    });
  }
  return encodeRecordBatch(records);
}

/** `batch` with its baseOffset set, as the log stores it. */
export function stored(batch: Uint8Array, baseOffset: number): Uint8Array {
  const copy = batch.slice();
  new DataView(copy.buffer).setBigInt64(0, BigInt(baseOffset));
  return copy;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
