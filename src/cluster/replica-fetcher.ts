/**
 * @module
 * A follower's side of replication: one fetch loop per leader broker (as Kafka's replica fetcher threads),
 * fetching every partition this broker follows on that leader in one request (replica-protocol.ts), and
 * appending what comes back with the leader's offsets and epochs. The loop ends when it follows nothing on
 * that leader any more; a leader that does not answer is retried with backoff (the controller moves
 * leadership when its registration goes, and the loop for the new leader takes over).
 */

import { BrokerError } from '../shared/errors.ts';
import type { Logger } from '../shared/logger.ts';
import { callBroker } from './broker-call.ts';
import type { ClusterMetadata } from './cluster-metadata.ts';
import { etcdErrorText } from './etcd-client.ts';
import type { LocalLogs, Replica, ReplicaManager } from './replica-manager.ts';
import {
  decodeFetchResponse,
  REPLICA_FETCH_PATH,
  type ReplicaFetchPartition,
  type ReplicaFetchRequest,
  type ReplicaFetchTarget,
} from './replica-protocol.ts';
import { backoffMs, Sleeper } from './retry-timing.ts';

/** How long the leader may hold a fetch when it has nothing new. */
const FETCH_MAX_WAIT_MS = 500;
/** A fetch that takes longer than this is abandoned (a paused or cut-off leader). */
const FETCH_TIMEOUT_MS = 3_000;

export interface ReplicaFetchersOptions {
  nodeId: number;
  metadata: ClusterMetadata;
  replicas: ReplicaManager;
  logs: LocalLogs;
  logger: Logger;
}

export class ReplicaFetchers {
  private readonly options: ReplicaFetchersOptions;
  private readonly running = new Map<number, Sleeper>();
  private stopped = false;

  constructor(options: ReplicaFetchersOptions) {
    this.options = options;
  }

  /** Makes sure a loop fetches from `leader`. */
  follow(leader: number): void {
    if (this.stopped) return;
    const running = this.running.get(leader);
    if (running) {
      running.wake(); // a loop backing off from this leader's earlier life tries again now
      return;
    }
    const sleeper = new Sleeper();
    this.running.set(leader, sleeper);
    void this.loop(leader, sleeper).finally(() => {
      if (this.running.get(leader) === sleeper) this.running.delete(leader);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const sleeper of this.running.values()) sleeper.wake();
  }

  private async loop(leader: number, sleeper: Sleeper): Promise<void> {
    const { replicas, metadata, logger } = this.options;
    let failures = 0;
    while (!this.stopped) {
      const following = replicas.followingOf(leader);
      if (following.length === 0) return;
      const registration = metadata.brokers.get(leader)?.registration;
      if (!registration) {
        await sleeper.sleep(Math.min(1_000, backoffMs(failures++)));
        continue;
      }
      try {
        const targets = await Promise.all(following.map((r) => this.target(r)));
        const request: ReplicaFetchRequest = {
          replicaId: this.options.nodeId,
          maxWaitMs: FETCH_MAX_WAIT_MS,
          partitions: targets,
        };
        const answer = decodeFetchResponse(
          await callBroker(registration, REPLICA_FETCH_PATH, request, FETCH_TIMEOUT_MS),
        );
        let backoff = false;
        for (const p of answer.partitions) {
          const r = following.find((f) => f.topic === p.topic && f.partition === p.partition);
          if (r?.current) backoff = (await this.handle(r, p)) || backoff;
        }
        failures = 0;
        if (backoff) await sleeper.sleep(100);
      } catch (err) {
        logger.debug('replica fetch failed; retrying', { leader, error: etcdErrorText(err) });
        await sleeper.sleep(Math.min(1_000, backoffMs(failures++)));
      }
    }
  }

  private async target(r: Replica): Promise<ReplicaFetchTarget> {
    const t: ReplicaFetchTarget = {
      topic: r.topic,
      partition: r.partition,
      leaderEpoch: r.epoch,
      fetchOffset: r.leo,
    };
    if (!r.validated) t.lastFetchedEpoch = await this.options.logs.lastEpochLocal(r.topic, r.partition);
    return t;
  }

  /** Applies one partition's answer; true when the loop should pause a little (an error). */
  private async handle(r: Replica, p: ReplicaFetchPartition): Promise<boolean> {
    const { logs, logger } = this.options;
    if (p.error !== undefined) {
      if (p.error === 'OFFSET_OUT_OF_RANGE' && p.logStartOffset > r.leo) {
        // The leader no longer holds what comes next here (retention, DeleteRecords while this replica was
        // away): begin again where the leader's log begins, as Kafka's followers do.
        const after = await logs.startOverLocal(r.topic, r.partition, p.logStartOffset);
        logger.warn('log started again at the leader log start', {
          topic: r.topic,
          partition: r.partition,
          from: r.leo,
          at: after.logStartOffset,
        });
        r.leo = r.logStart = after.logEndOffset;
        r.hw = Math.min(r.hw, r.leo);
        r.validated = true; // an empty log is a prefix of any log
        return false;
      }
      if (p.error === 'OFFSET_OUT_OF_RANGE' && p.logEndOffset >= 0 && r.leo > p.logEndOffset) {
        // Past the leader's end: only a log the leader never had can be; check it from the epochs again.
        r.validated = false;
      }
      logger.debug('replica fetch partition error', {
        topic: r.topic,
        partition: r.partition,
        error: p.error,
      });
      return true;
    }
    if (p.diverging) {
      const own = await logs.epochEndLocal(r.topic, r.partition, p.diverging.epoch);
      const cut = Math.min(p.diverging.endOffset, own.endOffset);
      const after = await logs.truncateLocal(r.topic, r.partition, cut);
      logger.warn('truncated a divergent log suffix', {
        topic: r.topic,
        partition: r.partition,
        from: r.leo,
        to: after.logEndOffset,
        leaderEpoch: p.diverging.epoch,
      });
      r.leo = after.logEndOffset;
      r.hw = Math.min(r.hw, r.leo);
      return false;
    }
    r.validated = true;
    if (p.records && p.records.length > 0) {
      try {
        const appended = await logs.appendLocal(r.topic, r.partition, p.records, { keepOffsets: true });
        if (r.current) r.leo = appended.lastOffset + 1;
      } catch (err) {
        if (!(err instanceof BrokerError) || err.code !== 'OFFSET_OUT_OF_RANGE') throw err;
        const offsets = await logs.localOffsets(r.topic, r.partition);
        r.leo = offsets.logEndOffset;
        r.validated = false;
        return true;
      }
    }
    r.hw = Math.max(r.hw, Math.min(p.highWatermark, r.leo));
    if (p.logStartOffset > r.logStart && p.logStartOffset <= r.leo) {
      r.logStart = (await logs.deleteRecords(r.topic, r.partition, p.logStartOffset)).lowWatermark;
    }
    return false;
  }
}
