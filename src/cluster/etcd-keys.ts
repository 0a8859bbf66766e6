/**
 * @module
 * The cluster's key layout in etcd, and the JSON stored under each key. Every key of a cluster lives under
 * `/freshet/<cluster>/`, so several clusters can share one etcd and `freshet`'s keys never meet another
 * application's.
 *
 * Keys (values are UTF-8 JSON unless said otherwise):
 *
 * - `/freshet/<cluster>/brokers/<nodeId>` → `{nodeId, host, httpPort, kafkaPort, rack, startedAt}`
 *   (`BrokerRegistration`). Written by the broker itself under its lease, with create-if-absent
 *   (`Create == 0`), so a node id has one live holder: a second broker with the same id is refused while
 *   the first one's lease lives. The key vanishes when the broker revokes its lease (SIGTERM) or stops
 *   renewing it (crash, partition from etcd): the live brokers are exactly the keys under `brokers/`.
 * - `/freshet/<cluster>/controller` → `{nodeId, epoch}` (`ControllerRecord`). Held by the elected
 *   controller under its broker lease (the same lease as its registration, so a controller that dies or is
 *   cut off from etcd loses both at once). Created only in the transaction that bumps `controller_epoch`.
 * - `/freshet/<cluster>/controller_epoch` → the last controller epoch in decimal (`"7"`), no lease: it
 *   survives every broker. An election is one transaction: `controller` absent (`Create == 0`) and
 *   `controller_epoch` unchanged since it was read (`Mod == r`, 0 when absent) → write `controller_epoch` =
 *   e + 1 and `controller` = {nodeId, epoch: e + 1}. Epochs are therefore strictly increasing, one per
 *   election, and never reused.
 *
 * - `/freshet/<cluster>/topics/<name>` → `{topicId, partitions, replicationFactor, config, createdAt}`
 *   (`TopicMeta`): written by the broker that was asked to create the topic (create-if-absent, so one of
 *   two racing creations wins), changed with `Mod == r` (config, partition count), deleted together with
 *   its partitions' keys in one transaction.
 * - `/freshet/<cluster>/partitions/<topic>/<partition>` → `{replicas, leader, leaderEpoch,
 *   leaderRegistration, isr}` (`PartitionMeta`): created by the controller (replica assignment), changed by
 *   the controller (elections: new leader, leaderEpoch + 1) and by the partition's leader (ISR shrink and
 *   expand, same epoch). Controller writes are guarded by the controller fence (`controllerFence` in
 *   controller-election.ts) and the key's `Mod` revision; leader writes by the `Mod` revision, so a deposed
 *   controller or leader can never overwrite a newer decision. `leaderRegistration` is the create revision
 *   of the leader's `brokers/<id>` key when it was elected: a broker that crashed and registered again has
 *   a new one, and is not taken for the leader it was (it must be elected again, with a new epoch).
 */

/** What a broker writes about itself under `brokers/<nodeId>`. */
export interface BrokerRegistration {
  nodeId: number;
  /** The host clients reach this broker at (its Kafka advertised host). */
  host: string;
  httpPort: number;
  /** The Kafka port clients connect to (advertised); null when the broker runs without a Kafka listener. */
  kafkaPort: number | null;
  rack: string | null;
  /** When this broker process registered first, ISO-8601. */
  startedAt: string;
}

/** The value of `controller`: which broker controls the cluster, in which epoch. */
export interface ControllerRecord {
  nodeId: number;
  epoch: number;
}

/** Every key and prefix of one cluster. */
export interface ClusterKeys {
  /** `/freshet/<cluster>/` */
  readonly root: string;
  /** `/freshet/<cluster>/brokers/`: list with a prefix read. */
  readonly brokersPrefix: string;
  broker(nodeId: number): string;
  readonly controller: string;
  readonly controllerEpoch: string;
  /** `/freshet/<cluster>/topics/`: list with a prefix read. */
  readonly topicsPrefix: string;
  topic(name: string): string;
  /** `/freshet/<cluster>/partitions/`: list with a prefix read. */
  readonly partitionsPrefix: string;
  /** `/freshet/<cluster>/partitions/<topic>/`: one topic's partitions. */
  topicPartitionsPrefix(topic: string): string;
  partition(topic: string, partition: number): string;
}

/** The keys of cluster `cluster` (a name already validated by the config: no `/`). */
export function clusterKeys(cluster: string): ClusterKeys {
  const root = `/freshet/${cluster}/`;
  return Object.freeze({
    root,
    brokersPrefix: `${root}brokers/`,
    broker: (nodeId: number) => `${root}brokers/${nodeId}`,
    controller: `${root}controller`,
    controllerEpoch: `${root}controller_epoch`,
    topicsPrefix: `${root}topics/`,
    topic: (name: string) => `${root}topics/${name}`,
    partitionsPrefix: `${root}partitions/`,
    topicPartitionsPrefix: (topic: string) => `${root}partitions/${topic}/`,
    partition: (topic: string, partition: number) => `${root}partitions/${topic}/${partition}`,
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNodeId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/**
 * A registration read back from etcd, or null when the value is not one (written by something else, or by
 * a future version with another shape): readers skip it rather than fail the whole listing.
 */
export function parseBrokerRegistration(text: string): BrokerRegistration | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const { nodeId, host, httpPort, kafkaPort, rack, startedAt } = value;
  if (!isNodeId(nodeId) || typeof host !== 'string' || !Number.isSafeInteger(httpPort)) return null;
  if (kafkaPort !== null && !Number.isSafeInteger(kafkaPort)) return null;
  if (rack !== null && typeof rack !== 'string') return null;
  if (typeof startedAt !== 'string') return null;
  return {
    nodeId,
    host,
    httpPort: httpPort as number,
    kafkaPort: kafkaPort as number | null,
    rack: rack as string | null,
    startedAt,
  };
}

/** The controller record read back from etcd, or null when the value is not one. */
export function parseControllerRecord(text: string): ControllerRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value) || !isNodeId(value.nodeId) || !Number.isSafeInteger(value.epoch)) return null;
  return { nodeId: value.nodeId, epoch: value.epoch as number };
}

/** `controller_epoch` as stored; 0 when absent (no controller was ever elected). */
export function parseControllerEpoch(text: string | null): number {
  if (text === null) return 0;
  const epoch = Number(text);
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new Error(`controller_epoch holds '${text}', not an epoch: was it written by something else?`);
  }
  return epoch;
}

/** A topic as the cluster knows it (`topics/<name>`). */
export interface TopicMeta {
  topicId: string;
  partitions: number;
  replicationFactor: number;
  /** The topic's config overrides by Kafka name. */
  config: Record<string, string | number>;
  createdAt: number;
}

/** A partition's replicas and leadership (`partitions/<topic>/<partition>`). */
export interface PartitionMeta {
  /** Assigned replicas, the preferred leader first. */
  replicas: number[];
  /** -1 while no replica can lead (none in sync is alive, unclean election off). */
  leader: number;
  /** Bumped by every election; written by the leader into every batch it appends. */
  leaderEpoch: number;
  /** Create revision of the leader's registration when elected (see the module comment); 0 with no leader. */
  leaderRegistration: number;
  /** In-sync replicas (the leader among them while it leads). */
  isr: number[];
  /**
   * A reassignment in progress (`freshet partitions reassign`): the replicas the partition is moving to.
   * The controller first adds the new ones to `replicas` (they copy the log as followers), and once every
   * one of them is in the ISR, sets `replicas` to these, drops the others, and moves leadership into them.
   */
  targetReplicas?: number[];
}

function isNodeList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isNodeId);
}

export function parseTopicMeta(text: string): TopicMeta | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const { topicId, partitions, replicationFactor, config, createdAt } = value;
  if (typeof topicId !== 'string' || !Number.isSafeInteger(partitions) || (partitions as number) < 1)
    return null;
  if (!Number.isSafeInteger(replicationFactor) || (replicationFactor as number) < 1) return null;
  if (!isObject(config) || !Number.isSafeInteger(createdAt)) return null;
  for (const v of Object.values(config)) if (typeof v !== 'string' && typeof v !== 'number') return null;
  return {
    topicId,
    partitions: partitions as number,
    replicationFactor: replicationFactor as number,
    config: config as Record<string, string | number>,
    createdAt: createdAt as number,
  };
}

export function parsePartitionMeta(text: string): PartitionMeta | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  const { replicas, leader, leaderEpoch, leaderRegistration, isr, targetReplicas } = value;
  if (targetReplicas !== undefined && (!isNodeList(targetReplicas) || targetReplicas.length === 0))
    return null;
  if (!isNodeList(replicas) || replicas.length === 0 || !isNodeList(isr)) return null;
  if (!Number.isSafeInteger(leader) || (leader as number) < -1) return null;
  if (!Number.isSafeInteger(leaderEpoch) || (leaderEpoch as number) < 0) return null;
  if (!Number.isSafeInteger(leaderRegistration) || (leaderRegistration as number) < 0) return null;
  return {
    replicas,
    leader: leader as number,
    leaderEpoch: leaderEpoch as number,
    leaderRegistration: leaderRegistration as number,
    isr,
    ...(targetReplicas === undefined ? {} : { targetReplicas: targetReplicas as number[] }),
  };
}
