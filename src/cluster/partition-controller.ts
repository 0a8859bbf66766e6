/**
 * @module
 * What the elected controller does (controller-election.ts decides who): it looks at the cluster metadata
 * (cluster-metadata.ts) after every change, and once a second, and writes its decisions to etcd, each in a
 * transaction guarded by the controller fence and the partition key's revision, so a deposed controller, or
 * one that raced a partition leader, changes nothing.
 *
 * - New topics and partitions: replicas placed by replica-assignment.ts over the live brokers, the first
 *   replica leading, all of them in sync (the logs are empty), epoch 0.
 * - A leader that is gone (not registered, or registered again since its election: it crashed and came
 *   back): the first live in-sync replica, in replica order, is elected with epoch + 1; the ISR keeps its
 *   live members. None alive: with `unclean.leader.election.enable` any live replica (records may be
 *   lost), else no leader (-1, epoch + 1) and the ISR kept as it was, so the partition waits for one of
 *   those replicas to come back rather than lose acknowledged records.
 * - An in-sync follower that is gone leaves the ISR at once (the leader would drop it after
 *   replica.lag.time.max.ms anyway).
 * - Preferred leaders: every `preferredLeaderCheckMs` (--leader-imbalance-check-interval-ms; 0: never), a
 *   partition whose first replica is alive and in
 *   sync but not leading is handed back to it (Kafka's auto.leader.rebalance.enable), epoch + 1.
 * - Partition keys whose topic is gone are deleted.
 */
import type { Etcd3 } from 'etcd3';
import type { LogConfig } from '../config/log-config.ts';
import { parseTopicConfig } from '../config/topic-config.ts';
import type { Logger } from '../shared/logger.ts';
import type { ClusterMetadata, PartitionEntry } from './cluster-metadata.ts';
import type { ControllerElection } from './controller-election.ts';
import { etcdErrorText } from './etcd-client.ts';
import type { ClusterKeys, PartitionMeta } from './etcd-keys.ts';
import { assignReplicas, startFor } from './replica-assignment.ts';

/** How often the controller looks even when nothing changed. */
const TICK_MS = 1_000;
/** How often preferred leaders are restored (Kafka's leader.imbalance.check.interval.seconds is 300). */
export const PREFERRED_LEADER_CHECK_MS = 30_000;
/** etcd refuses transactions of more than 128 operations by default. */
const TXN_OPS = 100;

export interface PartitionControllerOptions {
  client: Etcd3;
  keys: ClusterKeys;
  metadata: ClusterMetadata;
  election: ControllerElection;
  logDefaults: Readonly<LogConfig>;
  logger: Logger;
  preferredLeaderCheckMs?: number;
}

export class PartitionController {
  private readonly options: PartitionControllerOptions;
  private running = false;
  private again = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastPreferredCheck = 0;
  private stopped = false;

  constructor(options: PartitionControllerOptions) {
    this.options = options;
  }

  start(): void {
    this.options.metadata.onChange(() => this.kick());
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Called when this broker has just been elected: start from a fresh read of everything. */
  elected(): void {
    this.lastPreferredCheck = Date.now();
    void this.options.metadata
      .reload()
      .catch(() => {})
      .then(() => this.kick());
  }

  /** Runs one pass now, or right after the one running. */
  kick(): void {
    if (this.stopped || this.options.election.controllerEpoch === null || !this.options.metadata.loaded)
      return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.pass();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.options.logger.debug('controller pass failed; retrying on the next tick', {
          error: etcdErrorText(err),
        });
      } finally {
        this.running = false;
      }
    })();
  }

  private async pass(): Promise<void> {
    const { metadata } = this.options;
    for (const topic of metadata.topics.values()) await this.assignMissing(topic.name);
    const every = this.options.preferredLeaderCheckMs ?? PREFERRED_LEADER_CHECK_MS;
    const preferred = every > 0 && Date.now() - this.lastPreferredCheck >= every;
    if (preferred) this.lastPreferredCheck = Date.now();
    for (const entry of [...metadata.partitions.values()]) {
      if (this.options.election.controllerEpoch === null) return;
      const topic = metadata.topics.get(entry.topic);
      if (!topic || entry.partition >= topic.meta.partitions) {
        await this.commit([
          { key: this.options.keys.partition(entry.topic, entry.partition), mod: entry.mod, value: null },
        ]);
        continue;
      }
      const next = this.decide(entry, preferred);
      if (next) {
        this.options.logger.info('partition state changed by the controller', {
          topic: entry.topic,
          partition: entry.partition,
          leader: next.leader,
          leaderEpoch: next.leaderEpoch,
          isr: next.isr,
        });
        await this.commit([
          { key: this.options.keys.partition(entry.topic, entry.partition), mod: entry.mod, value: next },
        ]);
      }
    }
  }

  /** The partition's next state, or null when it stays as it is. */
  private decide(entry: PartitionEntry, preferred: boolean): PartitionMeta | null {
    const { metadata } = this.options;
    const m = entry.meta;
    const live = (b: number) => metadata.isLive(b);
    const registration = (b: number) => metadata.brokers.get(b)?.createRevision ?? 0;
    const leaderOk = m.leader >= 0 && metadata.isLive(m.leader, m.leaderRegistration);
    if (!leaderOk) {
      let candidates = m.replicas.filter((b) => m.isr.includes(b) && live(b));
      let isr = m.isr.filter(live);
      if (candidates.length === 0 && this.unclean(entry.topic)) {
        candidates = m.replicas.filter(live);
        isr = candidates.slice(0, 1);
      }
      const leader = candidates[0];
      if (leader !== undefined) {
        return {
          ...m,
          leader,
          leaderEpoch: m.leaderEpoch + 1,
          leaderRegistration: registration(leader),
          isr: isr.includes(leader) ? isr : [...isr, leader],
        };
      }
      if (m.leader === -1) return null; // already offline; waiting for an in-sync replica
      return { ...m, leader: -1, leaderEpoch: m.leaderEpoch + 1, leaderRegistration: 0 };
    }
    const isr = m.isr.filter((b) => b === m.leader || live(b));
    if (isr.length !== m.isr.length) return { ...m, isr };
    if (m.targetReplicas) return this.reassign(m, registration);
    const first = m.replicas[0]!;
    if (preferred && first !== m.leader && live(first) && m.isr.includes(first)) {
      return { ...m, leader: first, leaderEpoch: m.leaderEpoch + 1, leaderRegistration: registration(first) };
    }
    return null;
  }

  /**
   * A reassignment's next step: add the target replicas (they start copying the log as followers); once
   * all of them are in sync, make them the replicas, drop the others from the ISR, and move leadership to
   * a target replica if the leader is not one (epoch + 1).
   */
  private reassign(m: PartitionMeta, registration: (b: number) => number): PartitionMeta | null {
    const target = m.targetReplicas!;
    if (!target.every((b) => m.replicas.includes(b))) {
      return { ...m, replicas: [...target, ...m.replicas.filter((b) => !target.includes(b))] };
    }
    if (!target.every((b) => m.isr.includes(b))) return null; // still copying
    const { targetReplicas: _done, ...rest } = m;
    const isr = m.isr.filter((b) => target.includes(b));
    if (target.includes(m.leader)) return { ...rest, replicas: [...target], isr };
    const leader = target.find((b) => isr.includes(b) && this.options.metadata.isLive(b));
    if (leader === undefined) return null;
    return {
      ...rest,
      replicas: [...target],
      isr,
      leader,
      leaderEpoch: m.leaderEpoch + 1,
      leaderRegistration: registration(leader),
    };
  }

  private unclean(topic: string): boolean {
    const meta = this.options.metadata.topics.get(topic)?.meta;
    try {
      return parseTopicConfig(meta?.config ?? {}, this.options.logDefaults).uncleanLeaderElectionEnable;
    } catch {
      return this.options.logDefaults.uncleanLeaderElectionEnable;
    }
  }

  /** Places the replicas of the topic's partitions that have no state yet. */
  private async assignMissing(name: string): Promise<void> {
    const { metadata, keys, logger } = this.options;
    const topic = metadata.topics.get(name);
    if (!topic) return;
    const missing: number[] = [];
    for (let p = 0; p < topic.meta.partitions; p++) if (!metadata.partition(name, p)) missing.push(p);
    if (missing.length === 0) return;
    const brokers = [...metadata.brokers.values()].map((b) => b.registration);
    if (brokers.length < topic.meta.replicationFactor) {
      logger.warn('cannot place the replicas of a topic: too few live brokers', {
        topic: name,
        replicationFactor: topic.meta.replicationFactor,
        brokers: brokers.length,
      });
      return;
    }
    const assignment = assignReplicas(brokers, missing, topic.meta.replicationFactor, startFor(name));
    const writes = missing.map((p) => {
      const replicas = assignment.get(p)!;
      const value: PartitionMeta = {
        replicas,
        leader: replicas[0]!,
        leaderEpoch: 0,
        leaderRegistration: metadata.brokers.get(replicas[0]!)!.createRevision,
        isr: [...replicas],
      };
      return { key: keys.partition(name, p), mod: '0', value };
    });
    for (let i = 0; i < writes.length; i += TXN_OPS) await this.commit(writes.slice(i, i + TXN_OPS));
    logger.info('placed replicas', { topic: name, partitions: missing.length });
  }

  /** One fenced transaction: each key still at `mod` ('0': absent), then the puts (or deletes for null). */
  private async commit(
    writes: Array<{ key: string; mod: string; value: PartitionMeta | null }>,
  ): Promise<boolean> {
    const fence = this.options.election.fence();
    if (!fence) return false;
    const { client } = this.options;
    let txn = fence;
    for (const w of writes) txn = txn.and(w.key, 'Mod', '==', Number(w.mod));
    const answer = await txn
      .then(
        ...writes.map((w) =>
          w.value === null ? client.delete().key(w.key) : client.put(w.key).value(JSON.stringify(w.value)),
        ),
      )
      .commit();
    return answer.succeeded;
  }
}
