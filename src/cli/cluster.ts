/**
 * @module
 * `freshet cluster status`: the brokers of the cluster the broker at --url belongs to, and which one is the
 * controller, as a table for people or the API's own JSON (`GET /v1/cluster`) for scripts (`--json`).
 * A broker without `--etcd` answers as a single node (itself, no controller).
 */
import type { Command } from './command.ts';
import { jsonLine, table, write } from './io.ts';

/** The answer of `GET /v1/cluster` (src/http/routes/cluster.ts), as far as this command reads it. */
interface ClusterAnswer {
  mode: 'single' | 'etcd';
  nodeId: number;
  cluster: string | null;
  controller: { nodeId: number; epoch: number } | null;
  brokers: Array<{
    nodeId: number;
    host: string;
    httpPort: number;
    kafkaPort: number | null;
    rack: string | null;
  }>;
}

function statusText(answer: ClusterAnswer): string {
  const { controller } = answer;
  const head =
    answer.mode === 'single'
      ? `Single node (no --etcd): node ${answer.nodeId}, no controller\n`
      : `Cluster: ${answer.cluster}  Brokers: ${answer.brokers.length}  Controller: ` +
        `${controller === null ? 'none elected' : `node ${controller.nodeId} (epoch ${controller.epoch})`}` +
        `  Asked: node ${answer.nodeId}\n`;
  if (answer.brokers.length === 0) return `${head}No brokers registered\n`;
  const rows = [...answer.brokers]
    .sort((a, b) => a.nodeId - b.nodeId)
    .map((b) => [
      b.nodeId,
      b.host,
      b.httpPort,
      b.kafkaPort ?? '-',
      b.rack ?? '-',
      controller !== null && controller.nodeId === b.nodeId ? `yes (epoch ${controller.epoch})` : 'no',
    ]);
  return head + table(['NODE', 'HOST', 'HTTP', 'KAFKA', 'RACK', 'CONTROLLER'], rows);
}

export const clusterStatus: Command = {
  name: 'cluster status',
  args: '',
  summary: 'List the brokers of the cluster and show which one is the controller.',
  options: {},
  flagHelp: {},
  positionals: 0,
  async run(ctx) {
    const answer = await ctx.http.request<ClusterAnswer>('GET', '/v1/cluster');
    await write(ctx.io.stdout, ctx.json ? jsonLine(answer) : statusText(answer));
    return 0;
  },
};
