/**
 * @module
 * A broker's part in an etcd cluster, started and stopped as one: the etcd client, the membership
 * (registration under a lease), the controller election, and the status view. main.ts starts it, after the
 * listeners are up, only when `--etcd` is set, and stops it first on shutdown (so the broker leaves the
 * cluster, and hands the controller role over, before it stops serving).
 */
import type { Etcd3 } from 'etcd3';
import type { BrokerConfig } from '../config/broker-config.ts';
import { BrokerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { readClusterStatus } from './cluster-status.ts';
import { ControllerElection, type ControllerHooks } from './controller-election.ts';
import { connectEtcd, etcdErrorText } from './etcd-client.ts';
import {
  type BrokerRegistration,
  type ClusterKeys,
  type ControllerRecord,
  clusterKeys,
} from './etcd-keys.ts';
import { BrokerMembership } from './membership.ts';

export type ClusterConfig = Pick<BrokerConfig, 'nodeId' | 'cluster' | 'etcdLeaseTtlSeconds'> & {
  etcdEndpoints: readonly string[];
};

/** What `GET /v1/cluster` answers for a broker in a cluster. */
export interface ClusterView {
  mode: 'etcd';
  nodeId: number;
  cluster: string;
  controller: ControllerRecord | null;
  brokers: BrokerRegistration[];
}

export interface ClusterNode {
  readonly election: ControllerElection;
  /** The etcd client (closed by `stop()`) and the cluster's keys, for the replication layer. */
  readonly client: Etcd3;
  readonly keys: ClusterKeys;
  /** The cluster as etcd has it now; rejects with REQUEST_TIMED_OUT when etcd cannot be read. */
  status(): Promise<ClusterView>;
  /** Resigns, revokes the lease (the registration disappears at once), closes the client. Never throws. */
  stop(): Promise<void>;
}

export interface JoinOptions {
  config: ClusterConfig;
  registration: BrokerRegistration;
  logger: Logger;
  hooks?: ControllerHooks;
  /** How long to keep trying to reach etcd at start-up (default membership.ts's ETCD_START_TIMEOUT_MS). */
  startTimeoutMs?: number;
}

/** Registers the broker and starts campaigning; rejects with NodeIdTakenError or EtcdUnavailableError. */
export async function joinCluster(options: JoinOptions): Promise<ClusterNode> {
  const { config, logger } = options;
  const client = connectEtcd(config.etcdEndpoints);
  const keys = clusterKeys(config.cluster);
  const membership = new BrokerMembership({
    client,
    keys,
    cluster: config.cluster,
    endpoints: config.etcdEndpoints,
    registration: options.registration,
    leaseTtlSeconds: config.etcdLeaseTtlSeconds,
    logger,
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
  });
  try {
    await membership.start();
  } catch (err) {
    client.close();
    throw err;
  }
  const election = new ControllerElection({
    client,
    keys,
    nodeId: config.nodeId,
    membership,
    logger,
    ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
  });
  election.start();
  return {
    election,
    client,
    keys,
    async status() {
      try {
        const { controller, brokers } = await readClusterStatus(client, keys);
        return { mode: 'etcd', nodeId: config.nodeId, cluster: config.cluster, controller, brokers };
      } catch (err) {
        throw new BrokerError(
          'REQUEST_TIMED_OUT',
          `cannot read the cluster from etcd at ${config.etcdEndpoints.join(',')}: ${etcdErrorText(err)}`,
          { cause: err },
        );
      }
    },
    async stop() {
      await election.stop();
      await membership.stop();
      client.close();
    },
  };
}
