/**
 * @module
 * `GET /v1/cluster`: which cluster this broker belongs to, its brokers and its controller. The answer comes
 * from a `ClusterStatusSource` that main.ts passes in (it reads etcd when the broker runs with `--etcd`), so
 * the HTTP layer knows nothing of etcd.
 *
 * Answer: `{mode, nodeId, cluster, controller, brokers}`. `mode` is `single` (no `--etcd`: cluster null,
 * controller null, brokers this broker alone) or `etcd`; `controller` is `{nodeId, epoch}` or null while
 * none is elected; each broker is `{nodeId, host, httpPort, kafkaPort, rack, startedAt}`.
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

export interface ClusterStatusBody {
  mode: 'single' | 'etcd';
  nodeId: number;
  cluster: string | null;
  controller: { nodeId: number; epoch: number } | null;
  brokers: ClusterBroker[];
}

/** Produces the answer; may reject with a BrokerError (etcd unreachable), mapped by the error handler. */
export type ClusterStatusSource = () => Promise<ClusterStatusBody>;

/** The answer of an app built without a source (in-process tests): a single node that lists no one. */
const SINGLE_NODE: ClusterStatusSource = async () => ({
  mode: 'single',
  nodeId: 0,
  cluster: null,
  controller: null,
  brokers: [],
});

export function clusterRoutes(status: ClusterStatusSource = SINGLE_NODE): Hono {
  const app = new Hono();
  app.get('/v1/cluster', async (c) => send(c, 200, await status()));
  return app;
}
