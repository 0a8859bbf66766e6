/**
 * @module
 * `GroupMember`: one Consumer's membership of a consumer group over the HTTP API (docs/http-api.md,
 * "Consumer groups"): Kafka's classic group protocol, with the assignor run by the coordinator.
 *
 * Three loops, all ended by close():
 * - membership: join (a long-poll), sync, then apply the assignment. It is the only place that calls
 *   onAssigned/onRevoked/onLost and starts or stops partitions, so callbacks never overlap.
 * - heartbeat: every `heartbeatIntervalMs` while the member holds a valid generation, also while callbacks
 *   run (slow callbacks do not cost the session). It only asks the membership loop to act:
 *   REBALANCE_IN_PROGRESS → commit, join again; ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID, or no successful
 *   heartbeat for `sessionTimeoutMs` → the partitions are lost (onLost, nothing committed), join again (with
 *   memberId '' after UNKNOWN_MEMBER_ID); FENCED_INSTANCE_ID → fatal: handed to the next poll(), membership
 *   stops.
 * - auto-commit: every `autoCommitIntervalMs`, the positions that moved since the last successful commit.
 *
 * Eager assignors (range, roundrobin) revoke every partition before joining again. Cooperative ones
 * (cooperative-sticky) join with `ownedPartitions`; after sync they revoke owned − assigned, add
 * assigned − owned, and partitions kept go on fetching. Revoking is: stop delivering (the partition's buffer
 * is dropped, its position stays readable so onRevoked may commit), onRevoked, commit (autoCommit), forget.
 *
 * Commits go out one at a time (a later commit never lands before an earlier one), carry the member's id and
 * generation, and by default only positions, the next offset poll() hands out: nothing not yet handed to the
 * application is committed (at-least-once). Commits the application did not ask for (auto, revocation,
 * close) are bounded by the session timeout and their failures are swallowed. A callback that throws is
 * handed to the next poll() as REBALANCE_CALLBACK_FAILED (a client-side code); the rebalance goes on.
 */
import { asFreshetError, closedError, FreshetError } from './errors.ts';
import { backoffMs, type HttpClient, type RetryPolicy, sleep } from './http.ts';
import type { OffsetCommit } from './types.ts';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface GroupMetadata {
  groupId: string;
  /** '' until the first join answers. */
  memberId: string;
  /** -1 until the first join answers. */
  generationId: number;
  /** The generation's assignor; null until the first join answers. */
  assignor: string | null;
}

export type RebalanceCallback = (partitions: TopicPartition[]) => void | Promise<void>;

export interface SubscribeOptions {
  groupId: string;
  /** Static membership: a restart within the session timeout keeps the partitions, with no rebalance. */
  groupInstanceId?: string;
  /** Preference order; default ['cooperative-sticky', 'range']. */
  assignors?: string[];
  /** Default 10,000 ms; must lie within the broker's group session timeout bounds. */
  sessionTimeoutMs?: number;
  /** How long the coordinator waits for every member to join again; default 60,000 ms. */
  rebalanceTimeoutMs?: number;
  /** Default 3,000 ms; must be below sessionTimeoutMs. */
  heartbeatIntervalMs?: number;
  /** Commit positions in the background, before revocation and on close; default true. */
  autoCommit?: boolean;
  /** Default 5,000 ms. */
  autoCommitIntervalMs?: number;
  /** After every successful rebalance, with the partitions added (possibly none). */
  onAssigned?: RebalanceCallback;
  /** Before partitions are given up; their positions are still readable and committable. */
  onRevoked?: RebalanceCallback;
  /** When partitions were found to be someone else's already (no commit possible); default onRevoked. */
  onLost?: RebalanceCallback;
}

/** What the member needs of the Consumer: start, stop and read the position of partition fetchers. */
export interface GroupHost {
  /** Starts fetching newly assigned partitions: at `offset`, or per autoOffsetReset when null. */
  start(partitions: Array<TopicPartition & { offset: number | null }>): void;
  /** Stops fetching and delivering (buffered records are dropped); position() keeps answering. */
  freeze(partitions: TopicPartition[]): void;
  /** Forgets the partitions. */
  drop(partitions: TopicPartition[]): void;
  /** The next offset poll() hands out; null while unknown. */
  position(topic: string, partition: number): number | null;
  /** Hands an error to the next poll(). */
  report(err: FreshetError): void;
}

export interface GroupMemberConfig {
  http: HttpClient;
  retry: RetryPolicy;
  topics: string[];
  options: SubscribeOptions;
  host: GroupHost;
}

export const DEFAULT_ASSIGNORS: readonly string[] = Object.freeze(['cooperative-sticky', 'range']);
const COOPERATIVE_ASSIGNORS: ReadonlySet<string> = new Set(['cooperative-sticky']);
/** Join errors that no retry will cure: membership stops. */
const FATAL_JOIN_ERRORS: ReadonlySet<string> = new Set([
  'FENCED_INSTANCE_ID',
  'INCONSISTENT_GROUP_PROTOCOL',
  'INVALID_SESSION_TIMEOUT',
  'INVALID_GROUP_ID',
  'GROUP_MAX_SIZE_REACHED',
  'INVALID_REQUEST',
]);
/** Join and sync answers that mean "join again now"; backoff starts only after this many in a row. */
const IMMEDIATE_REJOINS = 3;
/** How long an idle loop sleeps before looking again (it is woken earlier when there is work). */
const IDLE_WAIT_MS = 1_000;

interface JoinAnswer {
  memberId: string;
  generationId: number;
  assignor: string;
  leader?: string;
  skipAssignment?: boolean;
}

interface WireTopicPartitions {
  topic: string;
  partitions: number[];
}

interface SyncAnswer {
  assignor?: string;
  assignment?: WireTopicPartitions[];
}

interface OffsetsAnswer {
  offsets?: Array<{ topic: string; partition: number; offset: number }>;
}

/** What the heartbeat loop asked for, merged until the membership loop acts on it. */
interface RejoinRequest {
  /** The generation is gone: the partitions are lost, not revoked. */
  lost: boolean;
  /** The coordinator no longer knows the member id: join with ''. */
  resetMemberId: boolean;
}

export class GroupMember {
  readonly groupId: string;
  private readonly http: HttpClient;
  private readonly retry: RetryPolicy;
  private readonly host: GroupHost;
  private readonly path: string;
  private readonly groupInstanceId: string | undefined;
  private readonly assignors: string[];
  private readonly sessionTimeoutMs: number;
  private readonly rebalanceTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly autoCommit: boolean;
  private readonly autoCommitIntervalMs: number;
  private readonly onAssigned: RebalanceCallback | undefined;
  private readonly onRevoked: RebalanceCallback | undefined;
  private readonly onLost: RebalanceCallback | undefined;
  private topics: string[];
  private memberId = '';
  private generationId = -1;
  private assignor: string | null = null;
  /** From a successful sync until the generation is found gone: heartbeats and auto-commits run. */
  private generationValid = false;
  /** From taking a rejoin request until sync answers: heartbeat answers concern the old generation. */
  private rebalancing = false;
  /** A join or sync is out: no heartbeats (the coordinator hears from the member through it). */
  private inJoin = false;
  private rejoin: RejoinRequest | null = { lost: false, resetMemberId: false };
  private readonly owned = new Map<string, TopicPartition>();
  /** Per owned partition, the offset of its last successful commit (or the committed offset it started at). */
  private readonly lastCommitted = new Map<string, number>();
  private lastHeartbeatOk = 0;
  private heartbeatFailures = 0;
  private fatal: FreshetError | null = null;
  private readonly stopController = new AbortController();
  private readonly membershipWake = new Wakeup();
  private readonly heartbeatWake = new Wakeup();
  private loops: Array<Promise<void>> = [];
  private commitTail: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | null = null;
  /** close() is over; until then onRevoked may still commit. */
  private closed = false;

  constructor(config: GroupMemberConfig) {
    const { options } = config;
    checkGroupId(options.groupId);
    this.groupId = options.groupId;
    this.http = config.http;
    this.retry = config.retry;
    this.host = config.host;
    this.path = `/v1/groups/${encodeURIComponent(options.groupId)}`;
    if (options.groupInstanceId !== undefined && options.groupInstanceId === '') {
      throw new FreshetError('INVALID_REQUEST', 'groupInstanceId must not be empty');
    }
    this.groupInstanceId = options.groupInstanceId;
    this.assignors = [...(options.assignors ?? DEFAULT_ASSIGNORS)];
    if (this.assignors.length === 0) throw new FreshetError('INVALID_REQUEST', 'assignors must not be empty');
    this.sessionTimeoutMs = positive('sessionTimeoutMs', options.sessionTimeoutMs ?? 10_000);
    this.rebalanceTimeoutMs = positive('rebalanceTimeoutMs', options.rebalanceTimeoutMs ?? 60_000);
    this.heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 3_000);
    if (this.heartbeatIntervalMs >= this.sessionTimeoutMs) {
      throw new FreshetError(
        'INVALID_REQUEST',
        `heartbeatIntervalMs (${this.heartbeatIntervalMs}) must be below sessionTimeoutMs (${this.sessionTimeoutMs})`,
      );
    }
    this.autoCommit = options.autoCommit ?? true;
    this.autoCommitIntervalMs = positive('autoCommitIntervalMs', options.autoCommitIntervalMs ?? 5_000);
    this.onAssigned = options.onAssigned;
    this.onRevoked = options.onRevoked;
    this.onLost = options.onLost ?? options.onRevoked;
    this.topics = checkTopics(config.topics);
  }

  /** Starts the loops; the first join goes out at once. */
  start(): void {
    const loops = [this.membershipLoop(), this.heartbeatLoop()];
    if (this.autoCommit) loops.push(this.autoCommitLoop());
    this.loops = loops.map((loop) => loop.catch((err) => this.host.report(asFreshetError(err))));
  }

  /** A new subscription: joins again (partitions of topics no longer subscribed are revoked first). */
  subscribe(topics: string[]): void {
    this.topics = checkTopics(topics);
    this.requestRejoin(false, false);
  }

  metadata(): GroupMetadata {
    return {
      groupId: this.groupId,
      memberId: this.memberId,
      generationId: this.generationId,
      assignor: this.assignor,
    };
  }

  /**
   * Commits `offsets`, or the positions of every owned partition. Throws the broker's error (e.g.
   * ILLEGAL_GENERATION or UNKNOWN_MEMBER_ID once the member was fenced out), or UNKNOWN_MEMBER_ID when the
   * member has no id yet (it is joining).
   */
  async commit(offsets?: OffsetCommit[]): Promise<void> {
    if (this.fatal !== null) throw this.fatal;
    if (this.closed) throw closedError('consumer');
    const list =
      offsets === undefined ? this.positions([...this.owned.values()], false) : checkOffsets(offsets);
    if (list.length === 0) return;
    await this.send(list, Number.POSITIVE_INFINITY);
  }

  /** The group's committed offset for the partition; null when there is none. */
  async committed(topic: string, partition: number): Promise<number | null> {
    const offsets = await this.fetchCommitted([topic]);
    return offsets.get(keyOf(topic, partition)) ?? null;
  }

  /**
   * Commits (autoCommit) and revokes the owned partitions, then leaves the group unless static (a static
   * member's restart within the session timeout keeps its partitions). The commit and the leave are each
   * bounded by the session timeout: after it the coordinator has dropped the member anyway.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown().finally(() => {
      this.closed = true;
    });
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopController.abort();
    this.membershipWake.set();
    this.heartbeatWake.set();
    await Promise.allSettled(this.loops);
    const owned = [...this.owned.values()];
    if (this.fatal === null && this.generationValid)
      await this.revoke(owned, 'revoked', this.sessionTimeoutMs);
    else await this.revoke(owned, 'lost', 0);
    this.generationValid = false;
    if (this.fatal !== null || this.groupInstanceId !== undefined || this.memberId === '') return;
    try {
      await this.http.request('POST', `${this.path}/leave`, {
        body: { memberId: this.memberId },
        timeoutMs: Math.min(this.http.requestTimeoutMs, this.sessionTimeoutMs),
      });
    } catch {
      // The broker is gone or slow: the session timeout removes the member instead.
    }
  }

  private active(): boolean {
    return !this.stopController.signal.aborted && this.fatal === null;
  }

  private fail(err: FreshetError): void {
    if (this.fatal !== null) return;
    this.fatal = err;
    this.generationValid = false;
    this.host.report(err);
    this.membershipWake.set();
    this.heartbeatWake.set();
  }

  private requestRejoin(lost: boolean, resetMemberId: boolean): void {
    if (lost) this.generationValid = false;
    const pending = this.rejoin;
    this.rejoin = {
      lost: lost || (pending?.lost ?? false),
      resetMemberId: resetMemberId || (pending?.resetMemberId ?? false),
    };
    this.membershipWake.set();
  }

  private async membershipLoop(): Promise<void> {
    const signal = this.stopController.signal;
    while (this.active()) {
      const request = this.rejoin;
      if (request === null) {
        await this.membershipWake.wait(IDLE_WAIT_MS, signal);
        continue;
      }
      this.rejoin = null;
      await this.rebalance(request);
    }
    // Fenced out or refused for good: the partitions are someone else's (close() handles its own case).
    if (this.fatal !== null) await this.revoke([...this.owned.values()], 'lost', 0);
  }

  private async rebalance(request: RejoinRequest): Promise<void> {
    this.rebalancing = true;
    try {
      if (request.resetMemberId) {
        this.memberId = '';
        this.generationId = -1;
      }
      // The coordinator waits for the join only up to the rebalance timeout: commits must not eat it up.
      const commitWithinMs = Math.min(this.sessionTimeoutMs, Math.floor(this.rebalanceTimeoutMs / 2));
      const owned = [...this.owned.values()];
      if (request.lost) {
        await this.revoke(owned, 'lost', 0);
      } else {
        const subscribed = new Set(this.topics);
        const unsubscribed = owned.filter((tp) => !subscribed.has(tp.topic));
        await this.revoke(unsubscribed, 'revoked', commitWithinMs);
        if (!this.cooperative()) {
          await this.revoke([...this.owned.values()], 'revoked', commitWithinMs);
        } else if (this.autoCommit) {
          await this.commitQuietly([...this.owned.values()], Date.now() + commitWithinMs);
        }
      }
      if (!this.active()) return;
      const assignment = await this.joinAndSync();
      this.rebalancing = false;
      if (assignment !== null) await this.apply(assignment);
    } finally {
      this.rebalancing = false;
    }
  }

  private cooperative(): boolean {
    return this.assignor !== null && COOPERATIVE_ASSIGNORS.has(this.assignor);
  }

  /** Joins and syncs until it has an assignment; null once closing or fatal. */
  private async joinAndSync(): Promise<TopicPartition[] | null> {
    const signal = this.stopController.signal;
    // A join waits for every member, up to the rebalance timeout; the request timeout is the margin.
    const timeoutMs = this.rebalanceTimeoutMs + this.http.requestTimeoutMs;
    let failures = 0;
    while (this.active()) {
      this.inJoin = true;
      try {
        const joined = await this.post<JoinAnswer>(
          'join',
          {
            memberId: this.memberId,
            groupInstanceId: this.groupInstanceId,
            topics: this.topics,
            assignors: this.assignors,
            ownedPartitions: toWire([...this.owned.values()]),
            sessionTimeoutMs: this.sessionTimeoutMs,
            rebalanceTimeoutMs: this.rebalanceTimeoutMs,
          },
          timeoutMs,
        );
        this.memberId = joined.memberId;
        this.generationId = joined.generationId;
        this.assignor = joined.assignor;
        const synced = await this.post<SyncAnswer>(
          'sync',
          { memberId: this.memberId, generationId: this.generationId, groupInstanceId: this.groupInstanceId },
          timeoutMs,
        );
        if (typeof synced.assignor === 'string' && synced.assignor !== '') this.assignor = synced.assignor;
        this.generationValid = true;
        this.lastHeartbeatOk = Date.now();
        this.heartbeatFailures = 0;
        this.heartbeatWake.set();
        return fromWire(synced.assignment ?? []);
      } catch (err) {
        if (!this.active()) return null;
        const error = asFreshetError(err);
        failures++;
        let immediate = false;
        switch (error.code) {
          case 'UNKNOWN_MEMBER_ID':
            this.memberId = '';
            this.generationId = -1;
            this.generationValid = false;
            this.inJoin = false;
            await this.revoke([...this.owned.values()], 'lost', 0);
            immediate = true;
            break;
          case 'ILLEGAL_GENERATION':
            // Sync for a generation that is gone: whatever the member held may be someone else's now.
            this.generationValid = false;
            this.inJoin = false;
            await this.revoke([...this.owned.values()], 'lost', 0);
            immediate = true;
            break;
          case 'REBALANCE_IN_PROGRESS':
            immediate = true;
            break;
          default:
            if (FATAL_JOIN_ERRORS.has(error.code)) {
              this.fail(error);
              return null;
            }
            if (!error.retriable || failures === this.retry.retries + 1) this.host.report(error);
        }
        if (!immediate || failures > IMMEDIATE_REJOINS) {
          await sleep(backoffMs(Math.min(failures - 1, 10), this.retry, error), signal);
        }
      } finally {
        this.inJoin = false;
      }
    }
    return null;
  }

  /** Revokes owned − assignment, then starts assignment − owned at the committed offsets. */
  private async apply(assignment: TopicPartition[]): Promise<void> {
    const next = new Set(assignment.map((tp) => keyOf(tp.topic, tp.partition)));
    const revoked = [...this.owned.entries()].filter(([key]) => !next.has(key)).map(([, tp]) => tp);
    if (revoked.length > 0) {
      await this.revoke(revoked, 'revoked', this.sessionTimeoutMs);
      // The coordinator answers the next heartbeat with REBALANCE_IN_PROGRESS once the partitions given up
      // can be handed on: ask now rather than an interval later.
      this.heartbeatWake.set();
    }
    const added = assignment.filter((tp) => !this.owned.has(keyOf(tp.topic, tp.partition)));
    if (added.length > 0) {
      const committed = await this.lookUpCommitted(added);
      if (committed === null) return;
      this.host.start(
        added.map((tp) => ({ ...tp, offset: committed.get(keyOf(tp.topic, tp.partition)) ?? null })),
      );
      for (const tp of added) {
        const key = keyOf(tp.topic, tp.partition);
        this.owned.set(key, tp);
        const offset = committed.get(key);
        if (offset !== undefined) this.lastCommitted.set(key, offset);
      }
    }
    await this.callback(this.onAssigned, 'onAssigned', added);
  }

  /**
   * Stops delivering the partitions, tells the application (onRevoked or onLost), commits their positions
   * ('revoked' with autoCommit, within `commitWithinMs` of the callback's return), and forgets them.
   */
  private async revoke(
    partitions: TopicPartition[],
    how: 'revoked' | 'lost',
    commitWithinMs: number,
  ): Promise<void> {
    if (partitions.length === 0) return;
    const list = partitions.map(({ topic, partition }) => ({ topic, partition }));
    this.host.freeze(list);
    if (how === 'lost') await this.callback(this.onLost, 'onLost', list);
    else await this.callback(this.onRevoked, 'onRevoked', list);
    if (how === 'revoked' && this.autoCommit) await this.commitQuietly(list, Date.now() + commitWithinMs);
    this.host.drop(list);
    for (const { topic, partition } of list) {
      const key = keyOf(topic, partition);
      this.owned.delete(key);
      this.lastCommitted.delete(key);
    }
  }

  private async callback(
    fn: RebalanceCallback | undefined,
    name: string,
    partitions: TopicPartition[],
  ): Promise<void> {
    if (fn === undefined) return;
    try {
      await fn(partitions);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.host.report(
        new FreshetError('REBALANCE_CALLBACK_FAILED', `${name} threw: ${message}`, {
          cause: err,
          retriable: false,
        }),
      );
    }
  }

  private async heartbeatLoop(): Promise<void> {
    const signal = this.stopController.signal;
    let delay = this.heartbeatIntervalMs;
    while (this.active()) {
      if (!this.generationValid || this.inJoin) {
        await this.heartbeatWake.wait(IDLE_WAIT_MS, signal);
        delay = this.heartbeatIntervalMs;
        continue;
      }
      await this.heartbeatWake.wait(delay, signal);
      if (!this.active() || !this.generationValid || this.inJoin) continue;
      delay = await this.heartbeat();
    }
  }

  /** One heartbeat; answers how long to wait before the next. */
  private async heartbeat(): Promise<number> {
    const { memberId, generationId } = this;
    const stale = () =>
      this.rebalancing ||
      !this.generationValid ||
      this.memberId !== memberId ||
      this.generationId !== generationId;
    try {
      await this.post(
        'heartbeat',
        { memberId, generationId, groupInstanceId: this.groupInstanceId },
        this.sessionTimeoutMs,
      );
      if (!stale()) {
        this.lastHeartbeatOk = Date.now();
        this.heartbeatFailures = 0;
      }
      return this.heartbeatIntervalMs;
    } catch (err) {
      if (!this.active() || stale()) return this.heartbeatIntervalMs;
      const error = asFreshetError(err);
      switch (error.code) {
        case 'REBALANCE_IN_PROGRESS':
          this.lastHeartbeatOk = Date.now();
          this.requestRejoin(false, false);
          return this.heartbeatIntervalMs;
        case 'ILLEGAL_GENERATION':
          this.requestRejoin(true, false);
          return this.heartbeatIntervalMs;
        case 'UNKNOWN_MEMBER_ID':
          this.requestRejoin(true, true);
          return this.heartbeatIntervalMs;
        case 'FENCED_INSTANCE_ID':
          this.fail(error);
          return this.heartbeatIntervalMs;
      }
      this.heartbeatFailures++;
      if (Date.now() - this.lastHeartbeatOk >= this.sessionTimeoutMs) {
        // The coordinator has dropped the member by now: its partitions are someone else's.
        this.requestRejoin(true, false);
        return this.heartbeatIntervalMs;
      }
      if (!error.retriable || this.heartbeatFailures === this.retry.retries + 1) this.host.report(error);
      const backoff = backoffMs(Math.min(this.heartbeatFailures - 1, 10), this.retry, error);
      return Math.min(backoff, this.heartbeatIntervalMs);
    }
  }

  private async autoCommitLoop(): Promise<void> {
    const signal = this.stopController.signal;
    while (this.active()) {
      await sleep(this.autoCommitIntervalMs, signal);
      if (!this.active() || !this.generationValid || this.rebalancing) continue;
      await this.commitQuietly([...this.owned.values()], Date.now() + this.sessionTimeoutMs);
    }
  }

  /** Commits the positions that moved since their last commit; failures are left for the next try. */
  private async commitQuietly(partitions: TopicPartition[], deadline: number): Promise<void> {
    const offsets = this.positions(partitions, true);
    if (offsets.length === 0 || this.memberId === '') return;
    try {
      await this.send(offsets, deadline);
    } catch {
      // Retried at the next interval (auto-commit), or moot (the partitions are going anyway).
    }
  }

  private positions(partitions: TopicPartition[], changedOnly: boolean): OffsetCommit[] {
    const out: OffsetCommit[] = [];
    for (const { topic, partition } of partitions) {
      const position = this.host.position(topic, partition);
      if (position === null) continue;
      if (changedOnly && this.lastCommitted.get(keyOf(topic, partition)) === position) continue;
      out.push({ topic, partition, offset: position });
    }
    return out;
  }

  /** Sends one commit after the ones before it, retrying retriable errors until `deadline`. */
  private send(offsets: OffsetCommit[], deadline: number): Promise<void> {
    const task = async () => {
      for (let attempt = 0; ; attempt++) {
        if (this.memberId === '') {
          throw new FreshetError(
            'UNKNOWN_MEMBER_ID',
            `not a member of group ${this.groupId} yet: it is joining`,
          );
        }
        const left = deadline - Date.now();
        if (left <= 0)
          throw new FreshetError('REQUEST_TIMED_OUT', `commit to group ${this.groupId}: out of time`);
        try {
          await this.http.request('POST', `${this.path}/offsets`, {
            body: {
              memberId: this.memberId,
              generationId: this.generationId,
              groupInstanceId: this.groupInstanceId,
              offsets,
            },
            timeoutMs: Math.min(left, this.http.requestTimeoutMs),
          });
        } catch (err) {
          const error = asFreshetError(err);
          if (!error.retriable || attempt >= this.retry.retries) throw error;
          await sleep(Math.min(backoffMs(attempt, this.retry, error), Math.max(0, deadline - Date.now())));
          continue;
        }
        for (const { topic, partition, offset } of offsets) {
          const key = keyOf(topic, partition);
          if (this.owned.has(key)) this.lastCommitted.set(key, offset);
        }
        return;
      }
    };
    const run = this.commitTail.then(task, task);
    this.commitTail = run.catch(() => undefined);
    return run;
  }

  /** Committed offsets of newly assigned partitions, retried until they come; null once closing or fatal. */
  private async lookUpCommitted(partitions: TopicPartition[]): Promise<Map<string, number> | null> {
    const topics = [...new Set(partitions.map((tp) => tp.topic))];
    for (let failures = 1; this.active(); failures++) {
      try {
        return await this.fetchCommitted(topics, this.stopController.signal);
      } catch (err) {
        if (!this.active()) return null;
        const error = asFreshetError(err);
        if (!error.retriable || failures === this.retry.retries + 1) this.host.report(error);
        await sleep(backoffMs(Math.min(failures - 1, 10), this.retry, error), this.stopController.signal);
      }
    }
    return null;
  }

  private async fetchCommitted(topics: string[], signal?: AbortSignal): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const topic of topics) {
      let answer: OffsetsAnswer;
      try {
        answer = await this.http.request<OffsetsAnswer>('GET', `${this.path}/offsets`, {
          query: { topic },
          signal,
        });
      } catch (err) {
        // No group or no topic yet: nothing committed.
        const code = asFreshetError(err).code;
        if (code === 'GROUP_ID_NOT_FOUND' || code === 'UNKNOWN_TOPIC_OR_PARTITION') continue;
        throw err;
      }
      for (const entry of answer.offsets ?? []) {
        if (entry.topic === topic && entry.offset >= 0) out.set(keyOf(topic, entry.partition), entry.offset);
      }
    }
    return out;
  }

  private post<T>(what: string, body: unknown, timeoutMs: number): Promise<T> {
    return this.http.request<T>('POST', `${this.path}/${what}`, {
      body,
      timeoutMs,
      signal: this.stopController.signal,
    });
  }
}

/** A flag one loop sleeps on: set() wakes it at once, or makes its next wait return at once. */
class Wakeup {
  private pending = false;
  private waiter: (() => void) | null = null;

  set(): void {
    if (this.waiter !== null) this.waiter();
    else this.pending = true;
  }

  /** Resolves after `ms`, on set(), or on abort; never rejects. */
  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (this.pending || signal.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiter = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiter = done;
    });
  }
}

export function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function toWire(partitions: TopicPartition[]): WireTopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, [partition]);
    else list.push(partition);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

function fromWire(assignment: WireTopicPartitions[]): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const { topic, partitions } of assignment) {
    for (const partition of partitions) out.push({ topic, partition });
  }
  return out;
}

function checkGroupId(groupId: unknown): void {
  if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > 255) {
    throw new FreshetError('INVALID_GROUP_ID', `groupId must be 1-255 characters, got ${String(groupId)}`);
  }
}

function checkTopics(topics: string[]): string[] {
  if (
    !Array.isArray(topics) ||
    topics.length === 0 ||
    topics.some((t) => typeof t !== 'string' || t === '')
  ) {
    throw new FreshetError('INVALID_REQUEST', 'subscribe() needs a non-empty list of topic names');
  }
  return [...new Set(topics)];
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new FreshetError('INVALID_REQUEST', `${name} must be a positive integer, got ${value}`);
  }
  return value;
}

function checkOffsets(offsets: OffsetCommit[]): OffsetCommit[] {
  return offsets.map(({ topic, partition, offset, metadata }) => {
    if (!Number.isSafeInteger(partition) || partition < 0 || !Number.isSafeInteger(offset) || offset < 0) {
      throw new FreshetError(
        'INVALID_REQUEST',
        `commit needs integer partition and offset >= 0, got ${topic}/${partition}@${offset}`,
      );
    }
    return metadata === undefined ? { topic, partition, offset } : { topic, partition, offset, metadata };
  });
}
