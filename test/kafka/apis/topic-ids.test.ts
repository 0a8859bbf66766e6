/**
 * Topic ids through the Kafka door, over an in-process engine and the codec: ids given at creation stay put
 * across a restart on disk and change when a topic is deleted and created again; Metadata v10–12 shows them
 * and looks topics up by them; Fetch v13–16 reads by them (batches byte for byte, v15's replica state, v16's
 * current leader); CreateTopics v7 answers them and DeleteTopics v6 deletes by them; an id no topic has is
 * UNKNOWN_TOPIC_ID everywhere.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/ipc/engine.ts';
import type { KafkaContext } from '../../../src/kafka/api.ts';
import { createTopicsApi } from '../../../src/kafka/apis/create-topics.ts';
import { deleteTopicsApi } from '../../../src/kafka/apis/delete-topics.ts';
import { fetchApi } from '../../../src/kafka/apis/fetch.ts';
import { metadataApi } from '../../../src/kafka/apis/metadata.ts';
import type { FetchRequest } from '../../../src/kafka/generated/messages.ts';
import { BrokerError, ERRORS } from '../../../src/shared/errors.ts';
import { batchOf, call, concat, createHarness, type Harness, stored } from './support.ts';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
/** A random (version 4) UUID in the codec's form, as the broker gives them. */
const TOPIC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** An id no topic has. */
const STRANGER = '5b6a2a3e-0000-4000-8000-000000000001';
const { UNKNOWN_TOPIC_ID, INVALID_REQUEST, NOT_LEADER_OR_FOLLOWER } = ERRORS;

function fetchById(
  topics: Array<{ topicId: string; partitions: Array<{ partition: number; offset: number }> }>,
  options: { maxWaitMs?: number; minBytes?: number; replicaState?: FetchRequest.ReplicaState } = {},
): FetchRequest {
  return {
    ...(options.replicaState ? { replicaState: options.replicaState } : {}),
    maxWaitMs: options.maxWaitMs ?? 0,
    minBytes: options.minBytes ?? 1,
    maxBytes: 50 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: topics.map((t) => ({
      topicId: t.topicId,
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: -1,
        fetchOffset: p.offset,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
      })),
    })),
    forgottenTopicsData: [],
    rackId: '',
  };
}

async function idOf(engine: Engine, topic: string): Promise<string> {
  return (await engine.describeTopic(topic)).topicId;
}

describe('topic ids in the engine', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-topic-ids-'));
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('are given at creation, survive a restart on disk, and are looked up both ways', async () => {
    const first = await createHarness({ dataDir });
    await first.engine.createTopic('a', 2);
    await first.engine.createTopic('b', 1);
    const ids = { a: await idOf(first.engine, 'a'), b: await idOf(first.engine, 'b') };
    expect(ids.a).toMatch(TOPIC_ID);
    expect(ids.b).toMatch(TOPIC_ID);
    expect(ids.a).not.toBe(ids.b);
    expect(first.engine.topicId('a')).toBe(ids.a);
    expect(first.engine.topicName(ids.b)).toBe('b');
    expect(first.engine.topicName(STRANGER)).toBeUndefined();
    expect(first.engine.topicId('nope')).toBeUndefined();
    await first.close();

    const second = await createHarness({ dataDir });
    try {
      expect(await idOf(second.engine, 'a')).toBe(ids.a);
      expect(await idOf(second.engine, 'b')).toBe(ids.b);
      expect(second.engine.topicName(ids.a)).toBe('a');
      const answer = await call(
        metadataApi,
        12,
        { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false },
        second.ctx,
      );
      expect(answer!.topics.map((t) => [t.name, t.topicId])).toEqual([
        ['a', ids.a],
        ['b', ids.b],
      ]);
    } finally {
      await second.close();
    }
  });

  it('change when a topic is deleted and created again under the same name', async () => {
    const h = await createHarness({ dataDir });
    try {
      await h.engine.createTopic('t', 1);
      const before = await idOf(h.engine, 't');
      await h.engine.deleteTopic('t');
      expect(h.engine.topicName(before)).toBeUndefined();
      await h.engine.createTopic('t', 1);
      const after = await idOf(h.engine, 't');
      expect(after).toMatch(TOPIC_ID);
      expect(after).not.toBe(before);
      expect(h.engine.topicName(after)).toBe('t');
      expect(h.engine.topicName(before)).toBeUndefined();
      // Altering and growing a topic keeps its id.
      await h.engine.alterTopicConfig('t', { 'retention.ms': 1000 });
      await h.engine.createPartitions('t', 3);
      expect(await idOf(h.engine, 't')).toBe(after);
      expect(h.engine.topicName(after)).toBe('t');
    } finally {
      await h.close();
    }
  });
});

describe('topic ids through the Kafka door', () => {
  let h: Harness;
  let id: string;

  beforeEach(async () => {
    h = await createHarness({ onDisk: true });
    await h.engine.createTopic('t', 2);
    id = await idOf(h.engine, 't');
  });
  afterEach(async () => {
    await h.close();
  });

  describe('Metadata', () => {
    it.each([10, 11, 12])('v%i shows each topic id and looks topics up by id', async (version) => {
      await h.engine.createTopic('u', 1);
      const answer = await call(
        metadataApi,
        version,
        {
          topics: [
            { name: 'u', topicId: ZERO_UUID },
            { name: null, topicId: id },
            { name: null, topicId: STRANGER },
          ],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        },
        h.ctx,
      );
      const [u, t, unknown] = answer!.topics;
      expect(u).toMatchObject({ errorCode: 0, name: 'u', topicId: await idOf(h.engine, 'u') });
      expect(t).toMatchObject({ errorCode: 0, name: 't', topicId: id });
      expect(t!.partitions.map((p) => p.partitionIndex)).toEqual([0, 1]);
      // The name of an unknown id may be null only from v12.
      expect(unknown).toMatchObject({
        errorCode: UNKNOWN_TOPIC_ID.code,
        name: version >= 12 ? null : '',
        topicId: STRANGER,
        partitions: [],
      });
    });

    it('answers a topic asked for by name and by id once, and never auto-creates by id', async () => {
      const answer = await call(
        metadataApi,
        12,
        {
          topics: [
            { name: 't', topicId: ZERO_UUID },
            { name: null, topicId: id },
          ],
          allowAutoTopicCreation: true,
          includeTopicAuthorizedOperations: false,
        },
        h.ctx,
      );
      expect(answer!.topics.map((t) => [t.name, t.topicId])).toEqual([['t', id]]);
      await call(
        metadataApi,
        12,
        {
          topics: [{ name: null, topicId: STRANGER }],
          allowAutoTopicCreation: true,
          includeTopicAuthorizedOperations: false,
        },
        h.ctx,
      );
      expect((await h.engine.listTopics()).map((t) => t.name)).toEqual(['t']);
    });

    it('answers UNKNOWN_TOPIC_ID for the id of a topic that was deleted and created again', async () => {
      await h.engine.deleteTopic('t');
      await h.engine.createTopic('t', 2);
      const answer = await call(
        metadataApi,
        12,
        {
          topics: [{ name: null, topicId: id }],
          allowAutoTopicCreation: false,
          includeTopicAuthorizedOperations: false,
        },
        h.ctx,
      );
      expect(answer!.topics).toMatchObject([{ errorCode: UNKNOWN_TOPIC_ID.code, name: null, topicId: id }]);
    });
  });

  describe('Fetch', () => {
    it.each([13, 14, 15, 16])('v%i reads by topic id, the stored batches byte for byte', async (version) => {
      const first = batchOf(3);
      const second = batchOf(2, { from: 3 });
      await h.engine.produce({ topic: 't', partition: 1, batches: first, acks: -1 });
      await h.engine.produce({ topic: 't', partition: 1, batches: second, acks: -1 });
      const answer = await call(
        fetchApi,
        version,
        fetchById([
          {
            topicId: id,
            partitions: [
              { partition: 0, offset: 0 },
              { partition: 1, offset: 0 },
            ],
          },
        ]),
        h.ctx,
      );
      expect(answer).toMatchObject({ errorCode: 0, sessionId: 0, nodeEndpoints: [] });
      expect(answer!.responses).toHaveLength(1);
      const [topic] = answer!.responses;
      expect(topic!.topicId).toBe(id);
      const [p0, p1] = topic!.partitions;
      expect(p0).toMatchObject({
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 0,
        records: new Uint8Array(0),
      });
      expect(p1).toMatchObject({
        partitionIndex: 1,
        errorCode: 0,
        highWatermark: 5,
        lastStableOffset: 5,
        logStartOffset: 0,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
        preferredReadReplica: -1,
      });
      expect(p1!.records).toEqual(concat(stored(first, 0), stored(second, 3)));
    });

    it('answers UNKNOWN_TOPIC_ID on each partition of an unknown id, at once, next to a known topic', async () => {
      await h.engine.produce({ topic: 't', partition: 0, batches: batchOf(1), acks: -1 });
      const started = Date.now();
      const answer = await call(
        fetchApi,
        16,
        fetchById(
          [
            {
              topicId: STRANGER,
              partitions: [
                { partition: 0, offset: 0 },
                { partition: 1, offset: 0 },
              ],
            },
            { topicId: id, partitions: [{ partition: 1, offset: 0 }] },
          ],
          { maxWaitMs: 2_000, minBytes: 1 << 20 },
        ),
        h.ctx,
      );
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(answer!.responses.map((t) => t.topicId)).toEqual([STRANGER, id]);
      expect(answer!.responses[0]!.partitions).toMatchObject([
        {
          partitionIndex: 0,
          errorCode: UNKNOWN_TOPIC_ID.code,
          highWatermark: -1,
          records: new Uint8Array(0),
        },
        { partitionIndex: 1, errorCode: UNKNOWN_TOPIC_ID.code, highWatermark: -1 },
      ]);
      expect(answer!.responses[1]!.partitions).toMatchObject([{ partitionIndex: 1, errorCode: 0 }]);
      // The zero UUID names no topic either.
      const zero = await call(
        fetchApi,
        13,
        fetchById([{ topicId: ZERO_UUID, partitions: [{ partition: 0, offset: 0 }] }]),
        h.ctx,
      );
      expect(zero!.responses[0]!.partitions[0]!.errorCode).toBe(UNKNOWN_TOPIC_ID.code);
    });

    it('answers UNKNOWN_TOPIC_ID, not the new topic, when the topic is created again during a long-poll', async () => {
      const fetching = call(
        fetchApi,
        16,
        fetchById([{ topicId: id, partitions: [{ partition: 0, offset: 0 }] }], { maxWaitMs: 3_000 }),
        h.ctx,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      await h.engine.deleteTopic('t');
      await h.engine.createTopic('t', 2);
      await h.engine.produce({ topic: 't', partition: 0, batches: batchOf(2), acks: -1 });
      const answer = await fetching;
      expect(answer!.responses[0]).toMatchObject({
        topicId: id,
        partitions: [{ partitionIndex: 0, errorCode: UNKNOWN_TOPIC_ID.code, records: new Uint8Array(0) }],
      });
      // The new topic has its own id, by which its data is read.
      const fresh = await call(
        fetchApi,
        16,
        fetchById([{ topicId: await idOf(h.engine, 't'), partitions: [{ partition: 0, offset: 0 }] }]),
        h.ctx,
      );
      expect(fresh!.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 2 });
    });

    it('v15+ takes the tagged replica state (a consumer leaves it out)', async () => {
      await h.engine.produce({ topic: 't', partition: 0, batches: batchOf(1), acks: -1 });
      for (const replicaState of [
        undefined,
        { replicaId: -1, replicaEpoch: -1 },
        { replicaId: 3, replicaEpoch: 7 },
      ]) {
        const answer = await call(
          fetchApi,
          15,
          fetchById([{ topicId: id, partitions: [{ partition: 0, offset: 0 }] }], {
            ...(replicaState ? { replicaState } : {}),
          }),
          h.ctx,
        );
        expect(answer!.responses[0]!.partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1 });
      }
    });

    it('v16 answers NOT_LEADER_OR_FOLLOWER on a single broker with no other leader to go to', async () => {
      // The engine refuses reads as while the broker shuts down.
      const shuttingDown = new Proxy(h.engine, {
        get(target, key) {
          if (key === 'fetchRaw') {
            return () =>
              Promise.reject(new BrokerError('NOT_LEADER_OR_FOLLOWER', 'the broker is shutting down'));
          }
          const value = Reflect.get(target, key);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      const ctx: KafkaContext = { ...h.ctx, engine: shuttingDown };
      const request = fetchById([{ topicId: id, partitions: [{ partition: 0, offset: 0 }] }]);
      // The broker refusing is the only one: the leader is unknown, so the client refreshes its metadata
      // (test/kafka/apis/cluster-metadata.test.ts has a cluster's leaders).
      const v16 = await call(fetchApi, 16, request, ctx);
      expect(v16!.responses[0]!.partitions[0]).toMatchObject({
        errorCode: NOT_LEADER_OR_FOLLOWER.code,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
      });
      expect(v16!.nodeEndpoints).toEqual([]);
      const v15 = await call(fetchApi, 15, request, ctx);
      expect(v15!.responses[0]!.partitions[0]).toMatchObject({
        errorCode: NOT_LEADER_OR_FOLLOWER.code,
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
      });
      expect(v15!.nodeEndpoints).toEqual([]);
    });
  });

  describe('CreateTopics and DeleteTopics', () => {
    it('CreateTopics v7 answers the id of the new topic', async () => {
      const answer = await call(
        createTopicsApi,
        7,
        {
          topics: [
            { name: 'n', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] },
            { name: 't', numPartitions: 1, replicationFactor: -1, assignments: [], configs: [] },
          ],
          timeoutMs: 1_000,
          validateOnly: false,
        },
        h.ctx,
      );
      const [created, existing] = answer!.topics;
      expect(created).toMatchObject({ name: 'n', errorCode: 0, topicId: await idOf(h.engine, 'n') });
      expect(created!.topicId).toMatch(TOPIC_ID);
      expect(existing).toMatchObject({
        name: 't',
        errorCode: ERRORS.TOPIC_ALREADY_EXISTS.code,
        topicId: ZERO_UUID,
      });
    });

    it('DeleteTopics v6 deletes by id, answering the name; an unknown id is UNKNOWN_TOPIC_ID', async () => {
      await h.engine.createTopic('u', 1);
      const answer = await call(
        deleteTopicsApi,
        6,
        {
          topics: [
            { name: null, topicId: id },
            { name: null, topicId: STRANGER },
            { name: 'u', topicId: ZERO_UUID },
          ],
          timeoutMs: 1_000,
        },
        h.ctx,
      );
      expect(answer!.responses).toEqual([
        { name: 't', topicId: id, errorCode: 0, errorMessage: null },
        { name: null, topicId: STRANGER, errorCode: UNKNOWN_TOPIC_ID.code, errorMessage: expect.any(String) },
        { name: 'u', topicId: ZERO_UUID, errorCode: 0, errorMessage: null },
      ]);
      expect(await h.engine.listTopics()).toEqual([]);
      expect(h.engine.topicName(id)).toBeUndefined();
    });

    it('DeleteTopics v6 refuses a topic given by both name and id, or listed by name and by id', async () => {
      await h.engine.createTopic('u', 1);
      const u = await idOf(h.engine, 'u');
      const answer = await call(
        deleteTopicsApi,
        6,
        {
          topics: [
            { name: 't', topicId: id },
            { name: 'u', topicId: ZERO_UUID },
            { name: null, topicId: u },
          ],
          timeoutMs: 1_000,
        },
        h.ctx,
      );
      expect(answer!.responses.map((r) => [r.name, r.topicId, r.errorCode])).toEqual([
        ['t', id, INVALID_REQUEST.code],
        ['u', ZERO_UUID, INVALID_REQUEST.code],
        ['u', u, INVALID_REQUEST.code],
      ]);
      expect((await h.engine.listTopics()).map((t) => t.name)).toEqual(['t', 'u']);
    });
  });
});
