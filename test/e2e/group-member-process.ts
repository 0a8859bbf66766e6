/**
 * @module
 * One consumer-group member as its own process, for the e2e group tests (run under Bun):
 *
 *   bun test/e2e/group-member-process.ts <broker-url> <topic> <group> <out-file>
 *     [--instance-id ID] [--session-timeout-ms N] [--heartbeat-interval-ms N] [--auto-commit-interval-ms N]
 *
 * It subscribes with the Freshet client (auto-commit on) and appends one line `partition offset value` per
 * record to `<out-file>`. Each poll()'s records are written with one appendFileSync before the next await,
 * so they are in the file (the kernel's, which a kill -9 does not lose) before the auto-commit, which runs
 * between awaits, can commit their positions: the file sees every record at least once. Only whole lines
 * count (a kill -9 may tear the last one, which was then never committed).
 *
 * Stdout: one JSON line per rebalance callback, `{"event":"assigned"|"revoked"|"lost", "partitions",
 * "assignment", "memberId", "generationId"}`. SIGTERM closes the consumer (commit, leave) and exits 0.
 */
import { appendFileSync } from 'node:fs';
import { Consumer, type TopicPartition, utf8 } from '../../src/client/index.ts';

const [url, topic, groupId, outFile, ...rest] = process.argv.slice(2);
if (url === undefined || topic === undefined || groupId === undefined || outFile === undefined) {
  throw new Error(
    'usage: group-member-process.ts <broker-url> <topic> <group> <out-file> [--flag value ...]',
  );
}
const flags = new Map<string, string>();
for (let i = 0; i + 1 < rest.length; i += 2) flags.set(rest[i]!, rest[i + 1]!);
const numberFlag = (name: string, fallback: number) => Number(flags.get(name) ?? fallback);

const consumer = new Consumer({ url, autoOffsetReset: 'earliest', fetchMaxWaitMs: 500 });

function announce(event: string, partitions: TopicPartition[]): void {
  const metadata = consumer.groupMetadata();
  const line = {
    event,
    partitions: partitions.map((tp) => tp.partition).sort((a, b) => a - b),
    assignment: consumer
      .assignment()
      .map((tp) => tp.partition)
      .sort((a, b) => a - b),
    memberId: metadata?.memberId ?? '',
    generationId: metadata?.generationId ?? -1,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const instanceId = flags.get('--instance-id');
consumer.subscribe([topic], {
  groupId,
  ...(instanceId === undefined ? {} : { groupInstanceId: instanceId }),
  sessionTimeoutMs: numberFlag('--session-timeout-ms', 3000),
  heartbeatIntervalMs: numberFlag('--heartbeat-interval-ms', 300),
  autoCommit: true,
  autoCommitIntervalMs: numberFlag('--auto-commit-interval-ms', 200),
  onAssigned: (partitions) => announce('assigned', partitions),
  // Nothing to flush here: every record handed out is already in the file.
  onRevoked: (partitions) => announce('revoked', partitions),
  onLost: (partitions) => announce('lost', partitions),
});

let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  void consumer.close().then(() => process.exit(0));
});

while (!stopping) {
  let records: Awaited<ReturnType<Consumer['poll']>>;
  try {
    records = await consumer.poll({ maxWaitMs: 500 });
  } catch (err) {
    process.stderr.write(`poll: ${(err as Error).message}\n`);
    continue;
  }
  if (records.length === 0) continue;
  // One write per poll, before anything else can run: see the module comment.
  appendFileSync(outFile, records.map((r) => `${r.partition} ${r.offset} ${utf8(r.value)}\n`).join(''));
}
