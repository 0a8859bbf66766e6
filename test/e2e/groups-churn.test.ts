/**
 * @module
 * Consumer-group churn against a real broker process: for 30 s in-process members join and leave at random
 * (a seeded PRNG picks what happens; the timing is the machine's) while a producer keeps producing to an
 * 8-partition topic. Members leave by close() (commit, revoke, leave) or are abandoned: their fetch starts
 * failing at once, as if the process had died or the network had gone, so they never commit or leave again
 * and the broker finds out only when their session times out. At the end one more member drains the topic:
 * every produced record was processed at least once, and the group's committed offsets reach every
 * partition's log end offset.
 */
import { afterEach, expect, it } from 'vitest';
import { Consumer, utf8 } from '../../src/client/index.ts';
import { type BrokerHandle, startBroker } from '../support/broker.ts';
import { seededRandom } from '../support/seeded-random.ts';
import { createTopic, describeGroup, produceJson, uniqueTopic, waitUntil } from './support.ts';

const GROUP_ARGS = ['--group-min-session-timeout-ms', '500', '--group-initial-rebalance-delay-ms', '0'];
const RUN_MS = 30_000;
const PARTITIONS = 8;
const MAX_ALIVE = 5;
const SESSION_TIMEOUT_MS = 1500;

interface Member {
  id: number;
  consumer: Consumer;
  /** Set when abandoned: every request fails from then on. */
  cut: boolean;
  stopped: boolean;
  polling: Promise<void>;
}

const brokers: BrokerHandle[] = [];
const everyMember: Member[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Stops a member's poll loop and closes it (bounded: an abandoned member's requests fail anyway). */
async function shutDown(member: Member): Promise<void> {
  member.stopped = true;
  await member.polling;
  await Promise.race([member.consumer.close(), sleep(SESSION_TIMEOUT_MS + 5_000)]);
}

afterEach(async () => {
  await Promise.all(everyMember.splice(0).map(shutDown));
  await Promise.all(brokers.splice(0).map((broker) => broker.stop()));
});

it('members join, leave and die at random while records flow; every record is processed and committed', async () => {
  const broker = await startBroker({ workers: 2, args: GROUP_ARGS });
  brokers.push(broker);
  const topic = uniqueTopic('churn');
  const group = `group-${topic}`;
  await createTopic(broker.url, topic, PARTITIONS);
  // Two generators, so the churn's choices do not depend on how often the producer got to run.
  const random = seededRandom(0x6c0ffee);
  const producerRandom = seededRandom(0x5eed);

  // `partition:offset` → value, for what the producer had acknowledged and what members processed.
  const produced = new Map<string, string>();
  const processed = new Map<string, string>();
  const pollErrors: string[] = [];

  let producing = true;
  const producer = (async () => {
    for (let n = 0; producing; ) {
      const count = 1 + Math.floor(producerRandom() * 20);
      const values = Array.from({ length: count }, (_, i) => `v${n + i}`);
      const results = await produceJson(
        broker.url,
        topic,
        values.map((value, i) => ({ key: `key-${(n + i) % 97}`, value })),
      );
      results.forEach((r, i) => {
        produced.set(`${r.partition}:${r.offset}`, values[i]!);
      });
      n += count;
      await sleep(10 + producerRandom() * 40);
    }
  })();
  // A failure surfaces from `await producer`; until then it must not count as unhandled.
  producer.catch(() => {});

  let nextId = 0;
  const join = (): Member => {
    const member: Member = {
      id: nextId++,
      consumer: undefined as unknown as Consumer,
      cut: false,
      stopped: false,
      polling: Promise.resolve(),
    };
    const cuttable = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (member.cut) throw new TypeError('fetch failed: the member was abandoned');
      return fetch(input, init);
    }) as typeof fetch;
    member.consumer = new Consumer({
      url: broker.url,
      fetch: cuttable,
      autoOffsetReset: 'earliest',
      fetchMaxWaitMs: 300,
    });
    member.consumer.subscribe([topic], {
      groupId: group,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      heartbeatIntervalMs: 300,
      rebalanceTimeoutMs: 10_000,
      autoCommitIntervalMs: 300,
    });
    member.polling = (async () => {
      while (!member.stopped) {
        try {
          // What poll() hands out counts as processed at once, before anything else runs.
          for (const r of await member.consumer.poll({ maxWaitMs: 200 })) {
            processed.set(`${r.partition}:${r.offset}`, utf8(r.value)!);
          }
        } catch (err) {
          if (!member.cut) pollErrors.push(`member ${member.id}: ${(err as Error).message}`);
        }
      }
    })();
    everyMember.push(member);
    return member;
  };

  const alive: Member[] = [join()];
  const closing: Array<Promise<void>> = [];
  const tally = { joined: 1, closed: 0, abandoned: 0, maxAlive: 1 };
  const deadline = Date.now() + RUN_MS;
  while (Date.now() < deadline) {
    await sleep(200 + random() * 1300);
    const add = alive.length === 1 || (alive.length < MAX_ALIVE && random() < 0.5);
    if (add) {
      alive.push(join());
      tally.joined++;
      tally.maxAlive = Math.max(tally.maxAlive, alive.length);
      continue;
    }
    const [leaving] = alive.splice(Math.floor(random() * alive.length), 1);
    if (random() < 0.3) {
      // Dies: no commit, no leave; its poll loop stops as a dead process's would.
      leaving!.cut = true;
      leaving!.stopped = true;
      tally.abandoned++;
    } else {
      closing.push(shutDown(leaving!));
      tally.closed++;
    }
  }
  // Every member goes, the producer carries on a little: the last member has a backlog to drain.
  await Promise.all([...alive.splice(0).map(shutDown), ...closing]);
  const producedWithoutMembers = produced.size;
  await sleep(1000);
  producing = false;
  await producer;
  expect(produced.size).toBeGreaterThan(producedWithoutMembers);
  // The choices are the seed's; only how many rounds fit in RUN_MS depends on the machine. In 30 s of
  // nominal sleeps the seed gives 20 joins, 13 closes and 4 deaths; even half the rounds clear these bounds.
  expect(tally.joined, JSON.stringify(tally)).toBeGreaterThanOrEqual(10);
  expect(tally.closed, JSON.stringify(tally)).toBeGreaterThanOrEqual(3);
  expect(tally.abandoned, JSON.stringify(tally)).toBeGreaterThanOrEqual(2);
  expect(tally.maxAlive, JSON.stringify(tally)).toBe(MAX_ALIVE);

  // The last member drains what is left.
  join();
  const ends = new Map<number, number>();
  for (const at of produced.keys()) {
    const [partition, offset] = at.split(':').map(Number) as [number, number];
    ends.set(partition, Math.max(ends.get(partition) ?? 0, offset + 1));
  }
  expect(ends.size).toBe(PARTITIONS);
  const caughtUp = await waitUntil(
    async () => {
      const description = await describeGroup(broker.url, group);
      const done =
        description.partitions.length === PARTITIONS &&
        description.partitions.every(
          (p) =>
            p.lag === 0 &&
            p.committedOffset === ends.get(p.partition) &&
            p.logEndOffset === ends.get(p.partition),
        );
      return done ? description : undefined;
    },
    30_000,
    'the committed offsets to reach the log end offsets',
    200,
  );
  expect(caughtUp.members).toHaveLength(1);

  const lost = [...produced].filter(([at, value]) => processed.get(at) !== value);
  expect(lost.slice(0, 20), `${lost.length} of ${produced.size} records never processed`).toEqual([]);
  expect(pollErrors).toEqual([]);
}, 90_000);
