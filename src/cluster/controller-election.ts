/**
 * @module
 * Controller election through etcd: exactly one registered broker is the cluster's controller at a time,
 * and each election gets a new, strictly larger epoch.
 *
 * How (keys in etcd-keys.ts): while this broker has a live session (membership.ts), it looks at
 * `controller`. Absent → one transaction: `controller` still absent (`Create == 0`) and `controller_epoch`
 * unchanged since read (`Mod == r`) → `controller_epoch = e + 1`, `controller = {nodeId, epoch: e + 1}`
 * under this broker's lease. At most one broker's transaction can succeed per epoch, and the winner's key
 * lives exactly as long as its lease. Present → wait: a watch on `controller` wakes the loop when it is
 * deleted (controller revoked its lease, or its lease expired), with a poll every `POLL_MS` besides, in
 * case the watch is reconnecting after an etcd outage.
 *
 * Stepping down: the moment the session is lost (which happens locally before etcd can expire the lease;
 * see lease-session.ts) this broker resigns: `onResigned()` runs before anyone else can be elected. It also
 * resigns if it finds `controller` held by another lease (someone deleted the key by hand) and on shutdown.
 *
 * Fencing, for the controller's future writes (topics, partitions): a local "I am controller" can be stale
 * by the time a write reaches etcd, so every controller decision must be a transaction guarded by
 * `controllerFence`: `controller` still under this broker's lease and `controller_epoch` still this epoch.
 * A deposed controller's writes then fail in etcd whatever it believes.
 */
import type { ComparatorBuilder, Etcd3, Watcher } from 'etcd3';
import type { Logger } from '../shared/logger.ts';
import { etcdErrorText } from './etcd-client.ts';
import { type ClusterKeys, parseControllerEpoch, parseControllerRecord } from './etcd-keys.ts';
import type { LeaseSession } from './lease-session.ts';
import type { BrokerMembership } from './membership.ts';
import { backoffMs, Sleeper } from './retry-timing.ts';

/** How often the election looks at the controller key even without a watch event. */
const POLL_MS = 1_000;

/** What the controller does; the next step (replica assignment, partition leadership) hangs off these. */
export interface ControllerHooks {
  /** This broker has just become the controller, in `epoch` (larger than every earlier epoch). */
  onElected?(epoch: number): void;
  /** It is no longer the controller (session lost, key gone, shutdown). Once after each `onElected`. */
  onResigned?(): void;
}

export interface ElectionOptions {
  client: Etcd3;
  keys: ClusterKeys;
  nodeId: number;
  membership: BrokerMembership;
  logger: Logger;
  hooks?: ControllerHooks;
}

/**
 * A transaction that only applies while the broker whose session lease is `leaseId` is the controller of
 * `epoch`: start every controller write with it, then `.and(...)` its own conditions, `.then(...)` its
 * writes, and check `succeeded` (false: deposed, stop acting).
 */
export function controllerFence(
  client: Etcd3,
  keys: ClusterKeys,
  leaseId: string,
  epoch: number,
): ComparatorBuilder {
  return client
    .if(keys.controller, 'Lease', '==', leaseId)
    .and(keys.controllerEpoch, 'Value', '==', String(epoch));
}

export class ControllerElection {
  private readonly options: ElectionOptions;
  private readonly sleeper = new Sleeper();
  private session: LeaseSession | null = null;
  private epoch: number | null = null;
  private watcher: Watcher | null = null;
  private stopped = false;

  constructor(options: ElectionOptions) {
    this.options = options;
  }

  /** Campaigns now (if registered) and after every re-registration; resigns whenever the session is lost. */
  start(): void {
    const { membership } = this.options;
    membership.onSession((session) => void this.campaign(session));
    membership.onSessionLost((reason) => {
      this.session = null;
      this.resign(`the etcd lease was lost (${reason})`);
      this.sleeper.wake();
    });
    this.watch();
    if (membership.session !== null) void this.campaign(membership.session);
  }

  /** This broker's controller epoch while it is the controller (and its session valid), else null. */
  get controllerEpoch(): number | null {
    return this.epoch !== null && this.session?.valid() === true ? this.epoch : null;
  }

  /**
   * The fence for this broker's current term (see `controllerFence`), or null when it is not the controller.
   */
  fence(): ComparatorBuilder | null {
    const epoch = this.controllerEpoch;
    if (epoch === null || this.session === null) return null;
    return controllerFence(this.options.client, this.options.keys, this.session.leaseId, epoch);
  }

  /** Stops campaigning and resigns locally; the key itself goes when the membership revokes the lease. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.session = null;
    this.resign('the broker is shutting down');
    this.sleeper.wake();
    const watcher = this.watcher;
    this.watcher = null;
    await watcher?.cancel().catch(() => {});
  }

  /** Runs while `session` is this broker's session: contend when there is no controller, else wait. */
  private async campaign(session: LeaseSession): Promise<void> {
    this.session = session;
    let attempt = 0;
    while (!this.stopped && this.session === session) {
      if (!session.valid()) {
        this.resign('the etcd lease may have expired');
        return; // the membership reports the loss and campaigns again with its next session
      }
      try {
        await this.step(session);
        attempt = 0;
        await this.sleeper.sleep(POLL_MS);
      } catch (err) {
        if (this.session !== session) return;
        this.options.logger.debug('controller election: etcd call failed; retrying', {
          error: etcdErrorText(err),
        });
        await this.sleeper.sleep(backoffMs(attempt++));
      }
    }
  }

  /** One look at the controller key, and one attempt to take it if it is free. */
  private async step(session: LeaseSession): Promise<void> {
    const { client, keys, nodeId } = this.options;
    const [controller, epochKey] = await Promise.all([
      client.get(keys.controller).exec(),
      client.get(keys.controllerEpoch).exec(),
    ]);
    if (this.session !== session) return;
    const held = controller.kvs[0];
    if (held !== undefined) {
      if (held.lease === session.leaseId) {
        // Ours: normally already known; else our transaction succeeded but its answer was lost.
        const record = parseControllerRecord(held.value.toString());
        if (this.epoch === null && record !== null && session.valid()) this.elect(record.epoch);
      } else {
        this.resign('another broker holds the controller key');
      }
      return;
    }
    this.resign('the controller key is gone');
    const epochKv = epochKey.kvs[0];
    const next = parseControllerEpoch(epochKv === undefined ? null : epochKv.value.toString()) + 1;
    const answer = await client
      .if(keys.controller, 'Create', '==', 0)
      .and(keys.controllerEpoch, 'Mod', '==', epochKv === undefined ? 0 : epochKv.mod_revision)
      .then(
        client.put(keys.controllerEpoch).value(String(next)),
        client
          .put(keys.controller)
          .value(JSON.stringify({ nodeId, epoch: next }))
          .lease(session.leaseId),
      )
      .commit();
    if (answer.succeeded && this.session === session && session.valid()) this.elect(next);
  }

  private elect(epoch: number): void {
    this.epoch = epoch;
    this.options.logger.info('elected controller', { nodeId: this.options.nodeId, epoch });
    try {
      this.options.hooks?.onElected?.(epoch);
    } catch (err) {
      this.options.logger.error('controller onElected hook failed', { error: etcdErrorText(err) });
    }
  }

  private resign(reason: string): void {
    if (this.epoch === null) return;
    const epoch = this.epoch;
    this.epoch = null;
    this.options.logger.info('no longer controller', { nodeId: this.options.nodeId, epoch, reason });
    try {
      this.options.hooks?.onResigned?.();
    } catch (err) {
      this.options.logger.error('controller onResigned hook failed', { error: etcdErrorText(err) });
    }
  }

  /** Wakes the campaign whenever the controller key changes (etcd3 re-establishes the watch itself). */
  private watch(): void {
    const watcher = this.options.client.watch().key(this.options.keys.controller).watcher();
    watcher.on('delete', () => this.sleeper.wake());
    watcher.on('put', () => this.sleeper.wake());
    watcher.on('error', (err) => this.options.logger.debug('controller watch error', { error: err.message }));
    watcher.on('disconnected', () => this.options.logger.debug('controller watch disconnected'));
    this.watcher = watcher;
  }
}
