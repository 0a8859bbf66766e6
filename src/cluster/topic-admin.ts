/**
 * @module
 * Topic administration in a cluster (the replicated engine's, replicated-engine.ts): every change is a
 * compare-and-swap write to etcd (`topics/<name>`, `partitions/<t>/<p>` for reassignments), then waits until
 * this broker has applied it (its mirror of the topic, the controller's placement), so a describe right after
 * the call sees it. `__consumer_offsets` is created here too, the first time groups need it.
 */
import type { Etcd3 } from 'etcd3';
import { applyTopicConfigChanges, parseTopicConfig, validateTopicName } from '../config/topic-config.ts';
import { OFFSETS_TOPIC } from '../coordinator/group-records.ts';
import { newTopicId } from '../coordinator/topic-id.ts';
import { MAX_PARTITIONS_PER_TOPIC } from '../coordinator/topic-registry.ts';
import type { BrokerEngine } from '../ipc/broker-engine.ts';
import type {
  PartitionState,
  TopicConfigChanges,
  TopicConfigEntries,
  TopicDescription,
} from '../ipc/engine.ts';
import { GROUP_LOG_MAX_BATCH_BYTES } from '../partition/group-log-file.ts';
import { BrokerError } from '../shared/errors.ts';
import { OFFSETS_PARTITION } from './cluster-groups.ts';
import type { ClusterMetadata } from './cluster-metadata.ts';
import { etcdErrorText } from './etcd-client.ts';
import type { ClusterKeys, TopicMeta } from './etcd-keys.ts';
import type { ReplicationConfig } from './replicated-engine.ts';

/** How long a topic change may take to be applied here before the call answers REQUEST_TIMED_OUT. */
const APPLY_TIMEOUT_MS = 15_000;
/** The replication factor of __consumer_offsets (Kafka's offsets.topic.replication.factor), or fewer brokers. */
const OFFSETS_REPLICATION_FACTOR = 3;

export interface TopicAdminDeps {
  local: BrokerEngine;
  config: ReplicationConfig;
  /** The joined cluster's etcd client, keys and metadata; throws LEADER_NOT_AVAILABLE before joining. */
  cluster: () => { client: Etcd3; keys: ClusterKeys; metadata: ClusterMetadata };
  describeTopic: (name: string) => Promise<TopicDescription>;
}

export class TopicAdmin {
  private readonly deps: TopicAdminDeps;
  private offsetsTopic: Promise<void> | null = null;

  constructor(deps: TopicAdminDeps) {
    this.deps = deps;
  }

  private get cluster() {
    return this.deps.cluster();
  }

  private get local(): BrokerEngine {
    return this.deps.local;
  }

  private get config(): ReplicationConfig {
    return this.deps.config;
  }

  /** Polls `done` until true; REQUEST_TIMED_OUT after APPLY_TIMEOUT_MS. */
  async until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
    const deadline = Date.now() + APPLY_TIMEOUT_MS;
    while (!(await done())) {
      if (Date.now() > deadline) {
        throw new BrokerError('REQUEST_TIMED_OUT', `${what} is written to etcd but not yet applied here`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async createTopic(
    name: string,
    partitions?: number,
    config: TopicConfigEntries = {},
    replicationFactor?: number,
  ): Promise<TopicDescription> {
    const j = this.cluster;
    validateTopicName(name);
    if (name === OFFSETS_TOPIC) {
      throw new BrokerError(
        'INVALID_TOPIC_EXCEPTION',
        `'${OFFSETS_TOPIC}' is the broker's internal topic; pick another name`,
      );
    }
    const count = partitions ?? this.config.defaultPartitions;
    if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS_PER_TOPIC) {
      throw new BrokerError(
        'INVALID_PARTITIONS',
        `partition count must be an integer from 1 to ${MAX_PARTITIONS_PER_TOPIC}, not ${count}`,
      );
    }
    parseTopicConfig(config, this.config.logDefaults);
    const factor = replicationFactor ?? this.config.defaultReplicationFactor;
    const live = j.metadata.brokers.size;
    if (!Number.isInteger(factor) || factor < 1 || factor > live) {
      throw new BrokerError(
        'INVALID_REPLICATION_FACTOR',
        `replication factor ${factor} needs that many live brokers; ${live} ${live === 1 ? 'is' : 'are'} registered`,
      );
    }
    const meta: TopicMeta = {
      topicId: newTopicId(),
      partitions: count,
      replicationFactor: factor,
      config: { ...config },
      createdAt: Date.now(),
    };
    const key = j.keys.topic(name);
    const answer = await this.etcd(() =>
      j.client
        .if(key, 'Mod', '==', 0)
        .then(j.client.put(key).value(JSON.stringify(meta)))
        .commit(),
    );
    if (!answer.succeeded) throw new BrokerError('TOPIC_ALREADY_EXISTS', `topic '${name}' already exists`);
    await this.until(
      () => this.local.topicId(name) === meta.topicId && j.metadata.partitionsOf(name).length === count,
      `topic '${name}'`,
    );
    return this.deps.describeTopic(name);
  }

  /** Runs an etcd call; an unreachable etcd is REQUEST_TIMED_OUT (retriable), with what failed. */
  async etcd<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw new BrokerError('REQUEST_TIMED_OUT', `etcd did not answer: ${etcdErrorText(err)}`, {
        cause: err,
      });
    }
  }

  private topicEntry(name: string) {
    const entry = this.cluster.metadata.topics.get(name);
    if (!entry) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
    return entry;
  }

  async deleteTopic(name: string): Promise<void> {
    const j = this.cluster;
    const entry = this.topicEntry(name);
    const answer = await this.etcd(() =>
      j.client
        .if(j.keys.topic(name), 'Mod', '==', Number(entry.mod))
        .then(
          j.client.delete().key(j.keys.topic(name)),
          j.client.delete().prefix(j.keys.topicPartitionsPrefix(name)),
        )
        .commit(),
    );
    if (!answer.succeeded)
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${name}' changed or went meanwhile; try again`,
      );
    await this.until(() => this.local.topicId(name) !== entry.meta.topicId, `deleting topic '${name}'`);
  }

  async alterTopicConfig(name: string, changes: TopicConfigChanges): Promise<TopicDescription> {
    const j = this.cluster;
    const entry = this.topicEntry(name);
    const config = applyTopicConfigChanges(entry.meta.config, changes, this.config.logDefaults);
    await this.swapTopic(name, entry.mod, { ...entry.meta, config });
    const wanted = JSON.stringify(Object.entries(config).sort());
    await this.until(
      async () =>
        JSON.stringify(Object.entries(await this.local.topicConfigOverrides(name)).sort()) === wanted,
      `the config of topic '${name}'`,
    );
    void j;
    return this.deps.describeTopic(name);
  }

  async createPartitions(name: string, count: number): Promise<TopicDescription> {
    const j = this.cluster;
    const entry = this.topicEntry(name);
    if (!Number.isInteger(count) || count > MAX_PARTITIONS_PER_TOPIC || count <= entry.meta.partitions) {
      throw new BrokerError(
        'INVALID_PARTITIONS',
        `topic '${name}' has ${entry.meta.partitions} partitions; the new count must be larger (at most ${MAX_PARTITIONS_PER_TOPIC}), not ${count}`,
      );
    }
    await this.swapTopic(name, entry.mod, { ...entry.meta, partitions: count });
    await this.until(
      async () =>
        j.metadata.partitionsOf(name).length === count &&
        (await this.local.listTopics()).some((t) => t.name === name && t.partitions === count),
      `growing topic '${name}'`,
    );
    return this.deps.describeTopic(name);
  }

  async reassignPartition(topic: string, partition: number, replicas: number[]): Promise<PartitionState> {
    const j = this.cluster;
    const entry = j.metadata.partition(topic, partition);
    if (!entry) {
      throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' has no partition ${partition}`);
    }
    if (
      !Array.isArray(replicas) ||
      replicas.length === 0 ||
      new Set(replicas).size !== replicas.length ||
      !replicas.every((b) => Number.isSafeInteger(b) && b >= 0)
    ) {
      throw new BrokerError('INVALID_REPLICA_ASSIGNMENT', 'replicas must be distinct node ids, at least one');
    }
    const missing = replicas.filter((b) => !j.metadata.isLive(b));
    if (missing.length > 0) {
      throw new BrokerError(
        'INVALID_REPLICA_ASSIGNMENT',
        `broker(s) ${missing.join(', ')} are not registered in the cluster; live: ${[...j.metadata.brokers.keys()].join(', ')}`,
      );
    }
    const key = j.keys.partition(topic, partition);
    const same =
      replicas.length === entry.meta.replicas.length &&
      replicas.every((b, i) => entry.meta.replicas[i] === b);
    const next = { ...entry.meta };
    if (same) delete next.targetReplicas;
    else next.targetReplicas = [...replicas];
    const answer = await this.etcd(() =>
      j.client
        .if(key, 'Mod', '==', Number(entry.mod))
        .then(j.client.put(key).value(JSON.stringify(next)))
        .commit(),
    );
    if (!answer.succeeded) {
      throw new BrokerError(
        'REQUEST_TIMED_OUT',
        `partition ${partition} of '${topic}' changed meanwhile; try again`,
      );
    }
    await this.until(
      () => Number(j.metadata.partition(topic, partition)?.mod ?? 0) >= Number(answer.header.revision),
      'the reassignment',
    );
    const description = await this.deps.describeTopic(topic);
    return description.partitions.find((p) => p.partition === partition)!;
  }

  private async swapTopic(name: string, mod: string, meta: TopicMeta): Promise<void> {
    const j = this.cluster;
    const key = j.keys.topic(name);
    const answer = await this.etcd(() =>
      j.client
        .if(key, 'Mod', '==', Number(mod))
        .then(j.client.put(key).value(JSON.stringify(meta)))
        .commit(),
    );
    if (!answer.succeeded) {
      throw new BrokerError(
        'REQUEST_TIMED_OUT',
        `topic '${name}' was changed by someone else meanwhile; try again`,
      );
    }
  }

  async partitionsForProduce(topic: string): Promise<number> {
    const j = this.cluster;
    const known = j.metadata.topics.get(topic);
    if (known) return known.meta.partitions;
    if (!this.config.autoCreateTopics) {
      throw new BrokerError(
        'UNKNOWN_TOPIC_OR_PARTITION',
        `topic '${topic}' does not exist and auto.create.topics.enable is false`,
      );
    }
    try {
      return (await this.createTopic(topic)).partitions.length;
    } catch (err) {
      if (!(err instanceof BrokerError) || err.code !== 'TOPIC_ALREADY_EXISTS') throw err;
      const entry = j.metadata.topics.get(topic);
      if (!entry) throw err;
      await this.until(
        () => j.metadata.partitionsOf(topic).length === entry.meta.partitions,
        `topic '${topic}'`,
      );
      return entry.meta.partitions;
    }
  }

  /** Creates __consumer_offsets in etcd the first time groups need it; resolves once it has a leader. */
  ensureOffsetsTopic(): Promise<void> {
    const j = this.cluster;
    const hasLeader = () => (j.metadata.partition(OFFSETS_TOPIC, OFFSETS_PARTITION)?.meta.leader ?? -1) >= 0;
    if (hasLeader()) return Promise.resolve();
    if (!this.offsetsTopic) {
      this.offsetsTopic = (async () => {
        if (!j.metadata.topics.has(OFFSETS_TOPIC)) {
          const meta: TopicMeta = {
            topicId: newTopicId(),
            partitions: 1,
            replicationFactor: Math.max(1, Math.min(OFFSETS_REPLICATION_FACTOR, j.metadata.brokers.size)),
            config: {
              'retention.ms': -1,
              'retention.bytes': -1,
              'max.message.bytes': GROUP_LOG_MAX_BATCH_BYTES,
            },
            createdAt: Date.now(),
          };
          const key = j.keys.topic(OFFSETS_TOPIC);
          await this.etcd(() =>
            j.client
              .if(key, 'Mod', '==', 0)
              .then(j.client.put(key).value(JSON.stringify(meta)))
              .commit(),
          );
        }
        await this.until(hasLeader, `topic '${OFFSETS_TOPIC}'`);
      })().finally(() => {
        this.offsetsTopic = null;
      });
    }
    return this.offsetsTopic;
  }
}
