/**
 * @module
 * A consumer-group member in its own process, for group-consumer.test.ts: under Bun or Deno (the client
 * runs anywhere), or to be killed -9 mid-membership.
 * `<runtime> test/client/group-member-script.ts <broker-url> <topic> <group-id> <count>` subscribes and
 * prints one line per callback (`EVENT {"kind":"assigned","partitions":[...]}`); with count >= 0 it stops
 * after that many records, commits, closes and prints `RESULT {...}`; with -1 it runs until killed.
 * It imports nothing but src/client, as an application would.
 */
import { Consumer, type TopicPartition, utf8 } from '../../src/client/index.ts';

const runtimes = globalThis as { Bun?: unknown; Deno?: { args: string[] } };
const deno = runtimes.Deno;
const runtime = runtimes.Bun !== undefined ? 'bun' : deno !== undefined ? 'deno' : 'node';
const [url, topic, groupId, countArg] = deno?.args ?? process.argv.slice(2);
if (url === undefined || topic === undefined || groupId === undefined || countArg === undefined) {
  throw new Error('usage: group-member-script.ts <broker-url> <topic> <group-id> <count>');
}
const count = Number(countArg);

const event = (kind: string) => (tps: TopicPartition[]) =>
  console.log(`EVENT ${JSON.stringify({ kind, partitions: tps.map((tp) => tp.partition).sort() })}`);

const consumer = new Consumer({ url, autoOffsetReset: 'earliest', fetchMaxWaitMs: 200 });
consumer.subscribe([topic], {
  groupId,
  sessionTimeoutMs: 1_500,
  heartbeatIntervalMs: 300,
  rebalanceTimeoutMs: 10_000,
  autoCommit: false,
  onAssigned: event('assigned'),
  onRevoked: event('revoked'),
  onLost: event('lost'),
});
const values: string[] = [];
const deadline = Date.now() + 20_000;
while (count < 0 || (values.length < count && Date.now() < deadline)) {
  for (const record of await consumer.poll({ maxWaitMs: 200 })) values.push(utf8(record.value)!);
}
await consumer.commit();
const metadata = consumer.groupMetadata();
await consumer.close();
console.log(
  `RESULT ${JSON.stringify({ runtime, consumed: values.length, distinct: new Set(values).size, assignor: metadata?.assignor })}`,
);
