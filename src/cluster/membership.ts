/**
 * @module
 * A broker's membership of its cluster: its registration `brokers/<nodeId>` (see etcd-keys.ts) under a lease
 * that it keeps alive, so the key lives exactly as long as the broker can reach etcd.
 *
 * - Start: `start()` opens a lease and creates the key if it is absent (one transaction). If another lease
 *   holds the key, it is either a live broker with the same node id or one that just crashed and whose
 *   lease has not expired yet. `start()` watches the holder's lease: renewed → a live duplicate, refused
 *   with `NodeIdTakenError` (within about the holder's TTL); not renewed → waits for it to expire and
 *   registers. etcd unreachable for `startTimeoutMs` → `EtcdUnavailableError`. Both stop the broker
 *   (exit 1): a broker that cannot join its cluster must not serve as if it had.
 * - Running: when the session is lost (etcd down, or cut off, for about a TTL; see lease-session.ts) the
 *   listeners hear it at once, then the membership retries with backoff, forever, to open a new lease,
 *   revoke the old one if etcd still has it (an etcd restart revives every lease for a full TTL), and
 *   register again. It never throws: the broker keeps serving whatever it serves alone meanwhile.
 * - Stop: `stop()` revokes the lease, which deletes the registration (and the controller key, if this
 *   broker held it) at once, so the others see it leave without waiting for a TTL.
 */
import { type Etcd3, EtcdLeaseInvalidError } from 'etcd3';
import type { Logger } from '../shared/logger.ts';
import { etcdErrorText } from './etcd-client.ts';
import { type BrokerRegistration, type ClusterKeys, parseBrokerRegistration } from './etcd-keys.ts';
import { LeaseSession } from './lease-session.ts';
import { backoffMs, Sleeper } from './retry-timing.ts';

/**
 * How long `start()` keeps trying to reach etcd before giving up (Kafka's zookeeper.connection.timeout.ms is
 * 18 s).
 */
export const ETCD_START_TIMEOUT_MS = 15_000;

/** How often `start()` looks at a registration that holds this broker's node id. */
const HOLDER_POLL_MS = 500;

/** Another live broker is registered with this broker's node id. */
export class NodeIdTakenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeIdTakenError';
  }
}

/** etcd could not be reached, or kept failing, for the whole start-up timeout. */
export class EtcdUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EtcdUnavailableError';
  }
}

export interface MembershipOptions {
  client: Etcd3;
  keys: ClusterKeys;
  /** For messages: the cluster's name and the etcd endpoints. */
  cluster: string;
  endpoints: readonly string[];
  registration: BrokerRegistration;
  leaseTtlSeconds: number;
  logger: Logger;
  /** Default `ETCD_START_TIMEOUT_MS`. */
  startTimeoutMs?: number;
}

type Claim =
  | { registered: true }
  | { registered: false; holderLease: string; holder: BrokerRegistration | null };

export class BrokerMembership {
  private readonly options: MembershipOptions;
  private readonly key: string;
  private readonly value: string;
  private current: LeaseSession | null = null;
  /** Leases of sessions this broker lost; etcd may still hold them (and our keys under them). */
  private readonly staleLeases = new Set<string>();
  private readonly sessionListeners: Array<(session: LeaseSession) => void> = [];
  private readonly lostListeners: Array<(reason: string) => void> = [];
  private readonly sleeper = new Sleeper();
  private stopped = false;

  constructor(options: MembershipOptions) {
    this.options = options;
    this.key = options.keys.broker(options.registration.nodeId);
    this.value = JSON.stringify(options.registration);
  }

  /** The live session the registration is under, or null while (re-)registering. */
  get session(): LeaseSession | null {
    return this.current;
  }

  /** Called with each new session, once the broker is registered under it. */
  onSession(listener: (session: LeaseSession) => void): void {
    this.sessionListeners.push(listener);
  }

  /** Called as soon as the current session is lost (before any attempt to register again). */
  onSessionLost(listener: (reason: string) => void): void {
    this.lostListeners.push(listener);
  }

  /** Registers the broker; rejects with `NodeIdTakenError` or `EtcdUnavailableError` (see the module doc). */
  async start(): Promise<void> {
    const { client, logger, registration, startTimeoutMs = ETCD_START_TIMEOUT_MS } = this.options;
    const giveUpAt = performance.now() + startTimeoutMs;
    let session: LeaseSession | null = null;
    let attempt = 0;
    /**
     * The lease holding our key, and the latest moment it can expire unless renewed. etcd reports a
     * lease's remaining TTL in whole seconds (expiry within TTL ± 1 s of the answer), so each answer bounds
     * the expiry; a lease whose expiry moves past an earlier bound was renewed: its holder is alive.
     */
    let watched: { lease: string; expiresBy: number } | null = null;
    /** The last error that says why etcd cannot be reached (not etcd3's "circuit breaker is open"). */
    let cause = 'no answer';
    for (;;) {
      try {
        if (session !== null && !session.valid()) {
          session.release();
          session = null;
        }
        session ??= await LeaseSession.open(client, this.options.leaseTtlSeconds);
        const claim = await this.claim(session);
        if (claim.registered) {
          this.adopt(session);
          logger.info('registered in the cluster', {
            cluster: this.options.cluster,
            nodeId: registration.nodeId,
            lease: session.leaseId,
          });
          return;
        }
        const remaining = await this.remainingTtl(claim.holderLease);
        const now = performance.now();
        const earliest = now + (remaining - 1) * 1000;
        const latest = now + (remaining + 1) * 1000;
        if (watched === null || watched.lease !== claim.holderLease) {
          watched = { lease: claim.holderLease, expiresBy: latest };
          logger.warn(
            'another lease holds this node id: waiting to see whether it expires (a crashed broker)',
            {
              nodeId: registration.nodeId,
              holder: claim.holder,
              remainingTtlSeconds: remaining,
            },
          );
        } else if (earliest > watched.expiresBy || now > watched.expiresBy + 1000) {
          throw new NodeIdTakenError(this.takenMessage(claim.holder, 'it keeps renewing its lease'));
        } else {
          watched.expiresBy = Math.min(watched.expiresBy, latest);
        }
        attempt = 0;
        await this.sleeper.sleep(HOLDER_POLL_MS);
      } catch (err) {
        if (err instanceof NodeIdTakenError) {
          await session?.revoke().catch(() => {});
          throw err;
        }
        if (!/circuit breaker is open/i.test(etcdErrorText(err))) cause = etcdErrorText(err);
        if (performance.now() >= giveUpAt) {
          await session?.revoke().catch(() => {});
          throw new EtcdUnavailableError(
            `cannot register in etcd at ${this.options.endpoints.join(',')} (--etcd) within ` +
              `${Math.round(startTimeoutMs / 1000)} s: ${cause}`,
          );
        }
        logger.warn('cannot reach etcd yet; retrying', { error: etcdErrorText(err) });
        await this.sleeper.sleep(backoffMs(attempt++));
      }
      if (this.stopped) {
        await session?.revoke().catch(() => {});
        throw new EtcdUnavailableError('stopped before the broker could register');
      }
    }
  }

  /**
   * Leaves the cluster: revokes the lease, so the registration (and the controller key, if held) disappears
   * at once. Never throws; an etcd that cannot be reached lets the lease expire by itself.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.wake();
    const session = this.current;
    this.current = null;
    if (session === null) return;
    try {
      await session.revoke();
      this.options.logger.info('left the cluster (lease revoked)', { lease: session.leaseId });
    } catch (err) {
      this.options.logger.warn('could not revoke the etcd lease; it expires within its TTL', {
        error: etcdErrorText(err),
      });
    }
  }

  private takenMessage(holder: BrokerRegistration | null, evidence: string): string {
    const { cluster, registration } = this.options;
    const who =
      holder === null
        ? 'another broker'
        : `the broker at ${holder.host} (HTTP port ${holder.httpPort}, started ${holder.startedAt})`;
    return (
      `node id ${registration.nodeId} is already registered in cluster '${cluster}' by ${who}, and ${evidence}: ` +
      'give every broker of a cluster its own --node-id'
    );
  }

  /** The holder lease's remaining TTL in seconds (-1: expired). */
  private async remainingTtl(lease: string): Promise<number> {
    const answer = await this.options.client.leaseClient.leaseTimeToLive({ ID: lease, keys: false });
    return Number(answer.TTL);
  }

  /** Creates the registration under `session` unless another lease holds it. */
  private async claim(session: LeaseSession): Promise<Claim> {
    const { client } = this.options;
    for (let round = 0; round < 5; round++) {
      const answer = await client
        .if(this.key, 'Create', '==', 0)
        .then(client.put(this.key).value(this.value).lease(session.leaseId))
        .else(client.get(this.key))
        .commit();
      if (answer.succeeded) return { registered: true };
      const kv = answer.responses[0]?.response_range?.kvs[0];
      if (kv === undefined) continue; // deleted in between: try again
      // Ours already: an earlier attempt of this very transaction succeeded but its answer was lost.
      if (kv.lease === session.leaseId) return { registered: true };
      if (this.staleLeases.has(kv.lease)) {
        await this.revokeStale(kv.lease);
        continue;
      }
      return {
        registered: false,
        holderLease: kv.lease,
        holder: parseBrokerRegistration(kv.value.toString()),
      };
    }
    throw new Error(`the registration key ${this.key} keeps changing`);
  }

  /**
   * Revokes a lease of a lost session (deleting what it still holds); forgets it once etcd has no such lease.
   */
  private async revokeStale(lease: string): Promise<void> {
    try {
      await this.options.client.leaseClient.leaseRevoke({ ID: lease });
      this.staleLeases.delete(lease);
    } catch (err) {
      // etcd answers "requested lease not found" once it has expired the lease itself: nothing to revoke.
      if (err instanceof EtcdLeaseInvalidError) this.staleLeases.delete(lease);
      else throw err;
    }
  }

  private adopt(session: LeaseSession): void {
    this.current = session;
    session.onLost((reason) => this.onLost(session, reason));
    for (const listener of this.sessionListeners) listener(session);
  }

  private onLost(session: LeaseSession, reason: string): void {
    if (this.stopped || this.current !== session) return;
    this.current = null;
    this.staleLeases.add(session.leaseId);
    this.options.logger.warn('lost the etcd lease: out of the cluster until registered again', { reason });
    for (const listener of this.lostListeners) listener(reason);
    void this.registerAgain();
  }

  /** After a lost session: new lease, old one revoked, registration re-created. Retries until it works. */
  private async registerAgain(): Promise<void> {
    const { client, logger, registration } = this.options;
    for (let attempt = 0; !this.stopped; attempt++) {
      let session: LeaseSession | null = null;
      try {
        session = await LeaseSession.open(client, this.options.leaseTtlSeconds);
        for (const lease of [...this.staleLeases]) await this.revokeStale(lease);
        const claim = await this.claim(session);
        if (this.stopped) {
          void session.revoke().catch(() => {});
          return;
        }
        if (claim.registered && session.valid()) {
          this.adopt(session);
          logger.info('registered in the cluster again', {
            nodeId: registration.nodeId,
            lease: session.leaseId,
          });
          return;
        }
        if (!claim.registered) {
          logger.error('another broker registered this node id while this one was cut off; retrying', {
            nodeId: registration.nodeId,
            holder: claim.holder,
          });
        }
      } catch (err) {
        logger.warn('cannot register in etcd again yet; retrying', { error: etcdErrorText(err) });
      }
      if (session !== null) void session.revoke().catch(() => {});
      await this.sleeper.sleep(backoffMs(attempt));
    }
  }
}
