/**
 * @module
 * etcd goes down under three running brokers and comes back: the brokers keep serving, give up the
 * controller role when their leases can no longer be renewed, and once etcd is back they register again
 * (with new leases, the old ones revoked) and elect a controller in a higher epoch. Real processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerHandle } from '../support/broker.ts';
import { type EtcdHandle, startEtcd } from '../support/etcd.ts';
import {
  believesController,
  clusterOf,
  LEASE_TTL_SECONDS,
  nodeIds,
  startClusterBroker,
  waitFor,
} from './support.ts';

const CLUSTER = 'outage';

let etcd: EtcdHandle;
let brokers: BrokerHandle[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  brokers = await Promise.all([1, 2, 3].map((id) => startClusterBroker(id, etcd.url, CLUSTER)));
});

afterAll(async () => {
  await Promise.all(brokers.map((broker) => broker.stop()));
  await etcd?.stop();
});

/** The log lines of a broker with this message. */
function logged(broker: BrokerHandle, msg: string): number {
  return broker
    .stderr()
    .split('\n')
    .filter((line) => line.includes(`"msg":"${msg}"`)).length;
}

describe('an etcd outage', () => {
  it('is survived: brokers keep serving, step down, re-register and elect a new controller', async () => {
    const { value: before } = await waitFor('three brokers and a controller', 10_000, async () => {
      const view = await clusterOf(brokers[0]!);
      return view.controller !== null && view.brokers.length === 3 ? view : undefined;
    });
    const oldEpoch = before.controller!.epoch;
    const oldController = brokers[before.controller!.nodeId - 1]!;
    await waitFor('the controller to log its election', 3_000, async () =>
      believesController(oldController) === oldEpoch ? true : undefined,
    );

    await etcd.kill();

    // Within about a lease TTL every broker declares its lease lost, and the controller steps down.
    await waitFor('every broker to give up its lease', LEASE_TTL_SECONDS * 1000 + 5_000, async () =>
      brokers.every((b) => logged(b, 'lost the etcd lease: out of the cluster until registered again') === 1)
        ? true
        : undefined,
    );
    expect(brokers.map(believesController)).toEqual([null, null, null]);

    // Meanwhile they serve, and say plainly that the cluster cannot be read.
    for (const broker of brokers) {
      expect(broker.process.exitCode).toBeNull();
      expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
    }
    const res = await fetch(`${brokers[0]!.url}/v1/cluster`, { headers: { accept: 'application/json' } });
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('REQUEST_TIMED_OUT');

    await etcd.restart();

    // A restarted etcd revives every lease for a full TTL, so the old registrations and the old controller
    // key show up again at first (nobody acts on them: every broker stepped down). Each broker revokes its
    // old lease when it registers again. etcd3's circuit breaker waits up to 5 s before it tries a failed
    // endpoint again, the brokers' own backoff up to 5 s more.
    const { value: after, ms } = await waitFor('re-registration and a new controller', 30_000, async () => {
      if (!brokers.every((b) => logged(b, 'registered in the cluster again') === 1)) return undefined;
      const views = await Promise.all(brokers.map(clusterOf));
      return views.every(
        (v) =>
          v.controller !== null && v.controller.epoch > oldEpoch && JSON.stringify(nodeIds(v)) === '[1,2,3]',
      )
        ? views[0]
        : undefined;
    });
    for (const broker of brokers) expect(broker.process.exitCode).toBeNull();
    const controller = brokers[after.controller!.nodeId - 1]!;
    await waitFor('the new controller to log its election', 3_000, async () =>
      believesController(controller) === after.controller!.epoch ? true : undefined,
    );
    expect(brokers.map(believesController).filter((epoch) => epoch !== null)).toEqual([
      after.controller!.epoch,
    ]);
    console.log(
      `cluster back ${ms} ms after etcd restarted; controller epoch ${oldEpoch} → ${after.controller!.epoch}`,
    );
  });

  it('is survived when etcd freezes (a partition) past the TTL and etcd expires the leases itself', async () => {
    const before = await clusterOf(brokers[0]!);
    const oldEpoch = before.controller!.epoch;
    etcd.pause();
    try {
      await waitFor('every broker to give up its lease again', LEASE_TTL_SECONDS * 1000 + 5_000, async () =>
        brokers.every(
          (b) => logged(b, 'lost the etcd lease: out of the cluster until registered again') === 2,
        )
          ? true
          : undefined,
      );
      expect(brokers.map(believesController)).toEqual([null, null, null]);
      // Long enough that etcd finds every old lease expired when it wakes up: their revocation then meets
      // "lease not found", which must not stop the brokers from registering again.
      await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_SECONDS * 1000));
    } finally {
      etcd.resume();
    }
    const { value: after, ms } = await waitFor('re-registration after the freeze', 30_000, async () => {
      if (!brokers.every((b) => logged(b, 'registered in the cluster again') === 2)) return undefined;
      const views = await Promise.all(brokers.map(clusterOf));
      return views.every(
        (v) =>
          v.controller !== null && v.controller.epoch > oldEpoch && JSON.stringify(nodeIds(v)) === '[1,2,3]',
      )
        ? views[0]
        : undefined;
    });
    const controller = brokers[after.controller!.nodeId - 1]!;
    await waitFor('the new controller to log its election', 3_000, async () =>
      believesController(controller) === after.controller!.epoch ? true : undefined,
    );
    expect(brokers.map(believesController).filter((epoch) => epoch !== null)).toEqual([
      after.controller!.epoch,
    ]);
    for (const broker of brokers) expect(broker.process.exitCode).toBeNull();
    console.log(
      `cluster back ${ms} ms after etcd resumed; controller epoch ${oldEpoch} → ${after.controller!.epoch}`,
    );
  });
});
