/**
 * @module
 * Topic metadata: names, ids, partition counts and config overrides, owned by the coordinator worker and
 * persisted in `<dataDir>/.freshet/topics.json`.
 *
 * Byte layout: JSON `{"version":1,"topics":{"<name>":{"topicId":"<uuid>","partitions":N,"config":{...overrides},
 * "createdAt":ms}}}`; topicId is the `8-4-4-4-12` hex form of topic-id.ts. A file written before topics had
 * ids (no `topicId`) is read as is: each topic gets a new id at load and the file is rewritten once, so the
 * ids stay put from then on. (An older Freshet reading a newer file ignores the ids.)
 * Crash behaviour: written to a temp file, fsynced and renamed over the old one (then the directory is
 * fsynced), so a crash leaves the old or the new metadata, never a mix; a crash before the migration's
 * rewrite leaves the file without ids, and the next start assigns them again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogConfig } from '../config/log-config.ts';
import { applyTopicConfigChanges, parseTopicConfig, validateTopicName } from '../config/topic-config.ts';
import type { TopicConfigChanges, TopicConfigEntries } from '../ipc/engine.ts';
import { BrokerError } from '../shared/errors.ts';
import { OFFSETS_TOPIC } from './group-records.ts';
import { isAssignableTopicId, newTopicId } from './topic-id.ts';

export interface TopicRecord {
  name: string;
  /** Given at creation, never reused: a topic created again under the same name gets a new one. */
  topicId: string;
  partitions: number;
  /** Only the settings set for this topic; the broker defaults fill in the rest. */
  config: TopicConfigEntries;
  createdAt: number;
}

/** What the broker engine needs of topic metadata, locally or across the coordinator worker. */
export interface TopicStore {
  list(): Promise<TopicRecord[]>;
  /** `topicId`: the id the topic has in its cluster (a broker mirroring etcd); absent: a new one. */
  create(
    name: string,
    partitions: number,
    config: TopicConfigEntries,
    topicId?: string,
  ): Promise<TopicRecord>;
  delete(name: string): Promise<TopicRecord>;
  /** A value in `changes` sets that override, null removes it; the stored config never holds null. */
  alter(name: string, changes: TopicConfigChanges): Promise<TopicRecord>;
  addPartitions(name: string, count: number): Promise<TopicRecord>;
}

const METADATA_DIR = '.freshet';
const TOPICS_FILE = 'topics.json';
/** Upper bound on partitions per topic, to keep one request from exhausting file handles. */
export const MAX_PARTITIONS_PER_TOPIC = 10_000;

interface TopicsFile {
  version: 1;
  topics: Record<string, Omit<TopicRecord, 'name'>>;
}

export class TopicRegistry implements TopicStore {
  private readonly topics = new Map<string, TopicRecord>();
  private readonly file: string | null;
  private readonly defaults: Readonly<LogConfig>;

  /** `dataDir` null keeps metadata in memory only. */
  constructor(dataDir: string | null, defaults: Readonly<LogConfig>) {
    this.defaults = defaults;
    this.file = dataDir === null ? null : path.join(dataDir, METADATA_DIR, TOPICS_FILE);
    if (this.file && fs.existsSync(this.file)) this.load(this.file);
  }

  /** Reads topics.json, giving an id to each topic that has none (then rewriting the file once). */
  private load(file: string): void {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as TopicsFile;
    const entries = Object.entries(parsed.topics) as Array<[string, Partial<Omit<TopicRecord, 'name'>>]>;
    // Every stored id first, so one assigned below cannot clash with a topic listed later.
    const ids = new Set<string>();
    for (const [, t] of entries) if (isAssignableTopicId(t.topicId)) ids.add(t.topicId);
    const kept = new Set<string>();
    let assigned = false;
    for (const [name, t] of entries) {
      let topicId = t.topicId;
      // Written before topics had ids (or, defensively, an id taken twice): a new one, persisted below.
      if (!isAssignableTopicId(topicId) || kept.has(topicId)) {
        topicId = this.freshTopicId(ids);
        ids.add(topicId);
        assigned = true;
      }
      kept.add(topicId);
      this.topics.set(name, { ...(t as Omit<TopicRecord, 'name'>), name, topicId });
    }
    if (assigned) this.persist();
  }

  /** The effective log config of a topic: its overrides over the broker defaults. */
  logConfig(record: TopicRecord): Readonly<LogConfig> {
    return parseTopicConfig(record.config, this.defaults);
  }

  async list(): Promise<TopicRecord[]> {
    return [...this.topics.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Partition count of a topic; undefined when it does not exist. */
  partitionCount(name: string): number | undefined {
    return this.topics.get(name)?.partitions;
  }

  private get(name: string): TopicRecord {
    const t = this.topics.get(name);
    if (!t) throw new BrokerError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`);
    return t;
  }

  async create(
    name: string,
    partitions: number,
    config: TopicConfigEntries,
    topicId?: string,
  ): Promise<TopicRecord> {
    validateTopicName(name);
    // A cluster's __consumer_offsets is mirrored here (with its cluster topic id) like any topic.
    if (name === OFFSETS_TOPIC && topicId === undefined) {
      throw new BrokerError(
        'INVALID_TOPIC_EXCEPTION',
        `'${OFFSETS_TOPIC}' is the broker's internal topic of committed offsets; pick another name`,
      );
    }
    if (this.topics.has(name))
      throw new BrokerError('TOPIC_ALREADY_EXISTS', `topic '${name}' already exists`);
    checkPartitionCount(partitions);
    parseTopicConfig(config, this.defaults);
    const ids = new Set([...this.topics.values()].map((t) => t.topicId));
    if (topicId !== undefined && (!isAssignableTopicId(topicId) || ids.has(topicId))) {
      throw new BrokerError('INVALID_REQUEST', `topic id ${topicId} is malformed, reserved or taken`);
    }
    const record: TopicRecord = {
      name,
      topicId: topicId ?? this.freshTopicId(ids),
      partitions,
      config: { ...config },
      createdAt: Date.now(),
    };
    this.topics.set(name, record);
    this.persist();
    return record;
  }

  async delete(name: string): Promise<TopicRecord> {
    const record = this.get(name);
    this.topics.delete(name);
    this.persist();
    return record;
  }

  /** Applies `changes` to the topic's overrides: a value sets one, null removes one (back to the default). */
  async alter(name: string, changes: TopicConfigChanges): Promise<TopicRecord> {
    const record = this.get(name);
    const next = { ...record, config: applyTopicConfigChanges(record.config, changes, this.defaults) };
    this.topics.set(name, next);
    this.persist();
    return next;
  }

  async addPartitions(name: string, count: number): Promise<TopicRecord> {
    const record = this.get(name);
    checkPartitionCount(count);
    if (count <= record.partitions) {
      throw new BrokerError(
        'INVALID_PARTITIONS',
        `topic '${name}' has ${record.partitions} partitions; the new count must be larger, not ${count}`,
      );
    }
    const next = { ...record, partitions: count };
    this.topics.set(name, next);
    this.persist();
    return next;
  }

  /** A new id that no topic in `taken` has (a clash of 122 random bits is not expected, but costs nothing). */
  private freshTopicId(taken: ReadonlySet<string>): string {
    for (;;) {
      const id = newTopicId();
      if (!taken.has(id)) return id;
    }
  }

  private persist(): void {
    if (!this.file) return;
    const dir = path.dirname(this.file);
    fs.mkdirSync(dir, { recursive: true });
    const body: TopicsFile = { version: 1, topics: {} };
    for (const t of this.topics.values()) {
      body.topics[t.name] = {
        topicId: t.topicId,
        partitions: t.partitions,
        config: t.config,
        createdAt: t.createdAt,
      };
    }
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, JSON.stringify(body, null, 1));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }
}

function checkPartitionCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PARTITIONS_PER_TOPIC) {
    throw new BrokerError(
      'INVALID_PARTITIONS',
      `partition count must be an integer from 1 to ${MAX_PARTITIONS_PER_TOPIC}, not ${count}`,
    );
  }
}
