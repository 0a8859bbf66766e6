/**
 * @module
 * The Engine both front doors call, written once over two small interfaces: a TopicStore (topic
 * metadata: the coordinator worker, or a TopicRegistry in-process) and one PartitionHost per worker (a
 * partition worker behind RPC, or a PartitionManager in-process). It keeps a read-only cache of topic
 * metadata for routing; every change goes through the store first, then to the hosts that own the
 * partitions (see placement.ts). The cache also maps topic ids to names, for Kafka requests by id.
 */
import type { BrokerConfig } from '../config/broker-config.ts';
import type { LogConfig } from '../config/log-config.ts';
import { parseTopicConfig, topicConfigEntries } from '../config/topic-config.ts';
import type { CoordinatorStore } from '../coordinator/coordinator.ts';
import type {
  CommittedOffset,
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
import type { TopicRecord } from '../coordinator/topic-registry.ts';
import type { PartitionOffsets } from '../partition/partition-manager.ts';
import { BrokerError } from '../shared/errors.ts';
import { partitionKey } from '../shared/partition-key.ts';
import type { EpochEnd } from '../storage/leader-epochs.ts';
import type { AppendOptions } from '../storage/partition-log.ts';
import type {
  DeleteRecordsResult,
  Engine,
  EngineStats,
  FetchRequest,
  GroupLagDescription,
  OffsetResult,
  OffsetSpec,
  ProduceRequest,
  ProduceResult,
  RawFetchResult,
  RecordsFetchResult,
  TopicConfigChanges,
  TopicConfigEntries,
  TopicDescription,
  TopicSummary,
} from './engine.ts';
import { groupStats, lagRows, withLag } from './group-lag.ts';
import { workerFor } from './placement.ts';

/** What the engine asks of the owner of a set of partitions. */
export interface PartitionHost {
  open(topic: string, partitions: number[], config: Readonly<LogConfig>): Promise<void>;
  remove(topic: string, partitions: number[]): Promise<void>;
  reconfigure(topic: string, partitions: number[], config: Readonly<LogConfig>): Promise<void>;
  /** Appends; `options` carry a leader's epoch, or a follower's keepOffsets (partition-log.ts). */
  append(
    topic: string,
    partition: number,
    batches: Uint8Array,
    options?: AppendOptions,
  ): Promise<ProduceResult>;
  truncate(topic: string, partition: number, offset: number): Promise<PartitionOffsets>;
  truncateFullyAndStartAt(topic: string, partition: number, offset: number): Promise<PartitionOffsets>;
  epochEnd(topic: string, partition: number, epoch: number): Promise<EpochEnd>;
  epochAt(topic: string, partition: number, offset: number): Promise<number>;
  lastEpoch(topic: string, partition: number): Promise<number>;
  fetchRaw(request: FetchRequest): Promise<RawFetchResult>;
  fetchRecords(request: FetchRequest): Promise<RecordsFetchResult>;
  listOffset(topic: string, partition: number, spec: OffsetSpec): Promise<OffsetResult>;
  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult>;
  offsets(topic: string, partitions: number[]): Promise<PartitionOffsets[]>;
  allOffsets(): Promise<Array<PartitionOffsets & { topic: string }>>;
  /** Shutdown, first step: long-polled fetches answer at once and new ones do not wait. */
  stopWaiting(): Promise<void>;
  /** Produce bytes accepted but not yet taken by the host (0 in-process). */
  inFlightBytes(): number;
  close(): Promise<void>;
}

export type EngineConfig = Pick<BrokerConfig, 'defaultPartitions' | 'autoCreateTopics' | 'logDefaults'>;

export class BrokerEngine implements Engine {
  private readonly store: CoordinatorStore;
  private readonly hosts: PartitionHost[];
  private readonly config: EngineConfig;
  private readonly topics = new Map<string, TopicRecord>();
  /** Topic names by id, kept with `topics` (remember / forget). */
  private readonly topicNames = new Map<string, string>();
  private readonly creating = new Map<string, Promise<TopicRecord>>();
  private readonly parsedConfigs = new WeakMap<TopicRecord, Readonly<LogConfig>>();
  private readonly onClose: () => Promise<void>;
  private inFlight = 0;
  private idle: (() => void) | null = null;
  private closing = false;

  constructor(
    store: CoordinatorStore,
    hosts: PartitionHost[],
    config: EngineConfig,
    onClose: () => Promise<void>,
  ) {
    this.store = store;
    this.hosts = hosts;
    this.config = config;
    this.onClose = onClose;
  }

  /** Loads topic metadata and opens every partition on its host. */
  async start(): Promise<void> {
    for (const record of await this.store.list()) {
      await this.openPartitions(record, range(0, record.partitions));
      this.remember(record);
    }
  }

  /** Caches a topic's metadata (created, altered, grown or loaded). */
  private remember(record: TopicRecord): void {
    const previous = this.topics.get(record.name);
    if (previous && previous.topicId !== record.topicId) this.topicNames.delete(previous.topicId);
    this.topics.set(record.name, record);
    this.topicNames.set(record.topicId, record.name);
  }

  private forget(name: string): void {
    const record = this.topics.get(name);
    if (!record) return;
    this.topics.delete(name);
    if (this.topicNames.get(record.topicId) === name) this.topicNames.delete(record.topicId);
  }

  /** Parsed once per record (a changed topic is a new record), since produce in a cluster asks per call. */
  private logConfig(record: TopicRecord): Readonly<LogConfig> {
    let config = this.parsedConfigs.get(record);
    if (!config) {
      config = parseTopicConfig(record.config, this.config.logDefaults);
      this.parsedConfigs.set(record, config);
    }
    return config;
  }

  /** Partitions grouped by the host that owns them. */
  private byHost(topic: string, partitions: number[]): Map<number, number[]> {
    const groups = new Map<number, number[]>();
    for (const p of partitions) {
      const w = workerFor(topic, p, this.hosts.length);
      const list = groups.get(w);
      if (list) list.push(p);
      else groups.set(w, [p]);
    }
    return groups;
  }

  private async openPartitions(record: TopicRecord, partitions: number[]): Promise<void> {
    const config = this.logConfig(record);
    await Promise.all(
      [...this.byHost(record.name, partitions)].map(([w, ps]) =>
        this.hosts[w]!.open(record.name, ps, config),
      ),
    );
  }

  private host(topic: string, partition: number): PartitionHost {
    const record = this.topics.get(topic);
    if (!record) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist`);
    if (!Number.isInteger(partition) || partition < 0 || partition >= record.partitions) {
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${topic}' has no partition ${partition} (it has ${record.partitions})`,
      );
    }
    return this.hosts[workerFor(topic, partition, this.hosts.length)]!;
  }

  /** Counts a call in flight so close() can wait for it. */
  private async track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) throw new BrokerError('NOT_LEADER_OR_FOLLOWER', 'the broker is shutting down');
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.idle) this.idle();
    }
  }

  createTopic(
    name: string,
    partitions?: number,
    config: TopicConfigEntries = {},
    replicationFactor?: number,
  ): Promise<TopicDescription> {
    return this.track(async () => {
      if (replicationFactor !== undefined && replicationFactor !== 1) {
        throw new BrokerError(
          'INVALID_REPLICATION_FACTOR',
          `replication factor ${replicationFactor}: this is a single broker (no --etcd), which holds one replica`,
        );
      }
      await this.create(name, partitions ?? this.config.defaultPartitions, config);
      return this.describe(name);
    });
  }

  brokers(): null {
    return null;
  }

  async groupCoordinator(): Promise<null> {
    return null;
  }

  controllerId(): null {
    return null;
  }

  async reassignPartition(): Promise<never> {
    throw new BrokerError(
      'INVALID_REQUEST',
      'this is a single broker (no --etcd): it holds the only replica of every partition, nothing to reassign',
    );
  }

  /**
   * Makes the local topic metadata match a topic of the cluster (the cluster layer's mirror of etcd):
   * created with the cluster's topic id, grown, reconfigured, or created again when the id differs (the
   * topic was deleted and created anew while this broker was away).
   */
  async mirrorTopic(wanted: Pick<TopicRecord, 'name' | 'topicId' | 'partitions' | 'config'>): Promise<void> {
    let record = this.topics.get(wanted.name);
    if (record && record.topicId !== wanted.topicId) {
      await this.deleteTopic(wanted.name);
      record = undefined;
    }
    if (!record) {
      await this.track(() => this.create(wanted.name, wanted.partitions, wanted.config, wanted.topicId));
      return;
    }
    if (wanted.partitions > record.partitions) await this.createPartitions(wanted.name, wanted.partitions);
    if (JSON.stringify(sortedEntries(record.config)) !== JSON.stringify(sortedEntries(wanted.config))) {
      const changes: TopicConfigChanges = { ...wanted.config };
      for (const name of Object.keys(record.config)) if (!(name in wanted.config)) changes[name] = null;
      await this.alterTopicConfig(wanted.name, changes);
    }
  }

  /** The topic's effective log config (its overrides over the broker defaults). */
  topicLogConfig(name: string): Readonly<LogConfig> | undefined {
    const record = this.topics.get(name);
    return record ? this.logConfig(record) : undefined;
  }

  // ------------------------------------------------ one replica's log (the cluster layer's, src/cluster)

  /** Appends to this broker's replica as it is (no leadership check): a leader's epoch or a follower's offsets. */
  appendLocal(
    topic: string,
    partition: number,
    batches: Uint8Array,
    options: AppendOptions,
  ): Promise<ProduceResult> {
    return this.track(() => this.host(topic, partition).append(topic, partition, batches, options));
  }

  truncateLocal(topic: string, partition: number, offset: number): Promise<PartitionOffsets> {
    return this.track(() => this.host(topic, partition).truncate(topic, partition, offset));
  }

  startOverLocal(topic: string, partition: number, offset: number): Promise<PartitionOffsets> {
    return this.track(() => this.host(topic, partition).truncateFullyAndStartAt(topic, partition, offset));
  }

  epochEndLocal(topic: string, partition: number, epoch: number): Promise<EpochEnd> {
    return this.track(() => this.host(topic, partition).epochEnd(topic, partition, epoch));
  }

  epochAtLocal(topic: string, partition: number, offset: number): Promise<number> {
    return this.track(() => this.host(topic, partition).epochAt(topic, partition, offset));
  }

  lastEpochLocal(topic: string, partition: number): Promise<number> {
    return this.track(() => this.host(topic, partition).lastEpoch(topic, partition));
  }

  /** The offsets of every partition log this broker holds. */
  async allLocalOffsets(): Promise<Array<PartitionOffsets & { topic: string }>> {
    return (await Promise.all(this.hosts.map((h) => h.allOffsets()))).flat();
  }

  async localOffsets(topic: string, partition: number): Promise<PartitionOffsets> {
    const [offsets] = await this.track(() => this.host(topic, partition).offsets(topic, [partition]));
    return offsets!;
  }

  private create(
    name: string,
    partitions: number,
    config: TopicConfigEntries,
    topicId?: string,
  ): Promise<TopicRecord> {
    const pending = this.creating.get(name);
    if (pending) {
      return pending.then(() => {
        throw new BrokerError('TOPIC_ALREADY_EXISTS', `topic '${name}' already exists`);
      });
    }
    const work = (async () => {
      const record = await this.store.create(name, partitions, config, topicId);
      await this.openPartitions(record, range(0, record.partitions));
      this.remember(record);
      return record;
    })();
    this.creating.set(name, work);
    return work.finally(() => this.creating.delete(name));
  }

  async listTopics(): Promise<TopicSummary[]> {
    return [...this.topics.values()]
      .map((t) => ({ name: t.name, partitions: t.partitions }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.track(() => this.describe(name));
  }

  topicId(name: string): string | undefined {
    return this.topics.get(name)?.topicId;
  }

  topicName(topicId: string): string | undefined {
    return this.topicNames.get(topicId);
  }

  private async describe(name: string): Promise<TopicDescription> {
    const record = this.topics.get(name);
    if (!record) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
    const groups = [...this.byHost(name, range(0, record.partitions))];
    const states = await Promise.all(
      groups.map(async ([w, ps]) =>
        (await this.hosts[w]!.offsets(name, ps)).map((o) => ({
          partition: o.partition,
          logStartOffset: o.logStartOffset,
          highWatermark: o.logEndOffset,
          worker: w,
        })),
      ),
    );
    return {
      name,
      topicId: record.topicId,
      partitions: states.flat().sort((a, b) => a.partition - b.partition),
      config: topicConfigEntries(this.logConfig(record)),
    };
  }

  async topicConfigOverrides(name: string): Promise<TopicConfigEntries> {
    const record = this.topics.get(name);
    if (!record) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
    return { ...record.config };
  }

  deleteTopic(name: string): Promise<void> {
    return this.track(async () => {
      const record = await this.store.delete(name);
      this.forget(name);
      await Promise.all(
        [...this.byHost(name, range(0, record.partitions))].map(([w, ps]) => this.hosts[w]!.remove(name, ps)),
      );
    });
  }

  alterTopicConfig(name: string, changes: TopicConfigChanges): Promise<TopicDescription> {
    return this.track(async () => {
      const record = await this.store.alter(name, changes);
      this.remember(record);
      const logConfig = this.logConfig(record);
      await Promise.all(
        [...this.byHost(name, range(0, record.partitions))].map(([w, ps]) =>
          this.hosts[w]!.reconfigure(name, ps, logConfig),
        ),
      );
      return this.describe(name);
    });
  }

  createPartitions(name: string, count: number): Promise<TopicDescription> {
    return this.track(async () => {
      const before = this.topics.get(name)?.partitions ?? 0;
      const record = await this.store.addPartitions(name, count);
      await this.openPartitions(record, range(before, record.partitions));
      this.remember(record);
      return this.describe(name);
    });
  }

  async partitionsForProduce(topic: string): Promise<number> {
    const known = this.topics.get(topic);
    if (known) return known.partitions;
    const pending = this.creating.get(topic);
    if (pending) return (await pending).partitions;
    if (!this.config.autoCreateTopics) {
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${topic}' does not exist and auto.create.topics.enable is false`,
      );
    }
    return this.track(async () => {
      try {
        return (await this.create(topic, this.config.defaultPartitions, {})).partitions;
      } catch (err) {
        // Another request created it first: use it.
        const record = this.topics.get(topic);
        if (err instanceof BrokerError && err.code === 'TOPIC_ALREADY_EXISTS' && record)
          return record.partitions;
        throw err;
      }
    });
  }

  produce(request: ProduceRequest): Promise<ProduceResult> {
    return this.track(() =>
      this.host(request.topic, request.partition).append(request.topic, request.partition, request.batches),
    );
  }

  fetchRaw(request: FetchRequest): Promise<RawFetchResult> {
    return this.track(() => this.host(request.topic, request.partition).fetchRaw(request));
  }

  fetchRecords(request: FetchRequest): Promise<RecordsFetchResult> {
    return this.track(() => this.host(request.topic, request.partition).fetchRecords(request));
  }

  listOffset(topic: string, partition: number, spec: OffsetSpec): Promise<OffsetResult> {
    return this.track(() => this.host(topic, partition).listOffset(topic, partition, spec));
  }

  deleteRecords(topic: string, partition: number, beforeOffset: number): Promise<DeleteRecordsResult> {
    return this.track(() => this.host(topic, partition).deleteRecords(topic, partition, beforeOffset));
  }

  async stats(): Promise<EngineStats> {
    const [all, counts] = await Promise.all([
      Promise.all(this.hosts.map((h) => h.allOffsets())),
      this.store.groupCounts(),
    ]);
    const partitions = all.flat();
    const logEnd = new Map(partitions.map((p) => [partitionKey(p.topic, p.partition), p.logEndOffset]));
    const groups = groupStats(counts, (topic, partition) => logEnd.get(partitionKey(topic, partition)));
    return {
      workers: this.hosts.length,
      groups,
      inFlightBytes: this.hosts.map((h) => h.inFlightBytes()),
      partitions,
    };
  }

  // ---------------------------------------------------------------- consumer groups (the coordinator's)

  joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    return this.track(() => this.store.joinGroup(request));
  }

  syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    return this.track(() => this.store.syncGroup(request));
  }

  heartbeat(request: HeartbeatRequest): Promise<void> {
    return this.track(() => this.store.heartbeat(request));
  }

  leaveGroup(request: LeaveGroupRequest): Promise<void> {
    return this.track(() => this.store.leaveGroup(request));
  }

  commitOffsets(request: OffsetCommitRequest): Promise<void> {
    return this.track(() => this.store.commitOffsets(request));
  }

  fetchOffsets(request: OffsetFetchRequest): Promise<CommittedOffset[]> {
    return this.track(() => this.store.fetchOffsets(request));
  }

  listGroups(): Promise<GroupOverview[]> {
    return this.track(() => this.store.listGroups());
  }

  deleteGroup(groupId: string): Promise<void> {
    return this.track(() => this.store.deleteGroup(groupId));
  }

  /** The coordinator's view of the group, with each partition's log end offset and the group's lag on it. */
  describeGroup(groupId: string): Promise<GroupLagDescription> {
    return this.track(async () => {
      const group = await this.store.describeGroup(groupId);
      const rows = lagRows(group);
      const byTopic = new Map<string, number[]>();
      for (const r of rows.values()) {
        const record = this.topics.get(r.topic);
        if (!record || r.partition >= record.partitions) continue;
        const list = byTopic.get(r.topic);
        if (list) list.push(r.partition);
        else byTopic.set(r.topic, [r.partition]);
      }
      await Promise.all(
        [...byTopic].flatMap(([topic, ps]) =>
          [...this.byHost(topic, ps)].map(async ([w, owned]) => {
            for (const o of await this.hosts[w]!.offsets(topic, owned)) {
              rows.get(partitionKey(topic, o.partition))!.logEndOffset = o.logEndOffset;
            }
          }),
        ),
      );
      return withLag(group, rows);
    });
  }

  /**
   * Shutdown, first step (before the front doors drain): long-polled fetches answer now, so draining
   * in-flight requests does not wait out their maxWaitMs.
   */
  async stopWaiting(): Promise<void> {
    await Promise.all([this.store.stopWaiting(), ...this.hosts.map((h) => h.stopWaiting())]);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    await Promise.all([this.store.close(), ...this.hosts.map((h) => h.close())]);
    await this.onClose();
  }
}

function sortedEntries(config: TopicConfigEntries): Array<[string, string | number]> {
  return Object.entries(config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}
