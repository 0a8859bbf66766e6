/**
 * @module
 * Reads the cluster as etcd knows it, for `GET /v1/cluster` and `freshet cluster status`: the registered
 * (live) brokers and the controller, from one consistent snapshot (both reads at the same etcd revision).
 */
import type { Etcd3 } from 'etcd3';
import {
  type BrokerRegistration,
  type ClusterKeys,
  type ControllerRecord,
  parseBrokerRegistration,
  parseControllerRecord,
} from './etcd-keys.ts';

export interface ClusterStatus {
  /** null while no broker is the controller (between a controller's death and the next election). */
  controller: ControllerRecord | null;
  /** The registered brokers by node id; values that are not registrations are skipped. */
  brokers: BrokerRegistration[];
}

export async function readClusterStatus(client: Etcd3, keys: ClusterKeys): Promise<ClusterStatus> {
  const registrations = await client.getAll().prefix(keys.brokersPrefix).exec();
  const controller = await client.get(keys.controller).revision(registrations.header.revision).exec();
  const brokers: BrokerRegistration[] = [];
  for (const kv of registrations.kvs) {
    const registration = parseBrokerRegistration(kv.value.toString());
    if (registration !== null) brokers.push(registration);
  }
  brokers.sort((a, b) => a.nodeId - b.nodeId);
  const held = controller.kvs[0];
  return { controller: held === undefined ? null : parseControllerRecord(held.value.toString()), brokers };
}
