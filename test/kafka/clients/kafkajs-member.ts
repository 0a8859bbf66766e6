/**
 * @module
 * A kafkajs smoke run as its own process, so kafkajs is exercised under Bun too (the vitest suite runs it under
 * Node):
 *
 *   bun test/kafka/clients/kafkajs-member.ts <bootstrap host:port> <topic> <group> <count>
 *
 * Creates `<topic>` (3 partitions) with the admin client, produces `<count>` keyed JSON messages (acks -1, Java's
 * partitioner), then one group consumer reads from the beginning until it has `<count>` messages, commits,
 * leaves, and the admin client fetches the group's committed offsets. Prints one JSON line:
 * `{runtime, created, produced: [{partition, baseOffset, errorCode}] (kafkajs answers per partition),
 * received: [{key, value, partition, offset}], committed: [{partition, offset}]}`; exits 1 with the error on stderr on any failure, or after 60 s.
 * FRESHET_KAFKA_DEBUG=1 turns kafkajs's DEBUG log on (to stderr).
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';

const [bootstrap, topic, groupId, countText] = process.argv.slice(2);
if (!bootstrap || !topic || !groupId || !countText) {
  throw new Error('usage: kafkajs-member.ts <bootstrap host:port> <topic> <group> <count>');
}
const count = Number(countText);
const runtime =
  typeof (globalThis as { Bun?: unknown }).Bun === 'undefined' ? `node ${process.version}` : 'bun';

const watchdog = setTimeout(() => {
  process.stderr.write('kafkajs-member: gave up after 60 s\n');
  process.exit(1);
}, 60_000);

const kafka = new Kafka({
  clientId: 'freshet-kafkajs-member',
  brokers: [bootstrap],
  logLevel: process.env.FRESHET_KAFKA_DEBUG === '1' ? logLevel.DEBUG : logLevel.ERROR,
  retry: { retries: 3 },
});

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({
    topics: [{ topic: topic!, numPartitions: 3 }],
    waitForLeaders: true,
  });

  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const keys = Array.from({ length: count }, (_, i) => `bun-${i}`);
  const answers = await producer.send({
    topic: topic!,
    acks: -1,
    messages: keys.map((key, i) => ({ key, value: JSON.stringify({ i, runtime }) })),
  });
  await producer.disconnect();
  const received: Array<{ key: string; value: string; partition: number; offset: number }> = [];
  const consumer = kafka.consumer({ groupId: groupId!, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: topic!, fromBeginning: true });
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    autoCommitInterval: 100,
    eachMessage: async ({ partition, message }) => {
      received.push({
        key: message.key?.toString() ?? '',
        value: message.value?.toString() ?? '',
        partition,
        offset: Number(message.offset),
      });
      if (received.length >= count) done();
    },
  });
  await all;
  await consumer.disconnect();
  const committed = (await admin.fetchOffsets({ groupId: groupId!, topics: [topic!] }))
    .flatMap((t) => t.partitions)
    .map((p) => ({ partition: p.partition, offset: Number(p.offset) }));
  await admin.disconnect();
  process.stdout.write(
    `${JSON.stringify({
      runtime,
      created,
      produced: answers.map((a) => ({
        partition: a.partition,
        baseOffset: Number(a.baseOffset),
        errorCode: a.errorCode,
      })),
      received,
      committed,
    })}\n`,
  );
}

main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(
      `kafkajs-member: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
