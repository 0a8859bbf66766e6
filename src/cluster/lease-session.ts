/**
 * @module
 * One etcd lease kept alive, and a conservative local view of whether it still lives: a `LeaseSession` is
 * what a broker's registration and, on the controller, the controller key live under.
 *
 * Why not trust etcd3's own `lost` event alone: etcd3 declares a lease lost only after *two* TTLs without a
 * successful keep-alive, while etcd expires it one TTL after the last keep-alive it *received*. A controller
 * that believed etcd3 could go on acting for up to a TTL after another broker had been elected. So the
 * session tracks a deadline of its own: when a keep-alive is acknowledged, the lease is known to live until
 * at least the moment that keep-alive was *sent* plus the TTL etcd granted (etcd restarted the countdown no
 * earlier than when it received it). The session declares itself lost `SAFETY_MARGIN_MS` before that
 * deadline, so it gives up strictly before etcd can hand its keys to anyone else (assuming clocks that tick
 * at the same rate; the monotonic clock is used, never the wall clock). Anything acting on the session's
 * behalf checks `valid()` first, and writes that matter are fenced in etcd as well (see
 * controller-election.ts).
 *
 * Lost is final: a lost session is never revived; the owner opens a new one (a new lease) and re-registers.
 */
import type { Etcd3, Lease } from 'etcd3';
import { ETCD_CALL_TIMEOUT_MS, etcdErrorText } from './etcd-client.ts';

/**
 * The session gives itself up this long before the lease could expire in etcd (capped at a fifth of the TTL).
 */
const SAFETY_MARGIN_MS = 1_000;

export class LeaseSession {
  /** etcd's lease id (a decimal string: lease ids are 64-bit). */
  readonly leaseId: string;
  readonly ttlSeconds: number;
  private readonly lease: Lease;
  /** performance.now() after which etcd may have expired the lease. */
  private expiresBy: number;
  /** Send times of keep-alives not yet answered, oldest first: answers come back in order on the stream. */
  private unanswered: number[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ended = false;
  private lostReason: string | null = null;
  private readonly lostListeners: Array<(reason: string) => void> = [];

  private constructor(lease: Lease, leaseId: string, ttlSeconds: number, grantSentAt: number) {
    this.lease = lease;
    this.leaseId = leaseId;
    this.ttlSeconds = ttlSeconds;
    this.expiresBy = grantSentAt + ttlSeconds * 1000;
    lease.on('keepaliveFired', () => this.unanswered.push(performance.now()));
    lease.on('keepaliveSucceeded', (res) => {
      const sentAt = this.unanswered.shift();
      const ttl = Number(res.TTL);
      if (sentAt !== undefined && ttl > 0) this.expiresBy = Math.max(this.expiresBy, sentAt + ttl * 1000);
      this.arm();
    });
    // The stream was torn down: answers to what it carried will never come. etcd3 opens a new one.
    lease.on('keepaliveFailed', () => {
      this.unanswered = [];
    });
    lease.on('lost', (err: Error) => this.lose(`etcd reports the lease lost: ${etcdErrorText(err)}`));
    this.arm();
  }

  /** Grants a lease of `ttlSeconds` and starts keeping it alive; rejects when etcd cannot be reached. */
  static async open(client: Etcd3, ttlSeconds: number): Promise<LeaseSession> {
    const sentAt = performance.now();
    const lease = client.lease(ttlSeconds, { autoKeepAlive: true });
    let leaseId: string;
    try {
      leaseId = await lease.grant();
    } catch (err) {
      lease.release();
      throw err;
    }
    return new LeaseSession(lease, leaseId, ttlSeconds, sentAt);
  }

  /** True while the lease certainly still lives in etcd (and the session was neither lost nor revoked). */
  valid(): boolean {
    return !this.ended && performance.now() < this.expiresBy - this.margin();
  }

  /** Why the session was lost, or null while it was not. */
  get lost(): string | null {
    return this.lostReason;
  }

  /** Calls `listener` once when the session is lost (not when it is revoked on purpose). */
  onLost(listener: (reason: string) => void): void {
    if (this.lostReason !== null) listener(this.lostReason);
    else if (!this.ended) this.lostListeners.push(listener);
  }

  /**
   * Ends the session on purpose: stops the keep-alives and revokes the lease, which deletes every key under
   * it at once. Gives up after ETCD_CALL_TIMEOUT_MS (the lease then expires by itself within its TTL).
   */
  async revoke(): Promise<void> {
    this.end();
    this.lostListeners.length = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer from etcd')), ETCD_CALL_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.lease.revoke(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops keeping the lease alive without revoking it: it expires in etcd within its TTL. */
  release(): void {
    this.end();
    this.lostListeners.length = 0;
  }

  private margin(): number {
    return Math.min(SAFETY_MARGIN_MS, (this.ttlSeconds * 1000) / 5);
  }

  /** (Re)schedules the local expiry check for the current deadline. */
  private arm(): void {
    if (this.ended) return;
    if (this.timer !== null) clearTimeout(this.timer);
    const delay = Math.max(0, this.expiresBy - this.margin() - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.valid()) this.arm();
      else this.lose(`no keep-alive acknowledged by etcd for ${this.ttlSeconds} s (the lease TTL)`);
    }, delay);
  }

  private lose(reason: string): void {
    if (this.ended) return;
    this.lostReason = reason;
    this.end();
    const listeners = this.lostListeners.splice(0);
    for (const listener of listeners) listener(reason);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.lease.release();
  }
}
