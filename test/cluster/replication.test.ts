/**
 * @module
 * Replication with real processes: a real etcd and three real brokers. acks=all produce while the leader is
 * killed with SIGKILL (no acknowledged record lost, one consistent log, a new leader within seconds, the
 * old leader back as a follower with the same bytes); a paused follower (SIGSTOP) leaves the ISR and
 * produce goes on, then it catches up and rejoins (SIGCONT); with fewer in sync than min.insync.replicas,
 * NOT_ENOUGH_REPLICAS and nothing written; the controller killed and replaced while the cluster keeps
 * serving; and unmodified Kafka clients (kafkajs) finding each partition's leader through Metadata.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpack } from '../../src/client/codec.ts';
import { Producer } from '../../src/client/index.ts';
import { encodeRecordBatch } from '../../src/records/record-batch.ts';
import {
  expectSuccess,
  javaPartition,
  KCAT_FORMAT,
  kcat,
  parseKcatRecords,
  requireKafkaPython,
  runToExit,
  tempDir,
} from '../kafka/clients/support.ts';
import { WireClient } from '../kafka/wire-client.ts';
import type { BrokerHandle } from '../support/broker.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd.ts';
import { clusterOf, freshet, LEASE_TTL_SECONDS, startClusterBroker, waitFor } from './support.ts';

const CLUSTER = 'repl';
const LAG_MS = 1_500;

let etcd: EtcdHandle;
const brokers = new Map<number, BrokerHandle>();
/** Brokers under SIGSTOP: they accept connections but never answer, so nothing asks them. */
const paused = new Set<number>();
const dataDirs = new Map<number, string>();

const FLAGS = [
  '--replica-lag-time-max-ms',
  String(LAG_MS),
  '--replica-ack-timeout-ms',
  '8000',
  // No preferred-leader moves in the middle of these tests (preferred-leader.test.ts has its own).
  '--leader-imbalance-check-interval-ms',
  '0',
];

async function start(nodeId: number): Promise<BrokerHandle> {
  const broker = await startClusterBroker(nodeId, etcd.url, CLUSTER, FLAGS, dataDirs.get(nodeId));
  dataDirs.set(nodeId, broker.dataDir);
  brokers.set(nodeId, broker);
  return broker;
}

beforeAll(async () => {
  etcd = await startEtcd();
  await Promise.all([1, 2, 3].map(start));
  await waitFor('3 brokers registered', 15_000, async () =>
    (await clusterOf(brokers.get(1)!)).brokers.length === 3 ? true : undefined,
  );
}, 60_000);

afterAll(async () => {
  for (const broker of brokers.values()) {
    try {
      process.kill(broker.process.pid!, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  await Promise.all([...brokers.values()].map((b) => b.stop()));
  for (const dir of dataDirs.values()) spawnSync('rm', ['-rf', dir]);
  await etcd?.stop();
});

interface PartitionView {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  highWatermark: number;
}

function anyLive(): BrokerHandle {
  const broker = [...brokers].find(([id]) => !paused.has(id))?.[1];
  if (!broker) throw new Error('no live broker');
  return broker;
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (HTTP ${res.status}): ${text.slice(0, 300)}`);
  }
}

async function createTopic(
  name: string,
  partitions: number,
  config: Record<string, string | number> = {},
  replicationFactor = 3,
) {
  // Three registered brokers (one paused or restarted by an earlier test may be registering again).
  await waitFor('3 brokers registered', 20_000, async () =>
    (await clusterOf(anyLive())).brokers.length === 3 ? true : undefined,
  );
  const res = await fetch(`${anyLive().url}/v1/topics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ name, partitions, replicationFactor, config }),
  });
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body as unknown as { partitions: PartitionView[] };
}

async function describe_(topic: string, via: BrokerHandle = anyLive()): Promise<PartitionView[]> {
  const res = await fetch(`${via.url}/v1/topics/${topic}`, { headers: { accept: 'application/json' } });
  const body = await json(res);
  expect(res.status, JSON.stringify(body)).toBe(200);
  return (body as unknown as { partitions: PartitionView[] }).partitions;
}

/** The partition as etcd has it, from any live broker's GET /v1/cluster. */
async function stateOf(topic: string, partition: number): Promise<PartitionView | undefined> {
  const status = await clusterOf(anyLive());
  return (status.partitions as unknown as Array<PartitionView & { topic: string }>).find(
    (p) => p.topic === topic && p.partition === partition,
  );
}

type ProduceOutcome =
  | { ok: true; offset: number }
  | { ok: false; status: number; code: string; message: string };

async function produceTo(
  broker: BrokerHandle,
  topic: string,
  partition: number,
  value: string,
  acks: 'all' | '1' = 'all',
): Promise<ProduceOutcome> {
  const res = await fetch(`${broker.url}/v1/topics/${topic}/records?acks=${acks}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ records: [{ value, partition }] }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await json(res);
  if (res.status === 200) {
    return { ok: true, offset: (body as { results: Array<{ offset: number }> }).results[0]!.offset };
  }
  const error = (body as { error: { code: string; message: string } }).error;
  return { ok: false, status: res.status, code: error.code, message: error.message };
}

/** Every record of the partition, read from its leader, up to the high watermark. */
async function readAll(
  topic: string,
  partition: number,
  from = 0,
): Promise<Array<{ offset: number; value: string }>> {
  const state = await stateOf(topic, partition);
  const leader = brokers.get(state!.leader)!;
  const out: Array<{ offset: number; value: string }> = [];
  let offset = from;
  for (;;) {
    const res = await fetch(
      `${leader.url}/v1/topics/${topic}/partitions/${partition}/records?offset=${offset}`,
      {
        headers: { accept: 'application/json' },
      },
    );
    const body = (await json(res)) as {
      records: Array<{ offset: number; value: string }>;
      nextOffset: number;
      highWatermark: number;
    };
    expect(res.status, JSON.stringify(body)).toBe(200);
    out.push(...body.records.map((r) => ({ offset: r.offset, value: r.value })));
    if (body.nextOffset >= body.highWatermark || body.records.length === 0) return out;
    offset = body.nextOffset;
  }
}

/** GET /v1/replicas on every live broker: the log end offset each holds of the partition. */
async function replicaEnds(topic: string, partition: number): Promise<Map<number, number>> {
  const ends = new Map<number, number>();
  for (const [id, broker] of brokers) {
    if (paused.has(id)) continue;
    const res = await fetch(`${broker.url}/v1/replicas`, { signal: AbortSignal.timeout(3_000) });
    const body = (await res.json()) as {
      replicas: Array<{ topic: string; partition: number; logEndOffset: number }>;
    };
    const r = body.replicas.find((x) => x.topic === topic && x.partition === partition);
    if (r) ends.set(id, r.logEndOffset);
  }
  return ends;
}

/** Bytes in the segment files of a broker's copy of the partition (0: an emptied log). */
function logBytes(nodeId: number, topic: string, partition: number): number {
  const dir = path.join(dataDirs.get(nodeId)!, `${topic}-${partition}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
}

async function waitInSync(topic: string, partition: number, size: number, timeoutMs = 20_000) {
  return (
    await waitFor(`${topic}-${partition} with ${size} in sync`, timeoutMs, async () => {
      const s = await stateOf(topic, partition);
      return s && s.leader >= 0 && s.isr.length === size ? s : undefined;
    })
  ).value;
}

describe('replication', () => {
  it('loses no acknowledged record when the leader is killed under acks=all load', async () => {
    const topic = 'kill-leader';
    await createTopic(topic, 1, { 'min.insync.replicas': 2 });
    const first = await waitInSync(topic, 0, 3);
    const acked = new Map<string, number>();
    let stop = false;
    let failures = 0;
    let seq = 0;
    const producer = (async () => {
      while (!stop) {
        const state = await stateOf(topic, 0).catch(() => undefined);
        const leader = state && state.leader >= 0 ? brokers.get(state.leader) : undefined;
        if (!leader) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        const value = `v${seq++}`;
        const outcome = await produceTo(leader, topic, 0, value).catch(
          (err: Error): ProduceOutcome => ({ ok: false, status: 0, code: 'NETWORK', message: err.message }),
        );
        if (outcome.ok) acked.set(value, outcome.offset);
        else failures++;
      }
    })();
    await waitFor('some acknowledged records', 10_000, async () => (acked.size >= 50 ? true : undefined));
    const victim = brokers.get(first.leader)!;
    const killedAt = Date.now();
    await victim.kill9();
    brokers.delete(first.leader);
    const { value: next, ms } = await waitFor('a new leader', 15_000, async () => {
      const s = await stateOf(topic, 0);
      return s && s.leader >= 0 && s.leader !== first.leader ? s : undefined;
    });
    expect(next.leaderEpoch).toBeGreaterThan(first.leaderEpoch);
    // Elected within the lease TTL (when etcd notices the death) plus a little.
    expect(ms).toBeLessThan(LEASE_TTL_SECONDS * 1000 + 5_000);
    const before = acked.size;
    await waitFor('acknowledged records under the new leader', 15_000, async () =>
      acked.size >= before + 50 ? true : undefined,
    );
    stop = true;
    await producer;
    console.log(
      `kill-leader: ${acked.size} acknowledged, ${failures} failed attempts, new leader ${next.leader} after ${Date.now() - killedAt} ms`,
    );

    // The old leader comes back as a follower, truncates anything it had that the new leader does not, and
    // catches up: three replicas, one log.
    await start(first.leader);
    await waitInSync(topic, 0, 3, 30_000);
    const log = await readAll(topic, 0);
    const byValue = new Map(log.map((r) => [r.value, r.offset]));
    const lost = [...acked].filter(([value, offset]) => byValue.get(value) !== offset);
    expect(lost, 'acknowledged records missing or moved').toEqual([]);
    expect(log.map((r) => r.offset)).toEqual(log.map((_, i) => i));
    expect(new Set(log.map((r) => r.value)).size).toBe(log.length);
    const { value: ends } = await waitFor('equal log ends on all replicas', 20_000, async () => {
      const e = await replicaEnds(topic, 0);
      return e.size === 3 && new Set(e.values()).size === 1 ? e : undefined;
    });
    expect([...ends.values()][0]).toBe(log.length);

    // Kafka consumers that know an older leader epoch are fenced, ones ahead of it told to wait (KIP-320).
    const now = (await stateOf(topic, 0))!;
    const wire = await WireClient.connect(
      brokers.get(now.leader)!.kafka.host,
      brokers.get(now.leader)!.kafka.port,
    );
    try {
      const fetchAt = async (epoch: number) => {
        const { body } = await wire.request(1, 12, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [
            {
              topic,
              partitions: [
                {
                  partition: 0,
                  currentLeaderEpoch: epoch,
                  fetchOffset: 0,
                  lastFetchedEpoch: -1,
                  logStartOffset: -1,
                  partitionMaxBytes: 1 << 20,
                },
              ],
            },
          ],
          forgottenTopicsData: [],
          rackId: '',
        });
        return body.responses[0]!.partitions[0]!;
      };
      expect((await fetchAt(now.leaderEpoch)).errorCode).toBe(0);
      expect((await fetchAt(-1)).errorCode).toBe(0);
      const fenced = await fetchAt(now.leaderEpoch - 1);
      expect(fenced.errorCode).toBe(74); // FENCED_LEADER_EPOCH
      expect(fenced.currentLeader).toMatchObject({ leaderId: now.leader, leaderEpoch: now.leaderEpoch });
      expect((await fetchAt(now.leaderEpoch + 5)).errorCode).toBe(75); // UNKNOWN_LEADER_EPOCH

      // ListOffsets checks the epoch the same way, and says which epoch wrote the offset it answers.
      const listAt = async (epoch: number, timestamp: number) => {
        const { body } = await wire.request(2, 7, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [
            { name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: epoch, timestamp }] },
          ],
        });
        return body.topics[0]!.partitions[0]!;
      };
      const latest = await listAt(now.leaderEpoch, -1);
      expect(latest).toMatchObject({ errorCode: 0, offset: log.length, leaderEpoch: now.leaderEpoch });
      const earliest = await listAt(-1, -2);
      expect(earliest).toMatchObject({ errorCode: 0, offset: 0 });
      // The first records were written before the kill, by the first leader: an older epoch.
      expect(earliest.leaderEpoch).toBeGreaterThanOrEqual(0);
      expect(earliest.leaderEpoch).toBeLessThan(now.leaderEpoch);
      expect((await listAt(now.leaderEpoch - 1, -1)).errorCode).toBe(74); // FENCED_LEADER_EPOCH
      expect((await listAt(now.leaderEpoch + 5, -2)).errorCode).toBe(75); // UNKNOWN_LEADER_EPOCH
    } finally {
      wire.socket.destroy();
    }
  }, 120_000);

  it('drops a paused follower from the ISR and keeps producing; it catches up and rejoins', async () => {
    const topic = 'pause-follower';
    await createTopic(topic, 1, { 'min.insync.replicas': 2 });
    const state = await waitInSync(topic, 0, 3);
    const leader = brokers.get(state.leader)!;
    const followerId = state.replicas.find((b) => b !== state.leader)!;
    const follower = brokers.get(followerId)!;
    for (let i = 0; i < 20; i++) expect((await produceTo(leader, topic, 0, `a${i}`)).ok).toBe(true);

    process.kill(follower.process.pid!, 'SIGSTOP');
    paused.add(followerId);
    try {
      const { value: shrunk } = await waitFor('the paused follower out of the ISR', 15_000, async () => {
        const s = await stateOf(topic, 0);
        return s && !s.isr.includes(followerId) ? s : undefined;
      });
      expect(shrunk.isr).toHaveLength(2);
      // Two in sync ≥ min.insync.replicas 2: acks=all goes on.
      for (let i = 0; i < 20; i++) {
        const outcome = await produceTo(leader, topic, 0, `b${i}`);
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
      }
    } finally {
      process.kill(follower.process.pid!, 'SIGCONT');
      paused.delete(followerId);
    }
    const rejoined = await waitInSync(topic, 0, 3, 30_000);
    expect(rejoined.isr).toContain(followerId);
    const { value: ends } = await waitFor('the follower caught up', 15_000, async () => {
      const e = await replicaEnds(topic, 0);
      return e.get(followerId) === 40 ? e : undefined;
    });
    expect([...ends.values()]).toEqual([40, 40, 40]);
  }, 90_000);

  it('answers NOT_ENOUGH_REPLICAS and writes nothing with fewer in sync than min.insync.replicas', async () => {
    const topic = 'min-insync';
    await createTopic(topic, 1, { 'min.insync.replicas': 3 });
    const state = await waitInSync(topic, 0, 3);
    const leader = brokers.get(state.leader)!;
    expect((await produceTo(leader, topic, 0, 'first')).ok).toBe(true);
    const followerId = state.replicas.find((b) => b !== state.leader)!;
    const follower = brokers.get(followerId)!;
    process.kill(follower.process.pid!, 'SIGSTOP');
    paused.add(followerId);
    try {
      await waitFor('the ISR down to 2', 15_000, async () => {
        const s = await stateOf(topic, 0);
        return s && s.isr.length === 2 ? s : undefined;
      });
      const refused = await produceTo(leader, topic, 0, 'refused');
      expect(refused).toMatchObject({ ok: false, status: 503, code: 'NOT_ENOUGH_REPLICAS' });
      // Nothing was written: the leader's log still ends after the first record.
      const ends = await replicaEnds(topic, 0).catch(() => new Map<number, number>());
      expect(ends.get(state.leader)).toBe(1);
      // acks=1 does not need the ISR.
      expect(await produceTo(leader, topic, 0, 'acks1', '1')).toMatchObject({ ok: true, offset: 1 });
    } finally {
      process.kill(follower.process.pid!, 'SIGCONT');
      paused.delete(followerId);
    }
    await waitInSync(topic, 0, 3, 30_000);
    expect(await produceTo(leader, topic, 0, 'again')).toMatchObject({ ok: true, offset: 2 });
    expect((await readAll(topic, 0)).map((r) => r.value)).toEqual(['first', 'acks1', 'again']);
  }, 90_000);

  it('pipelines acks=all produce: headers at the append, the body at the commit, a late failure in the body', async () => {
    const topic = 'pipelined';
    await createTopic(topic, 1, { 'min.insync.replicas': 3 });
    const state = await waitInSync(topic, 0, 3);
    const leader = brokers.get(state.leader)!;
    const batch = (values: string[]) =>
      encodeRecordBatch(values.map((v) => ({ key: null, value: new TextEncoder().encode(v) })));
    const pipelined = (values: string[], accept: string) =>
      fetch(`${leader.url}/v1/topics/${topic}/records?partition=0&acks=all&answer=range&pipeline=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.recordbatch', accept },
        body: batch(values) as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(20_000),
      });

    // JSON (curl): the answer after a space, still one JSON document; the header names the base offset.
    const first = await pipelined(['p0', 'p1'], 'application/json');
    expect(first.status).toBe(200);
    expect(first.headers.get('freshet-appended')).toBe('0');
    expect(JSON.parse(await first.text())).toEqual({ partition: 0, baseOffset: 0, lastOffset: 1, count: 2 });
    // msgpack: a nil, then the answer.
    const second = await pipelined(['p2'], 'application/msgpack');
    expect(second.headers.get('freshet-appended')).toBe('2');
    const bytes = new Uint8Array(await second.arrayBuffer());
    expect(bytes[0]).toBe(0xc0);
    expect(unpack(bytes.subarray(1))).toEqual({ partition: 0, baseOffset: 2, lastOffset: 2, count: 1 });

    // The Freshet Producer sends a partition's next batch while the one before waits for its replicas, and
    // every record still lands at the offset of its turn.
    let open = 0;
    let mostOpen = 0;
    const counting = (async (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const isProduce = init?.method === 'POST' && String(input).includes('/records');
      if (!isProduce) return fetch(input, init);
      open++;
      mostOpen = Math.max(mostOpen, open);
      const response = await fetch(input, init).catch((err) => {
        open--;
        throw err;
      });
      // Open until its body has come whole (a pipelined answer's body comes at the commit).
      const [mine, theirs] = response.body!.tee();
      void new Response(mine).arrayBuffer().finally(() => {
        open--;
      });
      return new Response(theirs, { status: response.status, headers: response.headers });
    }) as typeof fetch;
    const producer = new Producer({ url: leader.url, fetch: counting, batchBytes: 8 * 1024, lingerMs: 1 });
    const value = 'v'.repeat(1_000);
    const sends = Array.from({ length: 400 }, (_, i) =>
      producer.send(topic, { partition: 0, value: `${i}:${value}` }),
    );
    const results = await Promise.all(sends);
    await producer.close();
    expect(results.map((r) => r.offset)).toEqual(results.map((_, i) => 3 + i));
    expect(mostOpen, 'produce requests open at once').toBeGreaterThan(1);
    const log = await readAll(topic, 0, 3);
    expect(log.map((r) => Number(r.value.split(':')[0]))).toEqual(results.map((_, i) => i));

    // Appended, then the ISR falls below min.insync.replicas before the followers have it: the status has
    // gone (200), so the failure comes in the body, and the client takes it as the error it is.
    const followers = state.replicas.filter((b) => b !== state.leader);
    for (const id of followers) {
      process.kill(brokers.get(id)!.process.pid!, 'SIGSTOP');
      paused.add(id);
    }
    try {
      const late = await pipelined(['late'], 'application/json');
      expect(late.status).toBe(200);
      expect(late.headers.get('freshet-appended')).toBe('403');
      expect(JSON.parse(await late.text())).toMatchObject({
        error: { code: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND' },
      });
      const viaClient = new Producer({ url: leader.url, retries: 0 });
      await expect(viaClient.send(topic, { partition: 0, value: 'late-too' })).rejects.toMatchObject({
        code: 'NOT_ENOUGH_REPLICAS',
      });
      await viaClient.close();
    } finally {
      for (const id of followers) {
        process.kill(brokers.get(id)!.process.pid!, 'SIGCONT');
        paused.delete(id);
      }
    }
    await waitInSync(topic, 0, 3, 30_000);
  }, 120_000);

  it('takes {records} at any broker: keyed records go on to their leaders, keyless ones stay where they are led', async () => {
    const topic = 'any-door';
    await createTopic(topic, 3);
    await Promise.all([0, 1, 2].map((p) => waitInSync(topic, p, 3)));
    const states = await Promise.all([0, 1, 2].map((p) => stateOf(topic, p)));
    const door = anyLive();
    const doorId = [...brokers].find(([, b]) => b === door)![0];
    expect(states.map((s) => s!.leader)).toContain(doorId);
    // Leaders are spread over the brokers: some keys land on partitions the door does not lead.
    expect(states.some((s) => s!.leader !== doorId)).toBe(true);
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    const res = await fetch(`${door.url}/v1/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ records: keys.map((key) => ({ key, value: `v-${key}` })) }),
    });
    const body = (await json(res)) as { results: Array<{ partition: number; offset: number }> };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.results.map((r) => r.partition)).toEqual(keys.map((k) => javaPartition(k, 3)));
    for (let p = 0; p < 3; p++) {
      const mine = keys.filter((k) => javaPartition(k, 3) === p);
      const log = await readAll(topic, p);
      expect(log.map((r) => r.value)).toEqual(mine.map((k) => `v-${k}`));
      expect(body.results.filter((r) => r.partition === p).map((r) => r.offset)).toEqual(
        mine.map((_, i) => i),
      );
    }
    // Keyless records stick to a partition the door leads.
    const keyless = await fetch(`${door.url}/v1/topics/${topic}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ records: [{ value: 'a' }, { value: 'b' }] }),
    });
    const placed = (await json(keyless)) as { results: Array<{ partition: number }> };
    expect(keyless.status).toBe(200);
    const partition = placed.results[0]!.partition;
    expect(placed.results.map((r) => r.partition)).toEqual([partition, partition]);
    expect(states[partition]!.leader).toBe(doorId);
  }, 60_000);

  it('replaces a killed controller and keeps serving', async () => {
    const before = await clusterOf(anyLive());
    const controllerId = before.controller!.nodeId;
    const victim = brokers.get(controllerId)!;
    await victim.kill9();
    brokers.delete(controllerId);
    const { value: after } = await waitFor('another controller', 15_000, async () => {
      const s = await clusterOf(anyLive());
      return s.controller && s.controller.nodeId !== controllerId ? s : undefined;
    });
    expect(after.controller!.epoch).toBeGreaterThan(before.controller!.epoch);
    // Topics created now are placed by the new controller on the live brokers (RF 2 of 2 live).
    const res = await fetch(`${anyLive().url}/v1/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ name: 'after-failover', partitions: 2, replicationFactor: 2 }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    for (const p of [0, 1]) {
      const s = await waitInSync('after-failover', p, 2);
      expect(s.replicas).not.toContain(controllerId);
      expect((await produceTo(brokers.get(s.leader)!, 'after-failover', p, `x${p}`)).ok).toBe(true);
    }
    await start(controllerId);
    await waitFor('3 brokers again', 20_000, async () =>
      (await clusterOf(anyLive())).brokers.length === 3 ? true : undefined,
    );
  }, 90_000);

  it('lets kafkajs find each partition leader through Metadata and produce and consume with acks=all', async () => {
    const topic = 'kafkajs-rf3';
    await createTopic(topic, 3, { 'min.insync.replicas': 2 });
    for (const p of [0, 1, 2]) await waitInSync(topic, p, 3);
    const views = await describe_(topic);
    expect(new Set(views.map((v) => v.leader)).size).toBeGreaterThan(1);
    const kafka = new Kafka({
      clientId: 'repl-test',
      brokers: [anyLive().kafkaAddress],
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    const sent: string[] = [];
    for (let i = 0; i < 60; i++) sent.push(`k${i}`);
    await producer.send({
      topic,
      acks: -1,
      messages: sent.map((value, i) => ({ value, partition: i % 3 })),
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'repl-test-group' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(message.value!.toString());
      },
    });
    await waitFor('all records consumed', 30_000, async () =>
      seen.length >= sent.length ? true : undefined,
    );
    await consumer.disconnect();
    expect([...seen].sort()).toEqual([...sent].sort());
  }, 90_000);

  it('reassigns a partition with freshet partitions reassign: the new replica copies the log before the switch', async () => {
    const topic = 'reassign-me';
    await createTopic(topic, 1, {}, 2);
    const before = await waitInSync(topic, 0, 2);
    const leader = brokers.get(before.leader)!;
    for (let i = 0; i < 100; i++) expect((await produceTo(leader, topic, 0, `r${i}`)).ok).toBe(true);
    // Move to the broker that holds no replica and the follower, away from the leader.
    const newcomer = [1, 2, 3].find((b) => !before.replicas.includes(b))!;
    const follower = before.replicas.find((b) => b !== before.leader)!;
    const target = [follower, newcomer];
    const run = await freshet(
      anyLive(),
      'partitions',
      'reassign',
      topic,
      '0',
      '--replicas',
      target.join(','),
      '--wait',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`replicas ${target.join(',')}`);
    const after = await waitInSync(topic, 0, 2);
    expect(after.replicas).toEqual(target);
    expect(target).toContain(after.leader);
    expect(after.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    const { value: ends } = await waitFor('the newcomer holding the whole log', 15_000, async () => {
      const e = await replicaEnds(topic, 0);
      return e.get(newcomer) === 100 ? e : undefined;
    });
    expect(ends.get(follower)).toBe(100);
    expect(await produceTo(brokers.get(after.leader)!, topic, 0, 'after-move')).toMatchObject({
      ok: true,
      offset: 100,
    });
    const log = await readAll(topic, 0);
    expect(log.map((r) => r.value)).toEqual([
      ...Array.from({ length: 100 }, (_, i) => `r${i}`),
      'after-move',
    ]);
    // The broker moved away from deletes its copy of the log (what is left is one empty segment).
    await waitFor('the old replica emptying its log', 15_000, async () =>
      logBytes(before.leader, topic, 0) === 0 ? true : undefined,
    );
    // A broker that holds no replica any more describes the partition with the leader's offsets.
    const outsider = [1, 2, 3].find((b) => !target.includes(b))!;
    const seen = await describe_(topic, brokers.get(outsider)!);
    expect(seen[0]).toMatchObject({ highWatermark: 101, logStartOffset: 0, leader: after.leader });
    // Unknown brokers are refused with the Kafka error name.
    const bad = await freshet(anyLive(), 'partitions', 'reassign', topic, '0', '--replicas', '1,99');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('INVALID_REPLICA_ASSIGNMENT');
  }, 90_000);

  it('empties, when it comes back, the log of a replica moved away while its broker was down', async () => {
    const topic = 'moved-while-down';
    await createTopic(topic, 1, {}, 2);
    const before = await waitInSync(topic, 0, 2);
    const leader = brokers.get(before.leader)!;
    for (let i = 0; i < 50; i++) expect((await produceTo(leader, topic, 0, `m${i}`)).ok).toBe(true);
    const away = before.replicas.find((b) => b !== before.leader)!;
    await waitFor('the follower holding every record', 15_000, async () =>
      (await replicaEnds(topic, 0)).get(away) === 50 ? true : undefined,
    );
    await brokers.get(away)!.kill9();
    brokers.delete(away);
    const newcomer = [1, 2, 3].find((b) => !before.replicas.includes(b))!;
    const target = [before.leader, newcomer];
    const run = await freshet(
      leader,
      'partitions',
      'reassign',
      topic,
      '0',
      '--replicas',
      target.join(','),
      '--wait',
    );
    expect(run.status, run.stderr).toBe(0);
    await start(away);
    await waitFor('the returning broker emptying the log it no longer replicates', 20_000, async () =>
      logBytes(away, topic, 0) === 0 ? true : undefined,
    );
    expect((await readAll(topic, 0)).map((r) => r.value)).toEqual(
      Array.from({ length: 50 }, (_, i) => `m${i}`),
    );
  }, 90_000);

  it('starts a returning follower again at the leader log start when the records it lacks were deleted', async () => {
    const topic = 'behind-log-start';
    await createTopic(topic, 1, { 'min.insync.replicas': 1 });
    const state = await waitInSync(topic, 0, 3);
    const leader = brokers.get(state.leader)!;
    const laggardId = state.replicas.find((b) => b !== state.leader)!;
    const laggard = brokers.get(laggardId)!;
    for (let i = 0; i < 10; i++) expect((await produceTo(leader, topic, 0, `x${i}`)).ok).toBe(true);
    await waitFor('the laggard caught up once', 10_000, async () =>
      (await replicaEnds(topic, 0)).get(laggardId) === 10 ? true : undefined,
    );
    process.kill(laggard.process.pid!, 'SIGSTOP');
    paused.add(laggardId);
    try {
      await waitFor('the laggard out of the ISR', 15_000, async () => {
        const s = await stateOf(topic, 0);
        return s && !s.isr.includes(laggardId) ? s : undefined;
      });
      for (let i = 10; i < 60; i++) expect((await produceTo(leader, topic, 0, `x${i}`)).ok).toBe(true);
      // Kafka's DeleteRecords, sent to the leader itself, moves its log start past what the laggard holds.
      const wire = await WireClient.connect(leader.kafka.host, leader.kafka.port);
      try {
        const { body } = await wire.request(21, 1, {
          topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 40 }] }],
          timeoutMs: 5_000,
        });
        expect(body.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 40 });
      } finally {
        wire.socket.destroy();
      }
    } finally {
      process.kill(laggard.process.pid!, 'SIGCONT');
      paused.delete(laggardId);
    }
    await waitInSync(topic, 0, 3, 30_000);
    const { value: ends } = await waitFor('every replica at 60', 15_000, async () => {
      const e = await replicaEnds(topic, 0);
      return [...e.values()].every((v) => v === 60) && e.size === 3 ? e : undefined;
    });
    expect(ends.get(laggardId)).toBe(60);
    const log = await readAll(topic, 0, 40);
    expect(log.map((r) => r.value)).toEqual(Array.from({ length: 20 }, (_, i) => `x${40 + i}`));
    expect(laggard.stderr()).toContain('log started again at the leader log start');
  }, 90_000);

  it('lets kcat and kafka-python find the leaders: produce with acks=all, read back, consume in a group', async () => {
    const topic = 'rdkafka-rf3';
    await createTopic(topic, 3, { 'min.insync.replicas': 2 });
    for (const p of [0, 1, 2]) await waitInSync(topic, p, 3);
    const via = anyLive();
    const meta = JSON.parse(expectSuccess('kcat -L', await kcat(via, ['-L', '-J', '-t', topic])).stdout) as {
      brokers: Array<{ id: number }>;
      controllerid: number;
      topics: Array<{
        partitions: Array<{ partition: number; leader: number; replicas: unknown[]; isrs: unknown[] }>;
      }>;
    };
    expect(meta.brokers.map((b) => b.id).sort()).toEqual([1, 2, 3]);
    // Metadata names the controller etcd elected.
    expect(meta.controllerid).toBe((await clusterOf(via)).controller!.nodeId);
    const partitions = meta.topics[0]!.partitions;
    expect(partitions).toHaveLength(3);
    for (const p of partitions) {
      expect(p.replicas).toHaveLength(3);
      expect(p.isrs).toHaveLength(3);
      expect(p.leader).toBe((await stateOf(topic, p.partition))!.leader);
    }
    // librdkafka sends each partition's records to its leader (one broker given as bootstrap).
    // JSON values: the kafka-python script reads them as JSON.
    const lines = Array.from({ length: 300 }, (_, i) => `k${i}:"v${i}"`);
    const file = `${tempDir('repl-kcat')}/in.txt`;
    writeFileSync(file, `${lines.join('\n')}\n`);
    const produced = await kcat(via, ['-P', '-t', topic, '-K', ':', '-X', 'acks=all', '-l', file]);
    expectSuccess('kcat -P', produced);
    expect(produced.stderr).not.toMatch(/^% (ERROR|Delivery failed)/m);
    const read = await kcat(via, [
      '-C',
      '-t',
      topic,
      '-e',
      '-o',
      'beginning',
      '-X',
      'check.crcs=true',
      '-f',
      KCAT_FORMAT,
    ]);
    const records = parseKcatRecords(expectSuccess('kcat -C', read).stdout);
    expect(records.map((r) => `${r.key}:${r.value}`).sort()).toEqual([...lines].sort());
    expect(new Set(records.map((r) => r.partition)).size).toBe(3);
    // kafka-python: a group consumer (FindCoordinator names the cluster's coordinator) reads everything.
    const script = fileURLToPath(new URL('../kafka/clients/kafka_python_clients.py', import.meta.url));
    const run = await runToExit(requireKafkaPython(), [script, 'consume'], {
      input: JSON.stringify({
        bootstrap: via.kafkaAddress,
        api_version: null,
        topic,
        group: 'repl-kpy',
        timeout_ms: 8000,
        commit: 'manual',
      }),
      timeoutMs: 60_000,
    });
    expectSuccess('kafka-python consume', run);
    const answer = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
      records: Array<{ key: string }>;
      committed: Record<string, number>;
    };
    expect(answer.records.map((r) => r.key).sort()).toEqual(lines.map((l) => l.split(':')[0]).sort());
    expect(Object.values(answer.committed).reduce((a, b) => a + b, 0)).toBe(lines.length);
  }, 120_000);

  it("keeps the Freshet Producer's acknowledged records when the leader it writes to is killed", async () => {
    const topic = 'client-failover';
    await createTopic(topic, 1, { 'min.insync.replicas': 2 });
    const first = await waitInSync(topic, 0, 3);
    // Pointed at a broker that does not lead: the client finds the leader, and follows it when it moves.
    const other = [...brokers].find(([id]) => id !== first.leader)![1];
    // Small batches and up to 40 sends outstanding: several pipelined batches are in flight when it dies.
    const producer = new Producer({
      url: other.url,
      bootstrap: [...brokers.values()].map((b) => b.url),
      lingerMs: 2,
      batchBytes: 512,
      retries: 20,
    });
    const acked = new Map<string, number>();
    const failed: string[] = [];
    let stop = false;
    const loop = (async () => {
      const outstanding = new Set<Promise<void>>();
      for (let i = 0; !stop; i++) {
        const value = `c${i}`;
        const sending = producer
          .send(topic, { value, partition: 0 })
          .then(
            (meta) => {
              acked.set(value, meta.offset);
            },
            () => {
              failed.push(value);
            },
          )
          .finally(() => outstanding.delete(sending));
        outstanding.add(sending);
        if (outstanding.size >= 40) await Promise.race(outstanding);
      }
      await Promise.all(outstanding);
    })();
    await waitFor('acknowledged records', 10_000, async () => (acked.size >= 100 ? true : undefined));
    await brokers.get(first.leader)!.kill9();
    brokers.delete(first.leader);
    const before = acked.size;
    await waitFor('acknowledged records under the new leader', 30_000, async () =>
      acked.size >= before + 100 ? true : undefined,
    );
    stop = true;
    await loop;
    await producer.close();
    await start(first.leader);
    await waitInSync(topic, 0, 3, 30_000);
    const log = await readAll(topic, 0);
    // Every acknowledged record is where its acknowledgement said (a resent copy may sit later too).
    const at = new Map<string, number[]>();
    for (const r of log) at.set(r.value, [...(at.get(r.value) ?? []), r.offset]);
    expect([...acked].filter(([value, offset]) => !at.get(value)?.includes(offset))).toEqual([]);
    // In the order sent: a record never comes before an earlier one (first copies), whatever was resent.
    const firsts = [...at.keys()].map((value) => Number(value.slice(1)));
    expect(firsts.filter((n, i) => i > 0 && n < firsts[i - 1]!)).toEqual([]);
    console.log(
      `client failover: ${acked.size} acknowledged, ${failed.length} failed, ${log.length} in the log`,
    );
  }, 120_000);
});
