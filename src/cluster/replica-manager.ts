/**
 * @module
 * This broker's replicas of the cluster's partitions, leader or follower, as etcd's partition states say
 * (cluster-metadata.ts), and everything a leader keeps for them on the main thread:
 *
 * - Leader (it is `leader` and was elected in this registration): appends carry its epoch; it tracks each
 *   follower's log end offset from the follower's fetches; the high watermark (HW) is the smallest log end
 *   offset over the ISR (a follower not heard from since the election holds the HW where it was: it may lack
 *   the records past it); it never moves back. acks=all produce waits until the HW covers its records.
 *   ISR: a follower that has not caught up with the leader's log end for replica.lag.time.max.ms is
 *   dropped; one that reaches the HW (and the start of this epoch) joins again. Both are written to etcd
 *   with compare-and-swap on the partition key's revision and only then used, so the ISR the HW and acks
 *   count on is never smaller than the one etcd has (which is what the controller elects from).
 * - Follower: fetches from the leader (replica-fetcher.ts) and appends the leader's batches as they are.
 *   After every change of leader it first proves its log a prefix of the leader's: it sends the epoch of its
 *   last batch, and while the leader answers `diverging` it cuts its log where both logs' epochs agree (the
 *   smaller of the leader's end and its own end of that epoch). Only then does it copy, so no two replicas
 *   ever hold different records at one offset below the HW.
 *
 * Transitions (become leader, become follower, stop) run one at a time per broker, in etcd's order.
 */
import type { Etcd3 } from 'etcd3';
import type { BrokerEngine } from '../ipc/broker-engine.ts';
import { readSlices } from '../ipc/read-slices.ts';
import { BrokerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { partitionKey } from '../shared/partition-key.ts';
import type { ClusterMetadata, PartitionEntry } from './cluster-metadata.ts';
import { etcdErrorText } from './etcd-client.ts';
import type { ClusterKeys, PartitionMeta } from './etcd-keys.ts';
import {
  REPLICA_FETCH_PARTITION_BYTES,
  REPLICA_FETCH_TOTAL_BYTES,
  type ReplicaFetchPartition,
  type ReplicaFetchRequest,
  type ReplicaFetchResponse,
} from './replica-protocol.ts';
import { ReplicaTail, TailBudget } from './replica-tail.ts';

/** What the replica manager needs of the local engine: one replica's log, no leadership checks. */
export type LocalLogs = Pick<
  BrokerEngine,
  | 'appendLocal'
  | 'truncateLocal'
  | 'startOverLocal'
  | 'epochEndLocal'
  | 'lastEpochLocal'
  | 'localOffsets'
  | 'allLocalOffsets'
  | 'fetchRaw'
  | 'deleteRecords'
  | 'topicLogConfig'
  | 'topicId'
>;

interface FollowerState {
  /** The follower's log end offset as its last fetch said; -1 before its first fetch in this epoch. */
  leo: number;
  /** The last time the follower had everything the leader had (Kafka's lastCaughtUpTimeMs). */
  caughtUpAt: number;
  lastFetchAt: number;
  /** The leader's log end offset when the follower last fetched. */
  leoAtLastFetch: number;
}

interface AckWaiter {
  offset: number;
  minInsync: number;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface Replica {
  readonly topic: string;
  readonly partition: number;
  readonly role: 'leader' | 'follower';
  readonly epoch: number;
  /** The leader's node id (this broker's as leader; -1 for a follower while none is elected). */
  readonly leader: number;
  meta: PartitionMeta;
  mod: string;
  leo: number;
  hw: number;
  logStart: number;
  // Leader only.
  isr: number[];
  readonly followers: Map<number, FollowerState>;
  readonly epochStart: number;
  readonly acks: AckWaiter[];
  readonly hwWaiters: Set<() => void>;
  readonly leoWaiters: Set<() => void>;
  /** The leader's copy of its latest appends, for followers (replica-tail.ts). */
  readonly tail: ReplicaTail | null;
  isrWriting: boolean;
  // Follower only.
  validated: boolean;
  /** False once replaced by a newer state: waiters and fetch answers for it are stale. */
  current: boolean;
}

export interface ReplicaManagerOptions {
  nodeId: number;
  client: Etcd3;
  keys: ClusterKeys;
  metadata: ClusterMetadata;
  logs: LocalLogs;
  replicaLagTimeMaxMs: number;
  logger: Logger;
  /** Called whenever this broker starts following `leader` (the fetcher for it starts if not running). */
  onFollow: (leader: number) => void;
  /** Called after this broker's replica of a partition changed role (undefined: it holds none any more). */
  onRoleChange?: (topic: string, partition: number, replica: Replica | undefined) => void;
}

export class ReplicaManager {
  private readonly options: ReplicaManagerOptions;
  readonly replicas = new Map<string, Replica>();
  private readonly tailBudget = new TailBudget();
  private isrTimer: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  /** Whether the logs left from before this process started have been checked for foreign ones. */
  private scannedLocalLogs = false;

  constructor(options: ReplicaManagerOptions) {
    this.options = options;
  }

  start(): void {
    const every = Math.max(50, Math.min(1_000, Math.floor(this.options.replicaLagTimeMaxMs / 4)));
    this.isrTimer = setInterval(() => this.shrinkIsrs(), every);
    this.isrTimer.unref?.();
  }

  /** Fails every waiter (the broker is leaving): produce answers NOT_LEADER_OR_FOLLOWER. */
  stop(): void {
    this.stopped = true;
    if (this.isrTimer) clearInterval(this.isrTimer);
    for (const r of this.replicas.values()) this.retire(r, 'the broker is shutting down');
    this.replicas.clear();
  }

  private get myRegistration(): number | undefined {
    return this.options.metadata.brokers.get(this.options.nodeId)?.createRevision;
  }

  /** Applies etcd's partition states to this broker's replicas; the caller runs one pass at a time. */
  async sync(): Promise<void> {
    if (this.stopped) return;
    const { metadata, nodeId, logs } = this.options;
    const seen = new Set<string>();
    for (const entry of [...metadata.partitions.values()]) {
      if (!entry.meta.replicas.includes(nodeId)) continue;
      // Only partitions whose topic the local engine has opened (the mirror runs first).
      if (logs.topicId(entry.topic) !== metadata.topics.get(entry.topic)?.meta.topicId) continue;
      const key = partitionKey(entry.topic, entry.partition);
      seen.add(key);
      try {
        await this.apply(key, entry);
      } catch (err) {
        this.options.logger.warn('cannot take up a replica yet', {
          topic: entry.topic,
          partition: entry.partition,
          error: etcdErrorText(err),
        });
      }
    }
    const foreign: Array<{ topic: string; partition: number }> = [];
    for (const [key, r] of this.replicas) {
      if (seen.has(key)) continue;
      this.retire(r, `this broker no longer holds a replica of partition ${r.partition} of '${r.topic}'`);
      this.replicas.delete(key);
      this.options.onRoleChange?.(r.topic, r.partition, undefined);
      if (this.isForeign(r.topic, r.partition)) foreign.push(r);
    }
    if (!this.scannedLocalLogs) {
      // Replicas moved away while this broker was down left their logs here: find them once.
      this.scannedLocalLogs = true;
      for (const p of await logs.allLocalOffsets()) {
        if (p.logEndOffset > 0 && this.isForeign(p.topic, p.partition)) foreign.push(p);
      }
    }
    for (const { topic, partition } of foreign) await this.release(topic, partition);
  }

  /** Whether the cluster assigns this partition of the topic this broker knows to other brokers only. */
  private isForeign(topic: string, partition: number): boolean {
    const { metadata, nodeId, logs } = this.options;
    const entry = metadata.partition(topic, partition);
    if (!entry || logs.topicId(topic) !== metadata.topics.get(topic)?.meta.topicId) return false;
    return !entry.meta.replicas.includes(nodeId) && !(entry.meta.targetReplicas ?? []).includes(nodeId);
  }

  /**
   * Empties the log of a partition this broker holds no replica of any more (a reassignment moved it), as
   * Kafka's StopReplica with deletion does. It starts again at offset 0, so should the partition come back
   * here, the replica copies the leader's whole log (from the leader's log start) before it can be in sync.
   */
  private async release(topic: string, partition: number): Promise<void> {
    try {
      const before = await this.options.logs.localOffsets(topic, partition);
      if (before.logEndOffset === 0) return;
      await this.options.logs.startOverLocal(topic, partition, 0);
      this.options.logger.info('deleted the log of a replica moved to other brokers', {
        topic,
        partition,
        logStartOffset: before.logStartOffset,
        logEndOffset: before.logEndOffset,
      });
    } catch (err) {
      this.options.logger.warn('cannot delete the log of a replica moved away', {
        topic,
        partition,
        error: etcdErrorText(err),
      });
    }
  }

  private async apply(key: string, entry: PartitionEntry): Promise<void> {
    const { nodeId } = this.options;
    const m = entry.meta;
    const current = this.replicas.get(key);
    const leads = m.leader === nodeId && m.leaderRegistration === this.myRegistration;
    if (leads) {
      if (current?.role === 'leader' && current.epoch === m.leaderEpoch) {
        current.meta = m;
        current.mod = entry.mod;
        // Replicas added or removed by a reassignment: new followers start unknown (not in the ISR yet).
        for (const b of m.replicas) {
          if (b !== nodeId && !current.followers.has(b)) {
            current.followers.set(b, { leo: -1, caughtUpAt: 0, lastFetchAt: 0, leoAtLastFetch: 0 });
          }
        }
        for (const b of current.followers.keys()) if (!m.replicas.includes(b)) current.followers.delete(b);
        if (!current.isrWriting) current.isr = m.isr.includes(nodeId) ? [...m.isr] : [...m.isr, nodeId];
        this.advanceHw(current);
        return;
      }
      await this.becomeLeader(key, entry, current);
      return;
    }
    // Led by another broker, by nobody, or by this node id in an earlier registration (this broker crashed
    // and came back: it follows until the controller elects it again).
    const leader = m.leader === nodeId ? -1 : m.leader;
    if (current?.role === 'follower' && current.epoch === m.leaderEpoch && current.leader === leader) {
      current.meta = m;
      current.mod = entry.mod;
      return;
    }
    await this.becomeFollower(key, entry, leader, current);
  }

  private async becomeLeader(
    key: string,
    entry: PartitionEntry,
    previous: Replica | undefined,
  ): Promise<void> {
    const { logs, nodeId } = this.options;
    const offsets = await logs.localOffsets(entry.topic, entry.partition);
    if (previous) this.retire(previous, `leadership moved (epoch ${entry.meta.leaderEpoch})`);
    const now = Date.now();
    const followers = new Map<number, FollowerState>();
    for (const b of entry.meta.replicas) {
      if (b !== nodeId) followers.set(b, { leo: -1, caughtUpAt: now, lastFetchAt: 0, leoAtLastFetch: 0 });
    }
    const isr = entry.meta.isr.includes(nodeId) ? [...entry.meta.isr] : [...entry.meta.isr, nodeId];
    const r: Replica = {
      topic: entry.topic,
      partition: entry.partition,
      role: 'leader',
      epoch: entry.meta.leaderEpoch,
      leader: nodeId,
      meta: entry.meta,
      mod: entry.mod,
      leo: offsets.logEndOffset,
      hw: Math.min(offsets.logEndOffset, Math.max(previous?.hw ?? 0, offsets.logStartOffset)),
      logStart: offsets.logStartOffset,
      isr,
      followers,
      epochStart: offsets.logEndOffset,
      acks: [],
      hwWaiters: new Set(),
      leoWaiters: new Set(),
      tail: new ReplicaTail(this.tailBudget),
      isrWriting: false,
      validated: true,
      current: true,
    };
    this.replicas.set(key, r);
    this.advanceHw(r);
    this.options.onRoleChange?.(r.topic, r.partition, r);
    this.options.logger.info('leading partition', {
      topic: r.topic,
      partition: r.partition,
      leaderEpoch: r.epoch,
      logEndOffset: r.leo,
      highWatermark: r.hw,
      isr: r.isr,
    });
  }

  private async becomeFollower(
    key: string,
    entry: PartitionEntry,
    leader: number,
    previous: Replica | undefined,
  ): Promise<void> {
    const offsets = await this.options.logs.localOffsets(entry.topic, entry.partition);
    if (previous)
      this.retire(previous, `partition ${entry.partition} of '${entry.topic}' is led by ${leader}`);
    const r: Replica = {
      topic: entry.topic,
      partition: entry.partition,
      role: 'follower',
      epoch: entry.meta.leaderEpoch,
      leader,
      meta: entry.meta,
      mod: entry.mod,
      leo: offsets.logEndOffset,
      hw: Math.min(previous?.hw ?? 0, offsets.logEndOffset),
      logStart: offsets.logStartOffset,
      isr: [],
      followers: new Map(),
      epochStart: 0,
      acks: [],
      hwWaiters: new Set(),
      leoWaiters: new Set(),
      tail: null,
      isrWriting: false,
      validated: false,
      current: true,
    };
    this.replicas.set(key, r);
    this.options.onRoleChange?.(r.topic, r.partition, r);
    if (leader >= 0) this.options.onFollow(leader);
  }

  /** Ends a replica state: acks=all waiters fail (their records may or may not survive), waits wake. */
  private retire(r: Replica, reason: string): void {
    r.current = false;
    r.tail?.clear();
    for (const w of r.acks.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new BrokerError('NOT_LEADER_OR_FOLLOWER', `${reason}; the write's outcome is unknown`));
    }
    for (const wake of [...r.hwWaiters, ...r.leoWaiters]) wake();
    r.hwWaiters.clear();
    r.leoWaiters.clear();
  }

  // ---------------------------------------------------------------- leader: produce and consume

  /** This broker's replica of the partition when it is the partition's current leader. */
  led(topic: string, partition: number): Replica | undefined {
    const r = this.replicas.get(partitionKey(topic, partition));
    return r?.role === 'leader' && r.current ? r : undefined;
  }

  /** The replica this broker leads, or the error a client should get (and follow). */
  leaderOf(topic: string, partition: number): Replica {
    const r = this.led(topic, partition);
    if (r) return r;
    const entry = this.options.metadata.partition(topic, partition);
    if (!entry) {
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${topic}' has no partition ${partition} in this cluster (or it is still being placed)`,
      );
    }
    if (entry.meta.leader < 0) {
      throw new BrokerError(
        'LEADER_NOT_AVAILABLE',
        `partition ${partition} of '${topic}' has no leader: none of its in-sync replicas ` +
          `(${entry.meta.isr.join(', ')}) is alive`,
      );
    }
    throw new BrokerError(
      'NOT_LEADER_OR_FOLLOWER',
      `broker ${this.options.nodeId} does not lead partition ${partition} of '${topic}'; broker ` +
        `${entry.meta.leader} does (epoch ${entry.meta.leaderEpoch})`,
    );
  }

  /**
   * After a local append as leader of `batches` (as sent; the log gave them `baseOffset` and this epoch):
   * the new log end, the tail copy for followers, and the HW if the leader is alone in sync.
   */
  appended(r: Replica, batches: Uint8Array, baseOffset: number, logEndOffset: number): void {
    if (!r.current) return;
    r.tail?.appended(batches, baseOffset, r.epoch);
    if (logEndOffset > r.leo) r.leo = logEndOffset;
    this.advanceHw(r);
    for (const wake of r.leoWaiters) wake();
    r.leoWaiters.clear();
  }

  /** Resolves once the HW reaches `offset` (acks=all); fails on timeout, lost leadership, or a thin ISR. */
  waitCommitted(r: Replica, offset: number, minInsync: number, timeoutMs: number): Promise<void> {
    if (!r.current) {
      return Promise.reject(
        new BrokerError('NOT_LEADER_OR_FOLLOWER', 'leadership moved; the write’s outcome is unknown'),
      );
    }
    if (r.hw >= offset) return this.checkInsync(r, minInsync);
    return new Promise((resolve, reject) => {
      const waiter: AckWaiter = {
        offset,
        minInsync,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = r.acks.indexOf(waiter);
          if (i >= 0) r.acks.splice(i, 1);
          reject(
            new BrokerError(
              'REQUEST_TIMED_OUT',
              `the in-sync replicas of partition ${r.partition} of '${r.topic}' (${r.isr.join(', ')}) did not ` +
                `all confirm offset ${offset - 1} within ${timeoutMs} ms; the records may still be committed`,
            ),
          );
        }, timeoutMs),
      };
      r.acks.push(waiter);
    });
  }

  private checkInsync(r: Replica, minInsync: number): Promise<void> {
    if (r.isr.length >= minInsync) return Promise.resolve();
    return Promise.reject(
      new BrokerError(
        'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
        `partition ${r.partition} of '${r.topic}' has ${r.isr.length} in-sync replicas, fewer than ` +
          `min.insync.replicas ${minInsync}; the records were written but are not acknowledged`,
      ),
    );
  }

  /** Resolves when the HW moves (or leadership is lost), or after `ms`. */
  waitHw(r: Replica, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        r.hwWaiters.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      r.hwWaiters.add(wake);
    });
  }

  private advanceHw(r: Replica): void {
    if (r.role !== 'leader' || !r.current) return;
    let hw = r.leo;
    for (const b of r.isr) {
      if (b === this.options.nodeId) continue;
      const f = r.followers.get(b);
      hw = Math.min(hw, f === undefined || f.leo < 0 ? r.hw : f.leo);
    }
    if (hw <= r.hw) return;
    r.hw = hw;
    const done = r.acks.filter((w) => w.offset <= hw);
    if (done.length > 0) {
      r.acks.splice(0, r.acks.length, ...r.acks.filter((w) => w.offset > hw));
      for (const w of done) {
        clearTimeout(w.timer);
        this.checkInsync(r, w.minInsync).then(w.resolve, w.reject);
      }
    }
    for (const wake of r.hwWaiters) wake();
    r.hwWaiters.clear();
  }

  // ---------------------------------------------------------------- leader: followers and the ISR

  /** Answers a follower's fetch (replica-protocol.ts), long-polling while there is nothing to send. */
  async serveFetch(request: ReplicaFetchRequest): Promise<ReplicaFetchResponse> {
    const deadline = Date.now() + Math.max(0, Math.min(request.maxWaitMs, 5_000));
    for (;;) {
      const partitions: ReplicaFetchPartition[] = [];
      const waitOn: Replica[] = [];
      let total = 0;
      for (const target of request.partitions) {
        const answer = await this.serveOne(request.replicaId, target, REPLICA_FETCH_TOTAL_BYTES - total);
        partitions.push(answer.partition);
        total += answer.partition.records?.length ?? 0;
        if (answer.waitOn) waitOn.push(answer.waitOn);
      }
      const left = deadline - Date.now();
      if (
        total > 0 ||
        left <= 0 ||
        waitOn.length === 0 ||
        waitOn.length < partitions.length ||
        this.stopped
      ) {
        return { partitions };
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          for (const r of waitOn) r.leoWaiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        for (const r of waitOn) r.leoWaiters.add(wake);
      });
    }
  }

  private async serveOne(
    replicaId: number,
    target: ReplicaFetchRequest['partitions'][number],
    budget: number,
  ): Promise<{ partition: ReplicaFetchPartition; waitOn?: Replica }> {
    const { topic, partition, fetchOffset } = target;
    const base = { topic, partition, highWatermark: -1, logStartOffset: -1, logEndOffset: -1 };
    const fail = (error: BrokerError) => ({
      partition: { ...base, error: error.code, message: error.message },
    });
    let r: Replica;
    try {
      r = this.leaderOf(topic, partition);
    } catch (err) {
      return fail(err as BrokerError);
    }
    if (target.leaderEpoch < r.epoch) {
      return fail(
        new BrokerError('FENCED_LEADER_EPOCH', `epoch ${target.leaderEpoch} is over; ${r.epoch} leads`),
      );
    }
    if (target.leaderEpoch > r.epoch) {
      return fail(
        new BrokerError(
          'UNKNOWN_LEADER_EPOCH',
          `this leader is at epoch ${r.epoch}, not yet ${target.leaderEpoch}`,
        ),
      );
    }
    const follower = r.followers.get(replicaId);
    if (!follower) {
      return fail(
        new BrokerError(
          'REPLICA_NOT_AVAILABLE',
          `broker ${replicaId} holds no replica of partition ${partition} of '${topic}'`,
        ),
      );
    }
    const offsets = { highWatermark: r.hw, logStartOffset: r.logStart, logEndOffset: r.leo };
    if (target.lastFetchedEpoch !== undefined && fetchOffset > r.logStart) {
      const end = await this.options.logs.epochEndLocal(topic, partition, target.lastFetchedEpoch);
      if (end.epoch !== target.lastFetchedEpoch || end.endOffset < fetchOffset) {
        return { partition: { ...base, ...offsets, diverging: end } };
      }
    }
    if (fetchOffset < r.logStart) {
      return {
        partition: {
          ...base,
          ...offsets,
          error: 'OFFSET_OUT_OF_RANGE',
          message: `offset ${fetchOffset} is below the leader's log start ${r.logStart}`,
        },
      };
    }
    if (fetchOffset > r.leo) {
      return fail(
        new BrokerError('OFFSET_OUT_OF_RANGE', `offset ${fetchOffset} is past the leader's log end ${r.leo}`),
      );
    }
    this.followerFetched(r, replicaId, follower, fetchOffset);
    if (fetchOffset >= r.leo) return { partition: { ...base, ...offsets, highWatermark: r.hw }, waitOn: r };
    const maxBytes = Math.max(1, Math.min(REPLICA_FETCH_PARTITION_BYTES, budget));
    const cached = r.tail?.read(fetchOffset, maxBytes);
    if (cached) {
      return {
        partition: {
          ...base,
          highWatermark: r.hw,
          logStartOffset: r.logStart,
          logEndOffset: r.leo,
          records: cached,
        },
      };
    }
    try {
      const read = await this.options.logs.fetchRaw({
        topic,
        partition,
        offset: fetchOffset,
        maxBytes,
        maxWaitMs: 0,
        minBytes: 0,
      });
      const records = await readSlices(read.slices, read.sizeInBytes);
      r.logStart = read.logStartOffset;
      return {
        partition: {
          ...base,
          highWatermark: r.hw,
          logStartOffset: read.logStartOffset,
          logEndOffset: r.leo,
          records,
        },
      };
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      if (err.code === 'OFFSET_OUT_OF_RANGE') {
        // Retention or DeleteRecords moved the log start past the follower: tell it where the log begins.
        const now = await this.options.logs.localOffsets(topic, partition);
        r.logStart = now.logStartOffset;
        return {
          partition: {
            ...base,
            ...offsets,
            logStartOffset: now.logStartOffset,
            error: err.code,
            message: err.message,
          },
        };
      }
      return fail(err);
    }
  }

  /** A follower's fetch at `offset` says it has everything below it: ISR, HW. */
  private followerFetched(r: Replica, id: number, f: FollowerState, offset: number): void {
    const now = Date.now();
    if (offset >= r.leo) f.caughtUpAt = now;
    else if (offset >= f.leoAtLastFetch && f.lastFetchAt > 0)
      f.caughtUpAt = Math.max(f.caughtUpAt, f.lastFetchAt);
    f.leo = offset;
    f.lastFetchAt = now;
    f.leoAtLastFetch = r.leo;
    if (!r.isr.includes(id) && offset >= r.hw && offset >= r.epochStart) {
      f.caughtUpAt = now; // it holds everything committed: the lag clock starts now
      void this.writeIsr(r, [...r.isr, id], 'caught up');
    }
    this.advanceHw(r);
  }

  private shrinkIsrs(): void {
    const now = Date.now();
    for (const r of this.replicas.values()) {
      if (r.role !== 'leader' || !r.current || r.isrWriting) continue;
      const lagging = r.isr.filter((b) => {
        if (b === this.options.nodeId) return false;
        const f = r.followers.get(b);
        return f !== undefined && now - f.caughtUpAt > this.options.replicaLagTimeMaxMs;
      });
      if (lagging.length > 0) {
        void this.writeIsr(
          r,
          r.isr.filter((b) => !lagging.includes(b)),
          `no catch-up for ${this.options.replicaLagTimeMaxMs} ms: ${lagging.join(', ')}`,
        );
      }
    }
  }

  /** Writes the new ISR to etcd (compare-and-swap on the key's revision), then uses it. */
  private async writeIsr(r: Replica, isr: number[], reason: string): Promise<void> {
    if (r.isrWriting || !r.current) return;
    r.isrWriting = true;
    const { client, keys, logger } = this.options;
    const meta: PartitionMeta = { ...r.meta, isr: [...isr].sort((a, b) => a - b) };
    try {
      const key = keys.partition(r.topic, r.partition);
      const answer = await client
        .if(key, 'Mod', '==', Number(r.mod))
        .then(client.put(key).value(JSON.stringify(meta)))
        .commit();
      if (!answer.succeeded || !r.current) return; // someone else changed it: the watch brings the news
      r.meta = meta;
      r.mod = answer.header.revision;
      r.isr = meta.isr;
      logger.info('ISR changed', { topic: r.topic, partition: r.partition, isr: r.isr, reason });
      this.advanceHw(r);
    } catch (err) {
      logger.debug('ISR write failed; will retry', { error: etcdErrorText(err) });
    } finally {
      r.isrWriting = false;
    }
  }

  // ---------------------------------------------------------------- follower

  /** The follower replicas that fetch from `leader` now. */
  followingOf(leader: number): Replica[] {
    return [...this.replicas.values()].filter(
      (r) => r.role === 'follower' && r.current && r.leader === leader,
    );
  }
}
