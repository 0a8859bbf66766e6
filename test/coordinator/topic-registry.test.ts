/**
 * The topic registry's ids: given at creation (never reserved ones), persisted in topics.json and read
 * back, new after delete and re-create, and assigned once to the topics of a topics.json written before
 * topics had ids. And config changes: set, removed (null), validated, persisted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_CONFIG } from '../../src/config/log-config.ts';
import {
  isAssignableTopicId,
  METADATA_TOPIC_ID,
  newTopicId,
  topicIdToBase64Url,
  ZERO_TOPIC_ID,
} from '../../src/coordinator/topic-id.ts';
import { TopicRegistry } from '../../src/coordinator/topic-registry.ts';

const TOPIC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let dataDir: string;
let file: string;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-topic-registry-'));
  file = path.join(dataDir, '.freshet', 'topics.json');
});
afterEach(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function stored(): { version: number; topics: Record<string, Record<string, unknown>> } {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

describe('topic ids', () => {
  it('are random version 4 UUIDs, never a reserved id nor one whose base64url starts with -', () => {
    const ids = Array.from({ length: 2_000 }, () => newTopicId());
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) {
      expect(id).toMatch(TOPIC_ID);
      expect(isAssignableTopicId(id)).toBe(true);
      expect(topicIdToBase64Url(id)).not.toMatch(/^-/);
    }
    expect(isAssignableTopicId(ZERO_TOPIC_ID)).toBe(false);
    expect(isAssignableTopicId(METADATA_TOPIC_ID)).toBe(false);
    expect(isAssignableTopicId('not an id')).toBe(false);
    expect(isAssignableTopicId(undefined)).toBe(false);
  });

  it('print as Kafka prints them (base64url, no padding)', () => {
    expect(topicIdToBase64Url(ZERO_TOPIC_ID)).toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(topicIdToBase64Url(METADATA_TOPIC_ID)).toBe('AAAAAAAAAAAAAAAAAAAAAQ');
    // The kind newTopicId never gives: a tool would read it as an option.
    expect(topicIdToBase64Url('fbffffff-ffff-ffff-ffff-ffffffffffff')).toBe(`-${'_'.repeat(20)}w`);
  });

  it('are given at creation, persisted and read back; a topic created again gets a new one', async () => {
    const registry = new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG);
    const a = await registry.create('a', 2, {});
    const b = await registry.create('b', 1, { 'retention.ms': 1000 });
    expect(a.topicId).toMatch(TOPIC_ID);
    expect(b.topicId).toMatch(TOPIC_ID);
    expect(a.topicId).not.toBe(b.topicId);
    expect(stored().topics.a).toMatchObject({ topicId: a.topicId, partitions: 2 });

    const altered = await registry.alter('b', { 'retention.ms': 2000 });
    const grown = await registry.addPartitions('a', 3);
    expect(altered.topicId).toBe(b.topicId);
    expect(grown.topicId).toBe(a.topicId);

    const reopened = new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG);
    expect((await reopened.list()).map((t) => [t.name, t.topicId])).toEqual([
      ['a', a.topicId],
      ['b', b.topicId],
    ]);
    await reopened.delete('a');
    const again = await reopened.create('a', 1, {});
    expect(again.topicId).toMatch(TOPIC_ID);
    expect(again.topicId).not.toBe(a.topicId);
    expect(stored().topics.a!.topicId).toBe(again.topicId);
  });

  it('are kept in memory only without a data dir', async () => {
    const registry = new TopicRegistry(null, DEFAULT_LOG_CONFIG);
    expect((await registry.create('m', 1, {})).topicId).toMatch(TOPIC_ID);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('altering config overrides', () => {
  it('sets and removes (null) overrides, persisted across reopening', async () => {
    const registry = new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG);
    await registry.create('t', 1, { 'retention.ms': 1000, 'segment.ms': '60000' });
    const altered = await registry.alter('t', {
      'retention.ms': null,
      'segment.bytes': 1048576,
      'flush.ms': null, // no override to remove: nothing changes
    });
    expect(altered.config).toEqual({ 'segment.ms': '60000', 'segment.bytes': 1048576 });
    expect(registry.logConfig(altered)).toMatchObject({
      retentionMs: DEFAULT_LOG_CONFIG.retentionMs,
      flushMs: DEFAULT_LOG_CONFIG.flushMs,
      segmentMs: 60000,
      segmentBytes: 1048576,
    });
    expect(stored().topics.t!.config).toEqual({ 'segment.ms': '60000', 'segment.bytes': 1048576 });

    const reopened = new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG);
    const [t] = await reopened.list();
    expect(t!.config).toEqual({ 'segment.ms': '60000', 'segment.bytes': 1048576 });
    const cleared = await reopened.alter('t', { 'segment.ms': null, 'segment.bytes': null });
    expect(cleared.config).toEqual({});
    expect(reopened.logConfig(cleared)).toEqual(DEFAULT_LOG_CONFIG);
    expect((await new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG).list())[0]!.config).toEqual({});
    expect(stored().topics.t!.config).toEqual({});
  });

  it('refuses an unknown name (null or not) or a bad value, changing nothing', async () => {
    const registry = new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG);
    await registry.create('t', 1, { 'retention.ms': 1000 });
    const changes = [
      { 'retention.ms': null, 'no.such': null },
      { 'retention.ms': null, 'no.such': 1 },
      { 'retention.ms': null, 'segment.bytes': 'big' },
      JSON.parse('{"retention.ms":null,"__proto__":null}'),
    ];
    for (const change of changes) {
      await expect(registry.alter('t', change)).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    }
    expect((await registry.list())[0]!.config).toEqual({ 'retention.ms': 1000 });
    expect(stored().topics.t!.config).toEqual({ 'retention.ms': 1000 });
    await expect(registry.alter('nope', { 'retention.ms': null })).rejects.toMatchObject({
      code: 'UNKNOWN_TOPIC_OR_PARTITION',
    });
  });
});

describe('a topics.json written before topics had ids', () => {
  const old = {
    version: 1,
    topics: {
      orders: { partitions: 3, config: { 'retention.ms': 60000 }, createdAt: 1_700_000_000_000 },
      events: { partitions: 1, config: {}, createdAt: 1_700_000_000_001 },
    },
  };

  it('gets an id per topic at load, written back once, the same at every later load', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(old));

    const first = await new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG).list();
    expect(first.map((t) => t.name)).toEqual(['events', 'orders']);
    for (const t of first) expect(t.topicId).toMatch(TOPIC_ID);
    expect(first[0]!.topicId).not.toBe(first[1]!.topicId);
    // Everything else as it was.
    expect(first[1]).toEqual({
      name: 'orders',
      topicId: first[1]!.topicId,
      partitions: 3,
      config: { 'retention.ms': 60000 },
      createdAt: 1_700_000_000_000,
    });

    const migrated = fs.readFileSync(file, 'utf8');
    expect(stored().topics.orders!.topicId).toBe(first[1]!.topicId);
    expect(stored().topics.events!.topicId).toBe(first[0]!.topicId);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['topics.json']);

    const second = await new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG).list();
    expect(second).toEqual(first);
    // Nothing to migrate any more: the file is not rewritten.
    expect(fs.readFileSync(file, 'utf8')).toBe(migrated);
  });

  it('keeps the ids it has and replaces a missing, malformed, reserved or repeated one', async () => {
    const id = newTopicId();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        topics: {
          a: { topicId: id, partitions: 1, config: {}, createdAt: 1 },
          b: { topicId: id, partitions: 1, config: {}, createdAt: 2 },
          c: { topicId: ZERO_TOPIC_ID, partitions: 1, config: {}, createdAt: 3 },
          d: { topicId: 'nope', partitions: 1, config: {}, createdAt: 4 },
          e: { partitions: 1, config: {}, createdAt: 5 },
        },
      }),
    );
    const topics = await new TopicRegistry(dataDir, DEFAULT_LOG_CONFIG).list();
    expect(topics[0]!.topicId).toBe(id);
    const ids = topics.map((t) => t.topicId);
    expect(new Set(ids).size).toBe(5);
    for (const t of ids) expect(isAssignableTopicId(t)).toBe(true);
    expect(Object.values(stored().topics).map((t) => t.topicId)).toEqual(ids);
  });
});
