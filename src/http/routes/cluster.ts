/**
 * @module
 * `GET /v1/cluster` and `GET /v1/replicas`: which cluster this broker belongs to, its brokers, its
 * controller and who leads each partition; and this broker's own replicas. Both answers come from sources
 * that main.ts passes in (it reads etcd and the replication state when the broker runs with `--etcd`), so
 * the HTTP layer knows nothing of etcd or of replication.
 *
 * `GET /v1/cluster`: `{mode, nodeId, cluster, controller, brokers, partitions}`. `mode` is `single` (no
 * `--etcd`: cluster null, controller null, brokers this broker alone, partitions empty) or `etcd`;
 * `controller` is `{nodeId, epoch}` or null while none is elected; each broker is `{nodeId, host, httpPort,
 * kafkaPort, rack, startedAt}`, reachable at `http://<host>:<httpPort>`; each partition is `{topic,
 * partition, leader, leaderEpoch, replicas, isr}` (leader -1 while none is elected).
 *
 * `GET /v1/replicas`: `{nodeId, replicas}`, one entry per partition this broker holds a replica of:
 * `{topic, partition, role, leaderEpoch, logEndOffset, highWatermark}`, and for the leader role `followers`:
 * `{nodeId, logEndOffset, inSync}` per follower, as the leader last heard of it.
 */
import { Hono } from 'hono';
import { send } from '../respond.ts';

export interface ClusterBroker {
  nodeId: number;
  host: string;
  httpPort: number;
  kafkaPort: number | null;
  rack: string | null;
  startedAt: string;
}

/** Who leads a partition and who holds it, as the cluster's metadata says. */
export interface ClusterPartition {
  topic: string;
  partition: number;
  /** Node id of the leader; -1 while none is elected. */
  leader: number;
  leaderEpoch: number;
  /** The assigned replicas, preferred leader first. */
  replicas: number[];
  /** The in-sync replicas. */
  isr: number[];
}

export interface ClusterStatusBody {
  mode: 'single' | 'etcd';
  nodeId: number;
  cluster: string | null;
  controller: { nodeId: number; epoch: number } | null;
  brokers: ClusterBroker[];
  /** Every partition of every topic (empty for a single node). */
  partitions: ClusterPartition[];
}

/** Produces the answer; may reject with a BrokerError (etcd unreachable), mapped by the error handler. */
export type ClusterStatusSource = () => Promise<ClusterStatusBody>;

/** What the leader knows of one follower. */
export interface FollowerState {
  nodeId: number;
  /** The follower's log end offset as of its last fetch. */
  logEndOffset: number;
  inSync: boolean;
}

/** One replica this broker holds. */
export interface ReplicaState {
  topic: string;
  partition: number;
  role: 'leader' | 'follower';
  leaderEpoch: number;
  logEndOffset: number;
  highWatermark: number;
  /** Leader role only. */
  followers?: FollowerState[];
}

export interface ReplicaStatusBody {
  nodeId: number;
  replicas: ReplicaState[];
}

/** Produces the `GET /v1/replicas` answer; may reject with a BrokerError. */
export type ReplicaStatusSource = () => Promise<ReplicaStatusBody>;

/** The answer of an app built without a source (in-process tests): a single node that lists no one. */
const SINGLE_NODE: ClusterStatusSource = async () => ({
  mode: 'single',
  nodeId: 0,
  cluster: null,
  controller: null,
  brokers: [],
  partitions: [],
});

/** The replicas of an app built without a source: none (a single broker replicates nothing). */
const NO_REPLICAS: ReplicaStatusSource = async () => ({ nodeId: 0, replicas: [] });

export function clusterRoutes(
  status: ClusterStatusSource = SINGLE_NODE,
  replicas: ReplicaStatusSource = NO_REPLICAS,
): Hono {
  const app = new Hono();
  app.get('/v1/cluster', async (c) => send(c, 200, await status()));
  app.get('/v1/replicas', async (c) => send(c, 200, await replicas()));
  return app;
}
