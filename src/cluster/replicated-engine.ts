/**
 * @module
 * The Engine of a broker in a cluster (`--etcd`): the same interface both front doors call, over this
 * broker's local engine (its replicas' logs, its group coordinator) and the cluster metadata in etcd.
 *
 * - Topics live in etcd (`topics/<name>`, etcd-keys.ts). Creating, deleting, growing or reconfiguring one
 *   is an etcd write (compare-and-swap; topic-admin.ts); every broker, this one included, then mirrors it into its local
 *   engine (same topic id, partition count and overrides) and the controller places new partitions. A call
 *   answers once this broker has applied the change, so a describe right after it sees it.
 * - Partitions: produce, fetch, offsets and DeleteRecords are served by the partition's leader only;
 *   elsewhere NOT_LEADER_OR_FOLLOWER (naming the leader) or LEADER_NOT_AVAILABLE, which clients follow.
 *   acks=all needs min.insync.replicas in sync (NOT_ENOUGH_REPLICAS, nothing written) and waits for the
 *   high watermark; consumers read below the high watermark only, and long-polls wake when it moves.
 * - Until the broker has joined its cluster, partition calls answer LEADER_NOT_AVAILABLE.
 *
 * DEPARTURES: every broker opens a (possibly empty) log for every partition of every topic, replica or
 * not, so the local engine's placement and topic registry stay as they are; only replicas ever get data.
 * Consumer groups are coordinated by the broker the members talk to, with offsets kept on that broker
 * only (no coordinator failover yet).
 */
import type { Etcd3 } from 'etcd3';
import type { BrokerConfig } from '../config/broker-config.ts';
import type {
  CommittedOffset,
  GroupDescription,
  GroupOverview,
  HeartbeatRequest,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupRequest,
  OffsetCommitRequest,
  OffsetFetchRequest,
  SyncGroupRequest,
  SyncGroupResponse,
} from '../coordinator/group-api.ts';
import { OFFSETS_TOPIC } from '../coordinator/group-records.ts';
import type { BrokerEngine } from '../ipc/broker-engine.ts';
import type {
  BrokerInfo,
  DeleteRecordsResult,
  Engine,
  EngineStats,
  FetchRequest,
  GroupLagDescription,
  OffsetResult,
  OffsetSpec,
  PartitionState,
  ProduceRequest,
  ProduceResult,
  RawFetchResult,
  RecordsFetchResult,
  TopicConfigChanges,
  TopicConfigEntries,
  TopicDescription,
  TopicSummary,
} from '../ipc/engine.ts';
import { groupStats, lagRows, withLag } from '../ipc/group-lag.ts';
import { BrokerError, type ErrorName } from '../shared/errors.ts';
import { unpackInternal as unpack } from '../shared/internal-msgpack.ts';
import type { Logger } from '../shared/logger.ts';
import { partitionKey } from '../shared/partition-key.ts';
import { callBroker, postToBroker } from './broker-call.ts';
import {
  ClusterGroups,
  GROUP_CALL_PATH,
  GROUP_METHODS as GROUP_METHOD_NAMES,
  type GroupMethod,
  OFFSETS_PARTITION,
} from './cluster-groups.ts';
import { ClusterMetadata } from './cluster-metadata.ts';
import type { ClusterNode } from './cluster-node.ts';
import { etcdErrorText } from './etcd-client.ts';
import type { BrokerRegistration, ClusterKeys } from './etcd-keys.ts';
import { PartitionController } from './partition-controller.ts';
import { ReplicaFetchers } from './replica-fetcher.ts';
import { type Replica, ReplicaManager } from './replica-manager.ts';
import { encodeFetchResponse, parseReplicaFetchRequest } from './replica-protocol.ts';
import { TopicAdmin } from './topic-admin.ts';

export type ReplicationConfig = Pick<
  BrokerConfig,
  | 'groupMinSessionTimeoutMs'
  | 'groupMaxSessionTimeoutMs'
  | 'groupInitialRebalanceDelayMs'
  | 'groupMaxSize'
  | 'offsetsRetentionMinutes'
  | 'offsetsRetentionCheckIntervalMs'
  | 'offsetMetadataMaxBytes'
  | 'nodeId'
  | 'defaultPartitions'
  | 'defaultReplicationFactor'
  | 'autoCreateTopics'
  | 'logDefaults'
  | 'replicaLagTimeMaxMs'
  | 'replicaAckTimeoutMs'
  | 'leaderImbalanceCheckIntervalMs'
>;

/** What the engine needs of the joined cluster (cluster-node.ts). */
interface Joined {
  node: ClusterNode;
  client: Etcd3;
  keys: ClusterKeys;
  metadata: ClusterMetadata;
  replicas: ReplicaManager;
  fetchers: ReplicaFetchers;
  controller: PartitionController;
  groups: ClusterGroups;
}

/** Where a broker asks a partition's leader for its log start and high watermark (describeTopic). */
export const LED_OFFSETS_PATH = '/v1/internal/led-offsets';
const LED_OFFSETS_TIMEOUT_MS = 2_000;

interface LedOffsets {
  partitions: Array<{ partition: number; logStartOffset: number; highWatermark: number }>;
}

/** A forwarded produce may wait for the leader's replicas (replicaAckTimeoutMs), and this much more. */
const FORWARD_MARGIN_MS = 5_000;

/** Group calls forwarded to the coordinator; a join waits for the rebalance, so it gets longer. */
const FORWARD_TIMEOUT_MS = 30_000;

export class ReplicatedEngine implements Engine {
  private readonly local: BrokerEngine;
  private readonly config: ReplicationConfig;
  private readonly logger: Logger;
  private joined: Joined | null = null;
  /** Topics seen in etcd while this broker watched: only those are deleted locally when etcd drops them. */
  private readonly seenTopics = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private syncQueued = false;
  private readonly admin: TopicAdmin;

  constructor(local: BrokerEngine, config: ReplicationConfig, logger: Logger) {
    this.local = local;
    this.config = config;
    this.logger = logger;
    this.admin = new TopicAdmin({
      local,
      config,
      cluster: () => this.cluster,
      describeTopic: (name) => this.describeTopic(name),
    });
  }

  /**
   * Joins the cluster (registration, controller election: cluster-node.ts), then loads the metadata and
   * starts mirroring topics, replicating and, when elected, controlling.
   */
  async join(join: (hooks: { onElected(): void }) => Promise<ClusterNode>): Promise<ClusterNode> {
    let controller: PartitionController | null = null;
    const node = await join({
      onElected: () => controller?.elected(),
    });
    const { client, keys } = node;
    const metadata = new ClusterMetadata(client, keys, this.logger);
    let fetchers: ReplicaFetchers | null = null;
    const replicas = new ReplicaManager({
      nodeId: this.config.nodeId,
      client,
      keys,
      metadata,
      logs: this.local,
      replicaLagTimeMaxMs: this.config.replicaLagTimeMaxMs,
      logger: this.logger,
      onFollow: (leader) => fetchers?.follow(leader),
      onRoleChange: (topic, partition, r) => {
        if (topic === OFFSETS_TOPIC && partition === OFFSETS_PARTITION) {
          this.joined?.groups.leadership(r?.role === 'leader' ? r.epoch : null);
        }
      },
    });
    const groups = new ClusterGroups({
      nodeId: this.config.nodeId,
      config: this.config,
      partition: {
        produce: (request) => this.produce(request),
        deleteRecords: (topic, partition, before) => this.deleteRecords(topic, partition, before),
        readLocal: (request) => this.local.fetchRecords(request),
        localOffsets: () => this.local.localOffsets(OFFSETS_TOPIC, OFFSETS_PARTITION),
      },
      leader: () => {
        const entry = metadata.partition(OFFSETS_TOPIC, OFFSETS_PARTITION);
        if (!entry || entry.meta.leader < 0) return null;
        return this.brokers()?.find((b) => b.nodeId === entry.meta.leader) ?? null;
      },
      ensureTopic: () => this.admin.ensureOffsetsTopic(),
      partitionCount: (topic) => metadata.topics.get(topic)?.meta.partitions,
      forward: (to, method, request) => this.forwardGroupCall(to, method, request),
      logger: this.logger,
    });
    fetchers = new ReplicaFetchers({
      nodeId: this.config.nodeId,
      metadata,
      replicas,
      logs: this.local,
      logger: this.logger,
    });
    controller = new PartitionController({
      client,
      keys,
      metadata,
      election: node.election,
      logDefaults: this.config.logDefaults,
      logger: this.logger,
      preferredLeaderCheckMs: this.config.leaderImbalanceCheckIntervalMs,
    });
    this.joined = { node, client, keys, metadata, replicas, fetchers, controller, groups };
    metadata.onChange(() => this.scheduleSync());
    await metadata.start();
    replicas.start();
    controller.start();
    if (node.election.controllerEpoch !== null) controller.elected();
    await this.scheduleSync();
    return node;
  }

  /** Leaves the cluster: stops replicating and controlling, then the registration goes (node.stop()). */
  async leave(): Promise<void> {
    const j = this.joined;
    if (!j) return;
    this.joined = null;
    j.controller.stop();
    await j.groups.close();
    j.fetchers.stop();
    j.replicas.stop();
    await j.metadata.stop();
    await j.node.stop();
  }

  private get cluster(): Joined {
    if (!this.joined)
      throw new BrokerError('LEADER_NOT_AVAILABLE', 'the broker is still joining its cluster');
    return this.joined;
  }

  /** Mirrors etcd's topics into the local engine, then applies partition states; one pass at a time. */
  private scheduleSync(): Promise<void> {
    if (this.syncQueued) return this.chain;
    this.syncQueued = true;
    this.chain = this.chain.then(async () => {
      this.syncQueued = false;
      try {
        await this.mirrorTopics();
        await this.joined?.replicas.sync();
      } catch (err) {
        this.logger.error('applying cluster metadata failed', { error: etcdErrorText(err) });
      }
    });
    return this.chain;
  }

  private async mirrorTopics(): Promise<void> {
    const j = this.joined;
    if (!j?.metadata.loaded) return;
    for (const t of j.metadata.topics.values()) {
      this.seenTopics.add(t.name);
      try {
        await this.local.mirrorTopic({ name: t.name, ...t.meta });
      } catch (err) {
        this.logger.error('cannot mirror a topic of the cluster', {
          topic: t.name,
          error: etcdErrorText(err),
        });
      }
    }
    for (const { name } of await this.local.listTopics()) {
      if (j.metadata.topics.has(name)) continue;
      if (this.seenTopics.has(name)) {
        this.seenTopics.delete(name);
        await this.local.deleteTopic(name).catch(() => {});
      }
    }
  }

  // ---------------------------------------------------------------- topics (topic-admin.ts)

  createTopic(
    name: string,
    partitions?: number,
    config: TopicConfigEntries = {},
    replicationFactor?: number,
  ): Promise<TopicDescription> {
    return this.admin.createTopic(name, partitions, config, replicationFactor);
  }

  deleteTopic(name: string): Promise<void> {
    return this.admin.deleteTopic(name);
  }

  alterTopicConfig(name: string, changes: TopicConfigChanges): Promise<TopicDescription> {
    return this.admin.alterTopicConfig(name, changes);
  }

  createPartitions(name: string, count: number): Promise<TopicDescription> {
    return this.admin.createPartitions(name, count);
  }

  reassignPartition(topic: string, partition: number, replicas: number[]): Promise<PartitionState> {
    return this.admin.reassignPartition(topic, partition, replicas);
  }

  partitionsForProduce(topic: string): Promise<number> {
    return this.admin.partitionsForProduce(topic);
  }

  brokers(): BrokerInfo[] | null {
    const j = this.joined;
    if (!j) return [];
    return [...j.metadata.brokers.values()]
      .map(({ registration: r }) => ({
        nodeId: r.nodeId,
        host: r.host,
        httpPort: r.httpPort,
        kafkaPort: r.kafkaPort,
        rack: r.rack,
      }))
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  listTopics(): Promise<TopicSummary[]> {
    return this.local.listTopics();
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const j = this.cluster;
    const description = await this.local.describeTopic(name);
    for (const p of description.partitions) {
      const entry = j.metadata.partition(name, p.partition);
      if (!entry) continue;
      p.leader = entry.meta.leader;
      p.leaderEpoch = entry.meta.leaderEpoch;
      p.replicas = [...entry.meta.replicas];
      p.isr = [...entry.meta.isr];
      if (entry.meta.targetReplicas) p.targetReplicas = [...entry.meta.targetReplicas];
      const r = j.replicas.replicas.get(partitionKey(name, p.partition));
      p.highWatermark = r ? r.hw : 0;
    }
    const led = await this.offsetsLedElsewhere(name);
    for (const p of description.partitions) {
      const o = led.get(p.partition);
      if (!o) continue; // led here, or a leader that did not answer: this broker's view (its follower's, or 0)
      p.logStartOffset = o.logStartOffset;
      p.highWatermark = o.highWatermark;
    }
    return description;
  }

  /**
   * Log start and high watermark of the topic's partitions that other brokers lead, from those leaders
   * (only a leader knows them for sure): one internal call per leader, bounded in time. Partitions without a
   * leader, or whose leader does not answer, are left out.
   */
  private async offsetsLedElsewhere(topic: string): Promise<Map<number, LedOffsets['partitions'][number]>> {
    const j = this.cluster;
    const out = new Map<number, LedOffsets['partitions'][number]>();
    const others = new Set<number>();
    const count = j.metadata.topics.get(topic)?.meta.partitions ?? 0;
    for (let partition = 0; partition < count; partition++) {
      const leader = j.metadata.partition(topic, partition)?.meta.leader ?? -1;
      if (leader >= 0 && leader !== this.config.nodeId) others.add(leader);
    }
    await Promise.all(
      [...others].map(async (leader) => {
        const to = this.broker(leader);
        if (!to) return;
        try {
          const bytes = await callBroker(to, LED_OFFSETS_PATH, { topic }, LED_OFFSETS_TIMEOUT_MS);
          for (const o of (unpack(bytes) as LedOffsets).partitions) {
            if (j.metadata.partition(topic, o.partition)?.meta.leader === leader) out.set(o.partition, o);
          }
        } catch {
          // Not answering: its partitions stay unknown.
        }
      }),
    );
    return out;
  }

  /** The partitions of `topic` this broker leads, with their log start and high watermark (internal route). */
  async serveLedOffsets(body: unknown): Promise<LedOffsets> {
    const topic = (body as { topic?: unknown } | null)?.topic;
    if (typeof topic !== 'string') throw new BrokerError('INVALID_REQUEST', 'led-offsets takes {topic}');
    const partitions: LedOffsets['partitions'] = [];
    for (const partition of this.partitionsLedHere(topic)) {
      const r = this.cluster.replicas.led(topic, partition);
      if (!r) continue;
      const offsets = await this.local.localOffsets(topic, r.partition).catch(() => null);
      if (offsets)
        partitions.push({
          partition: r.partition,
          logStartOffset: offsets.logStartOffset,
          highWatermark: r.hw,
        });
    }
    return { partitions };
  }

  topicId(name: string): string | undefined {
    return this.local.topicId(name);
  }

  topicName(topicId: string): string | undefined {
    return this.local.topicName(topicId);
  }

  topicConfigOverrides(name: string): Promise<TopicConfigEntries> {
    return this.local.topicConfigOverrides(name);
  }

  // ---------------------------------------------------------------- partitions (the leader's)

  private leader(topic: string, partition: number): Replica {
    return this.cluster.replicas.leaderOf(topic, partition);
  }

  private minInsync(topic: string): number {
    return this.local.topicLogConfig(topic)?.minInsyncReplicas ?? this.config.logDefaults.minInsyncReplicas;
  }

  /**
   * `produce` here when this broker leads the partition, else the same request sent on to its leader's
   * HTTP door (raw batches, `answer=range`), whose error comes back as the same BrokerError. Should
   * leadership move meanwhile, the leader's NOT_LEADER_OR_FOLLOWER sends it on once more to the new one.
   */
  async produceAtLeader(request: ProduceRequest): Promise<ProduceResult> {
    for (let hop = 0; ; hop++) {
      const leader = this.cluster.metadata.partition(request.topic, request.partition)?.meta.leader ?? -1;
      if (leader === this.config.nodeId || leader < 0) return this.produce(request);
      const to = this.broker(leader);
      if (!to) return this.produce(request); // its NOT_LEADER_OR_FOLLOWER / LEADER_NOT_AVAILABLE
      const acks = request.acks === -1 ? 'all' : String(request.acks);
      const path =
        `/v1/topics/${encodeURIComponent(request.topic)}/records` +
        `?partition=${request.partition}&acks=${acks}&answer=range`;
      let answer: Awaited<ReturnType<typeof postToBroker>>;
      try {
        answer = await postToBroker(
          to,
          path,
          request.batches,
          'application/vnd.kafka.recordbatch',
          this.config.replicaAckTimeoutMs + FORWARD_MARGIN_MS,
        );
      } catch (err) {
        throw new BrokerError(
          'NETWORK_EXCEPTION',
          `partition ${request.partition} of '${request.topic}' is led by broker ${leader}, which did not ` +
            `answer the forwarded records (${etcdErrorText(err)}); they may or may not be written`,
        );
      }
      const body = answer.bytes.length > 0 ? (unpack(answer.bytes) as Record<string, unknown>) : {};
      if (answer.ok) {
        const baseOffset = typeof body.baseOffset === 'number' ? body.baseOffset : -1;
        const lastOffset = typeof body.lastOffset === 'number' ? body.lastOffset : -1;
        const count = typeof body.count === 'number' ? body.count : 0;
        return { baseOffset, lastOffset, recordCount: count, logStartOffset: -1 };
      }
      const error = BrokerError.fromWire(
        (body.error ?? { code: 'UNKNOWN_SERVER_ERROR', message: `HTTP ${answer.status}` }) as {
          code: string;
          message: string;
        },
      );
      if (error.code !== 'NOT_LEADER_OR_FOLLOWER' || hop > 0) throw error;
      await this.cluster.metadata.reload();
    }
  }

  partitionsLedHere(topic: string): number[] {
    const count = this.joined?.metadata.topics.get(topic)?.meta.partitions ?? 0;
    const led: number[] = [];
    for (let partition = 0; partition < count; partition++) {
      if (this.joined?.replicas.led(topic, partition)) led.push(partition);
    }
    return led;
  }

  async produce(request: ProduceRequest): Promise<ProduceResult> {
    const { replicas } = this.cluster;
    const r = this.leader(request.topic, request.partition);
    const minInsync = this.minInsync(request.topic);
    if (request.acks === -1 && r.isr.length < minInsync) {
      throw new BrokerError(
        'NOT_ENOUGH_REPLICAS',
        `partition ${request.partition} of '${request.topic}' has ${r.isr.length} in-sync replica(s) ` +
          `(${r.isr.join(', ')}), fewer than min.insync.replicas ${minInsync}; nothing was written`,
      );
    }
    const result = await this.local.appendLocal(request.topic, request.partition, request.batches, {
      leaderEpoch: r.epoch,
    });
    // The producer's next batch may leave now; tell it before the followers' fetches are answered.
    if (request.acks === -1) request.onAppended?.(result.baseOffset);
    replicas.appended(r, request.batches, result.baseOffset, result.lastOffset + 1);
    if (request.acks === -1) {
      await replicas.waitCommitted(r, result.lastOffset + 1, minInsync, this.config.replicaAckTimeoutMs);
    }
    return { ...result, logStartOffset: r.logStart };
  }

  fetchRaw(request: FetchRequest): Promise<RawFetchResult> {
    return this.consume(
      request,
      (bounded) => this.local.fetchRaw(bounded),
      (res) => res.sizeInBytes,
    );
  }

  fetchRecords(request: FetchRequest): Promise<RecordsFetchResult> {
    return this.consume(
      request,
      (bounded) => this.local.fetchRecords(bounded),
      (res) => (res.records.length > 0 ? Number.MAX_SAFE_INTEGER : 0),
    );
  }

  /** A consumer's read, below the high watermark, long-polling on the HW rather than on appends. */
  private async consume<T extends { highWatermark: number; logStartOffset: number }>(
    request: FetchRequest,
    read: (bounded: FetchRequest) => Promise<T>,
    size: (result: T) => number,
  ): Promise<T> {
    const { replicas } = this.cluster;
    const r = this.leader(request.topic, request.partition);
    checkEpoch(r, request.leaderEpoch);
    const deadline = Date.now() + Math.max(0, request.maxWaitMs);
    for (;;) {
      if (!r.current) this.leader(request.topic, request.partition); // throws: leadership moved
      const hw = r.hw;
      const result = await read({ ...request, maxWaitMs: 0, maxOffset: hw });
      result.highWatermark = hw;
      r.logStart = result.logStartOffset;
      const left = deadline - Date.now();
      if (size(result) >= Math.max(1, request.minBytes) || left <= 0) return result;
      await replicas.waitHw(r, left);
    }
  }

  async listOffset(
    topic: string,
    partition: number,
    spec: OffsetSpec,
    options?: { leaderEpoch?: number },
  ): Promise<OffsetResult> {
    const r = this.leader(topic, partition);
    checkEpoch(r, options?.leaderEpoch);
    if (spec === 'latest') return { offset: r.hw, leaderEpoch: r.epoch };
    const found = await this.local.listOffset(topic, partition, spec);
    if (spec !== 'earliest' && found.offset >= r.hw) return { offset: -1 };
    if (found.offset >= r.hw) return { ...found, leaderEpoch: r.epoch }; // an empty log: where the next goes
    return { ...found, leaderEpoch: await this.local.epochAtLocal(topic, partition, found.offset) };
  }

  async deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult> {
    const r = this.leader(topic, partition);
    const offset = beforeOffset === -1 ? r.hw : beforeOffset;
    if (offset > r.hw) {
      throw new BrokerError(
        'OFFSET_OUT_OF_RANGE',
        `offset ${offset} is past the high watermark ${r.hw} of partition ${partition} of '${topic}'`,
      );
    }
    const result = await this.local.deleteRecords(topic, partition, offset);
    r.logStart = result.lowWatermark;
    return result;
  }

  /** A follower's fetch, served by this broker as the partitions' leader (the internal HTTP route). */
  async serveReplicaFetch(request: unknown): Promise<Uint8Array> {
    return encodeFetchResponse(await this.cluster.replicas.serveFetch(parseReplicaFetchRequest(request)));
  }

  /** This broker's replicas: role, offsets and (as leader) what it knows of each follower. */
  replicaStatus() {
    const j = this.joined;
    const replicas = j ? [...j.replicas.replicas.values()] : [];
    return {
      nodeId: this.config.nodeId,
      replicas: replicas
        .filter((r) => r.current)
        .map((r) => ({
          topic: r.topic,
          partition: r.partition,
          role: r.role,
          leaderEpoch: r.epoch,
          logEndOffset: r.leo,
          highWatermark: r.hw,
          ...(r.role === 'leader'
            ? {
                followers: [...r.followers].map(([nodeId, f]) => ({
                  nodeId,
                  logEndOffset: f.leo,
                  inSync: r.isr.includes(nodeId),
                })),
              }
            : {}),
        }))
        .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1)),
    };
  }

  /** Every partition's replicas, leader and ISR as etcd has them (for GET /v1/cluster). */
  partitionStates() {
    const j = this.joined;
    if (!j) return [];
    return [...j.metadata.partitions.values()]
      .map((e) => ({
        topic: e.topic,
        partition: e.partition,
        leader: e.meta.leader,
        leaderEpoch: e.meta.leaderEpoch,
        replicas: [...e.meta.replicas],
        isr: [...e.meta.isr],
        ...(e.meta.targetReplicas ? { targetReplicas: [...e.meta.targetReplicas] } : {}),
      }))
      .sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** The registration of broker `nodeId`, if live. */
  broker(nodeId: number): BrokerRegistration | undefined {
    return this.joined?.metadata.brokers.get(nodeId)?.registration;
  }

  /**
   * The local engine's figures, with the groups of the cluster's coordinator when it is this broker; a
   * partition's lag is counted against its high watermark where this broker holds a replica of it.
   */
  async stats(): Promise<EngineStats> {
    const stats = await this.local.stats();
    const j = this.joined;
    if (!j) return stats;
    stats.groups = groupStats(j.groups.stats(), (topic, partition) =>
      this.knownHighWatermark(topic, partition),
    );
    return stats;
  }

  // ---------------------------------------------------------------- groups (cluster-groups.ts)

  private group<T>(method: GroupMethod, request: unknown): Promise<T> {
    return this.cluster.groups.call(method, request) as Promise<T>;
  }

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    return this.group('joinGroup', request);
  }
  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return this.group('syncGroup', request);
  }
  heartbeat(request: HeartbeatRequest): Promise<void> {
    return this.group('heartbeat', request);
  }
  leaveGroup(request: LeaveGroupRequest): Promise<void> {
    return this.group('leaveGroup', request);
  }
  commitOffsets(request: OffsetCommitRequest): Promise<void> {
    return this.group('commitOffsets', request);
  }
  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    return this.group('fetchOffsets', request);
  }
  listGroups(): Promise<GroupOverview[]> {
    return this.group('listGroups', undefined);
  }
  deleteGroup(groupId: string): Promise<void> {
    return this.group('deleteGroup', groupId);
  }

  /**
   * The coordinator's view with lag per partition, counted against the high watermark its leader answers
   * (unknown, -1 with lag null, while a partition has no leader or its leader does not answer).
   */
  async describeGroup(groupId: string): Promise<GroupLagDescription> {
    const group = await this.group<GroupDescription>('describeGroup', groupId);
    const rows = lagRows(group);
    const topics = new Set([...rows.values()].map((r) => r.topic));
    const elsewhere = new Map<string, Map<number, LedOffsets['partitions'][number]>>();
    await Promise.all(
      [...topics].map(async (topic) => elsewhere.set(topic, await this.offsetsLedElsewhere(topic))),
    );
    for (const r of rows.values()) {
      const end =
        this.joined?.replicas.led(r.topic, r.partition)?.hw ??
        elsewhere.get(r.topic)?.get(r.partition)?.highWatermark;
      r.logEndOffset = end ?? -1;
    }
    return withLag(group, rows);
  }

  /** A partition's high watermark as this broker knows it (a replica here), else undefined. */
  private knownHighWatermark(topic: string, partition: number): number | undefined {
    return this.joined?.replicas.replicas.get(partitionKey(topic, partition))?.hw;
  }

  controllerId(): number | null {
    const id = this.joined?.metadata.controller?.nodeId;
    if (id === undefined) return null;
    return this.broker(id)?.kafkaPort == null ? null : id;
  }

  async groupCoordinator(): Promise<BrokerInfo | null> {
    const coordinator = await this.cluster.groups.coordinator();
    return coordinator.nodeId === this.config.nodeId ? null : coordinator;
  }

  /** A group call forwarded by another broker: answered here only if this broker coordinates. */
  async serveGroupCall(body: unknown): Promise<unknown> {
    const { method, request } = (body ?? {}) as { method?: unknown; request?: unknown };
    if (typeof method !== 'string' || !(GROUP_METHOD_NAMES as readonly string[]).includes(method)) {
      throw new BrokerError('INVALID_REQUEST', `not a group call: ${String(method)}`);
    }
    return this.cluster.groups.call(method as GroupMethod, request, true);
  }

  private async forwardGroupCall(to: BrokerInfo, method: GroupMethod, request: unknown): Promise<unknown> {
    const timeout =
      method === 'joinGroup' || method === 'syncGroup'
        ? this.config.groupMaxSessionTimeoutMs + FORWARD_TIMEOUT_MS
        : FORWARD_TIMEOUT_MS;
    let bytes: Uint8Array;
    try {
      bytes = await callBroker(to, GROUP_CALL_PATH, { method, request }, timeout);
    } catch (err) {
      throw new BrokerError(
        'COORDINATOR_NOT_AVAILABLE',
        `the group coordinator, broker ${to.nodeId}, did not answer: ${etcdErrorText(err)}`,
      );
    }
    const answer = unpack(bytes) as {
      ok?: unknown;
      error?: { code: string; message: string };
    };
    if (answer.error) throw new BrokerError(answer.error.code as ErrorName, answer.error.message);
    return answer.ok;
  }

  stopWaiting(): Promise<void> {
    return this.local.stopWaiting();
  }

  async close(): Promise<void> {
    await this.leave();
    await this.local.close();
  }
}

/** A client's idea of the leader epoch against the leader's (KIP-320); absent: not checked. */
function checkEpoch(r: Replica, epoch: number | undefined): void {
  if (epoch === undefined || epoch === r.epoch) return;
  if (epoch < r.epoch) {
    throw new BrokerError(
      'FENCED_LEADER_EPOCH',
      `leader epoch ${epoch} of partition ${r.partition} of '${r.topic}' is over; it is ${r.epoch} now`,
    );
  }
  throw new BrokerError(
    'UNKNOWN_LEADER_EPOCH',
    `this leader of partition ${r.partition} of '${r.topic}' is at epoch ${r.epoch}, not yet ${epoch}`,
  );
}
