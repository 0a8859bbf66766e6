/**
 * @module
 * `freshet cluster status`: the brokers of the cluster the broker at --url belongs to, which one is the
 * controller, and per partition its leader, epoch, replicas, in-sync replicas and each follower's lag, as
 * tables for people or JSON for scripts (`--json`: the API's `GET /v1/cluster` answer, each partition with
 * `lag`). A broker without `--etcd` answers as a single node (itself, no controller, no partitions).
 *
 * Lag is the leader's log end offset minus the follower's, each as the broker itself reports it in
 * `GET /v1/replicas`, asked of every broker listed; `?` (null in JSON) when the leader or the follower did
 * not answer.
 */
import { brokerUrl } from '../client/index.ts';
import type { Command, CommandContext } from './command.ts';
import { jsonLine, table, write } from './io.ts';
import { leaderText, nodeList } from './topics.ts';

/** Longest wait for one broker's `GET /v1/replicas`: a dead broker shows `?` rather than holding the table. */
const REPLICAS_TIMEOUT_MS = 5_000;

/** A partition as `GET /v1/cluster` lists it (src/http/routes/cluster.ts). */
export interface ClusterPartitionAnswer {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
}

/** The answer of `GET /v1/cluster` (src/http/routes/cluster.ts), as far as this command reads it. */
export interface ClusterAnswer {
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
  /** Absent from brokers older than replication. */
  partitions?: ClusterPartitionAnswer[];
}

/** The answer of `GET /v1/replicas`: one broker's own replicas. */
export interface ReplicasAnswer {
  nodeId: number;
  replicas: Array<{
    topic: string;
    partition: number;
    role: 'leader' | 'follower';
    leaderEpoch: number;
    logEndOffset: number;
    highWatermark: number;
    followers?: Array<{ nodeId: number; logEndOffset: number; inSync: boolean }>;
  }>;
}

/** A partition of the status with each follower's lag (null: unknown). */
export interface PartitionStatus extends ClusterPartitionAnswer {
  lag: Array<{ nodeId: number; lag: number | null }>;
}

type Replica = ReplicasAnswer['replicas'][number];

function replicaOf(answer: ReplicasAnswer | null | undefined, topic: string, partition: number) {
  return answer?.replicas.find((r: Replica) => r.topic === topic && r.partition === partition);
}

/**
 * Each partition with its followers' lag, from the brokers' `GET /v1/replicas` answers by node id (null or
 * absent: the broker did not answer). A follower's log end offset is its own; when its broker answered
 * without that replica, the leader's view of it stands in.
 */
export function partitionLag(
  partitions: ClusterPartitionAnswer[],
  answers: ReadonlyMap<number, ReplicasAnswer | null>,
): PartitionStatus[] {
  return [...partitions]
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    .map((p) => {
      // Without a leader there is nobody to follow, nor a log end to lag behind.
      const followers = p.leader < 0 ? [] : p.replicas.filter((nodeId) => nodeId !== p.leader);
      const leader = p.leader < 0 ? undefined : replicaOf(answers.get(p.leader), p.topic, p.partition);
      const lag = followers.map((nodeId) => {
        const answer = answers.get(nodeId);
        let followerEnd: number | undefined;
        if (answer !== null && answer !== undefined) {
          followerEnd =
            replicaOf(answer, p.topic, p.partition)?.logEndOffset ??
            leader?.followers?.find((f) => f.nodeId === nodeId)?.logEndOffset;
        }
        const known = leader !== undefined && followerEnd !== undefined;
        return { nodeId, lag: known ? Math.max(0, leader.logEndOffset - followerEnd!) : null };
      });
      return { ...p, lag };
    });
}

/** `2:0,3:?` (node:lag per follower); `-` without followers. */
function lagText(lag: PartitionStatus['lag']): string {
  if (lag.length === 0) return '-';
  return lag.map((l) => `${l.nodeId}:${l.lag ?? '?'}`).join(',');
}

function partitionsText(partitions: PartitionStatus[]): string {
  return table(
    ['TOPIC', 'PARTITION', 'LEADER', 'EPOCH', 'REPLICAS', 'ISR', 'LAG'],
    partitions.map((p) => [
      p.topic,
      p.partition,
      leaderText(p.leader),
      p.leaderEpoch,
      nodeList(p.replicas),
      nodeList(p.isr),
      p.leader < 0 ? '-' : lagText(p.lag),
    ]),
  );
}

/** The status as people read it: the brokers, then (when there are any) the partitions. */
export function statusText(answer: ClusterAnswer, partitions: PartitionStatus[] = []): string {
  const { controller } = answer;
  const head =
    answer.mode === 'single'
      ? `Single node (no --etcd): node ${answer.nodeId}, no controller\n`
      : `Cluster: ${answer.cluster}  Brokers: ${answer.brokers.length}  Controller: ` +
        `${controller === null ? 'none elected' : `node ${controller.nodeId} (epoch ${controller.epoch})`}` +
        `  Asked: node ${answer.nodeId}\n`;
  const tail = partitions.length === 0 ? '' : `\n${partitionsText(partitions)}`;
  if (answer.brokers.length === 0) return `${head}No brokers registered\n${tail}`;
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
  return head + table(['NODE', 'HOST', 'HTTP', 'KAFKA', 'RACK', 'CONTROLLER'], rows) + tail;
}

/** `GET /v1/replicas` of every broker listed, by node id; null for one that did not answer. */
async function replicaAnswers(
  ctx: CommandContext,
  answer: ClusterAnswer,
): Promise<Map<number, ReplicasAnswer | null>> {
  const listedBy = ctx.http.url;
  const entries = await Promise.all(
    answer.brokers.map(async (broker) => {
      try {
        const replicas = await ctx.http.request<ReplicasAnswer>('GET', '/v1/replicas', {
          baseUrl: brokerUrl(broker, listedBy),
          timeoutMs: Math.min(ctx.http.requestTimeoutMs, REPLICAS_TIMEOUT_MS),
        });
        return [broker.nodeId, Array.isArray(replicas?.replicas) ? replicas : null] as const;
      } catch {
        return [broker.nodeId, null] as const;
      }
    }),
  );
  return new Map(entries);
}

export const clusterStatus: Command = {
  name: 'cluster status',
  args: '',
  summary:
    'List the brokers of the cluster, which one is the controller, and who leads and follows each partition.',
  options: {},
  flagHelp: {},
  details: [
    'LAG is, per follower (node:lag), the leader log end offset minus the follower one, as each broker',
    "reports its own (GET /v1/replicas); '?' when the leader or that follower did not answer.",
  ].join('\n'),
  positionals: 0,
  async run(ctx) {
    const answer = await ctx.http.request<ClusterAnswer>('GET', '/v1/cluster');
    const listed = answer.partitions ?? [];
    const partitions = listed.length === 0 ? [] : partitionLag(listed, await replicaAnswers(ctx, answer));
    // A single node, or a broker older than replication, is shown as it answered.
    const json = listed.length === 0 ? answer : { ...answer, partitions };
    await write(ctx.io.stdout, ctx.json ? jsonLine(json) : statusText(answer, partitions));
    return 0;
  },
};
