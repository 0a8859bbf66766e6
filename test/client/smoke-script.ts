/**
 * @module
 * A runtime smoke test of the client, run by `runtimes.test.ts` under Bun and Deno (and Node's own vitest):
 * `<runtime> test/client/smoke-script.ts <broker-url> <topic>` produces keyed records, reads them back and
 * prints one line `RESULT {...}`. It imports nothing but src/client, as an application would.
 */
import { Admin, Consumer, Producer, utf8 } from '../../src/client/index.ts';

const runtimes = globalThis as { Bun?: unknown; Deno?: { args: string[] } };
const deno = runtimes.Deno;
const runtime = runtimes.Bun !== undefined ? 'bun' : deno !== undefined ? 'deno' : 'node';
const [url, topic] = deno?.args ?? process.argv.slice(2);
if (url === undefined || topic === undefined) throw new Error('usage: smoke-script.ts <broker-url> <topic>');

const COUNT = 50;
const admin = new Admin({ url });
await admin.createTopic(topic, { partitions: 2 });
const producer = new Producer({ url });
const sent = await producer.send(
  topic,
  Array.from({ length: COUNT }, (_, i) => ({
    key: `k${i % 5}`,
    value: `${runtime}-${i}`,
    headers: { n: String(i) },
  })),
);
await producer.close();

const consumer = new Consumer({ url, autoOffsetReset: 'earliest' });
consumer.assign([
  { topic, partition: 0 },
  { topic, partition: 1 },
]);
const values: string[] = [];
const deadline = Date.now() + 10_000;
while (values.length < COUNT && Date.now() < deadline) {
  for (const record of await consumer.poll({ maxWaitMs: 500 })) values.push(utf8(record.value)!);
}
await consumer.close();
const expected = Array.from({ length: COUNT }, (_, i) => `${runtime}-${i}`);
const ok =
  values.length === COUNT &&
  [...values].sort().join() === [...expected].sort().join() &&
  sent.every((meta) => meta.offset >= 0);
console.log(`RESULT ${JSON.stringify({ runtime, produced: sent.length, consumed: values.length, ok })}`);
