/**
 * @module
 * `freshet partitions reassign <topic> <partition> --replicas 1,2,3 [--wait]`: moves a partition's replicas
 * in a cluster. The new replicas copy the log from the leader first; once all are in sync the old ones are
 * dropped and leadership moves into the new set (src/cluster/partition-controller.ts). Without `--wait` it
 * returns once the move is recorded; with it, it polls the topic until the move is complete.
 */
import { Admin, type PartitionState } from '../client/index.ts';
import type { Command } from './command.ts';
import { integerFlag, jsonLine, UsageError, write } from './io.ts';
import { leaderText, nodeList } from './topics.ts';

/** How long `--wait` waits by default. */
const WAIT_MS = 120_000;
const POLL_MS = 250;

function parseReplicas(raw: string | undefined): number[] {
  if (raw === undefined || raw.trim() === '')
    throw new UsageError('--replicas is required: --replicas 1,2,3');
  const ids = raw.split(',').map((s) => s.trim());
  if (!ids.every((s) => /^\d+$/.test(s))) {
    throw new UsageError(`--replicas takes node ids separated by commas, not '${raw}'`);
  }
  return ids.map(Number);
}

function stateText(topic: string, p: PartitionState): string {
  const moving = p.targetReplicas === undefined ? 'done' : `moving to ${nodeList(p.targetReplicas)}`;
  return (
    `Partition ${p.partition} of '${topic}': leader ${leaderText(p.leader)} (epoch ${p.leaderEpoch ?? '-'}), ` +
    `replicas ${nodeList(p.replicas)}, ISR ${nodeList(p.isr)}, ${moving}\n`
  );
}

export const partitionsReassign: Command = {
  name: 'partitions reassign',
  args: '<topic> <partition>',
  summary: "Move a partition's replicas to other brokers (a cluster): data is copied before the switch.",
  options: {
    replicas: { type: 'string' },
    wait: { type: 'boolean' },
    'timeout-ms': { type: 'string' },
  },
  flagHelp: {
    replicas: 'the new replicas by node id, the preferred leader first: --replicas 2,3,4',
    wait: 'wait until the new replicas are in sync and the old ones are gone',
    'timeout-ms': `how long --wait waits (default ${WAIT_MS})`,
  },
  positionals: 2,
  async run(ctx, values, [topic, partitionText]) {
    const partition = integerFlag('partition', partitionText, 0)!;
    const replicas = parseReplicas(values.replicas as string | undefined);
    const admin = new Admin({ http: ctx.http, retries: 2 });
    let state = await admin.reassignPartition(topic!, partition, replicas);
    if (values.wait) {
      const timeout = integerFlag('timeout-ms', values['timeout-ms'] as string | undefined, 1) ?? WAIT_MS;
      const deadline = Date.now() + timeout;
      const done = (p: PartitionState) =>
        p.targetReplicas === undefined &&
        p.replicas !== undefined &&
        p.replicas.length === replicas.length &&
        p.replicas.every((b, i) => b === replicas[i]);
      while (!done(state)) {
        if (Date.now() > deadline) {
          await write(ctx.io.stderr, `freshet: the reassignment did not finish within ${timeout} ms\n`);
          await write(ctx.io.stdout, ctx.json ? jsonLine(state) : stateText(topic!, state));
          return 1;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        const description = await admin.describeTopic(topic!);
        state = description.partitions.find((p) => p.partition === partition) ?? state;
      }
    }
    await write(ctx.io.stdout, ctx.json ? jsonLine(state) : stateText(topic!, state));
    return 0;
  },
};
