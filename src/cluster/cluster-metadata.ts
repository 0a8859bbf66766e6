/**
 * @module
 * Every broker's view of the cluster metadata in etcd (etcd-keys.ts): live brokers, the controller, topics
 * and partitions (replicas, leader, epoch, ISR), each with the etcd revision it was written at. One range
 * read of the cluster's prefix, then one watch from the revision after it, so no change is missed; after
 * the watch reconnects (etcd down and back) and every `RELOAD_MS` besides, the whole prefix is read again
 * and replaces the view. Listeners hear about changes once per burst (a microtask later).
 *
 * Writers (the controller, partition leaders, topic admin) write etcd, never this view: they learn the
 * outcome here like everyone else, which keeps every broker's picture one and the same.
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from '../shared/logger.ts';
import { partitionKey } from '../shared/partition-key.ts';
import { etcdErrorText } from './etcd-client.ts';
import {
  type BrokerRegistration,
  type ClusterKeys,
  type ControllerRecord,
  type PartitionMeta,
  parseBrokerRegistration,
  parseControllerRecord,
  parsePartitionMeta,
  parseTopicMeta,
  type TopicMeta,
} from './etcd-keys.ts';

/** A full re-read now and then, in case a watch event was lost in an etcd outage. */
const RELOAD_MS = 5_000;

export interface BrokerEntry {
  registration: BrokerRegistration;
  /** Create revision of its `brokers/<id>` key: new for each registration (restart, re-registration). */
  createRevision: number;
}

export interface TopicEntry {
  name: string;
  meta: TopicMeta;
  /** Mod revision of `topics/<name>`, for compare-and-swap writes. */
  mod: string;
}

export interface PartitionEntry {
  topic: string;
  partition: number;
  meta: PartitionMeta;
  /** Mod revision of `partitions/<topic>/<partition>`, for compare-and-swap writes. */
  mod: string;
}

export class ClusterMetadata {
  readonly brokers = new Map<number, BrokerEntry>();
  readonly topics = new Map<string, TopicEntry>();
  readonly partitions = new Map<string, PartitionEntry>();
  controller: ControllerRecord | null = null;
  /** True once the first full read has been applied. */
  loaded = false;
  private readonly client: Etcd3;
  private readonly keys: ClusterKeys;
  private readonly logger: Logger;
  private readonly listeners: Array<() => void> = [];
  private watcher: Watcher | null = null;
  private reloadTimer: ReturnType<typeof setInterval> | null = null;
  private notifyQueued = false;
  private stopped = false;
  private reloading: Promise<void> | null = null;
  /** The newest revision a watch event brought: a full read older than it is dropped, not applied. */
  private newestEvent = 0;

  constructor(client: Etcd3, keys: ClusterKeys, logger: Logger) {
    this.client = client;
    this.keys = keys;
    this.logger = logger;
  }

  /** Calls `listener` (coalesced) after every change to the view. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Reads everything, then watches; retries the first read until it succeeds or `stop()`. */
  async start(): Promise<void> {
    const revision = await this.reloadWithRetry();
    if (this.stopped) return;
    this.watch(revision + 1);
    this.reloadTimer = setInterval(() => void this.reload().catch(() => {}), RELOAD_MS);
    this.reloadTimer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    const watcher = this.watcher;
    this.watcher = null;
    await watcher?.cancel().catch(() => {});
  }

  partition(topic: string, partition: number): PartitionEntry | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  /** The partitions of `topic` that have a state, by partition number. */
  partitionsOf(topic: string): PartitionEntry[] {
    const meta = this.topics.get(topic)?.meta;
    if (!meta) return [];
    const out: PartitionEntry[] = [];
    for (let p = 0; p < meta.partitions; p++) {
      const entry = this.partition(topic, p);
      if (entry) out.push(entry);
    }
    return out;
  }

  /** Whether broker `nodeId` is registered, and (when `registration` is given) in that registration. */
  isLive(nodeId: number, registration?: number): boolean {
    const entry = this.brokers.get(nodeId);
    return entry !== undefined && (registration === undefined || entry.createRevision === registration);
  }

  private async reloadWithRetry(): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.readAll();
      } catch (err) {
        if (this.stopped) return 0;
        this.logger.debug('cluster metadata: read failed; retrying', { error: etcdErrorText(err) });
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
      }
    }
  }

  /** A full read replacing the view; concurrent calls share one read. */
  reload(): Promise<void> {
    if (!this.reloading) {
      this.reloading = this.readAll()
        .then(() => undefined)
        .finally(() => {
          this.reloading = null;
        });
    }
    return this.reloading;
  }

  private async readAll(): Promise<number> {
    const answer = await this.client.getAll().prefix(this.keys.root).exec();
    const revision = Number(answer.header.revision);
    if (this.stopped || revision < this.newestEvent) return revision;
    this.brokers.clear();
    this.topics.clear();
    this.partitions.clear();
    this.controller = null;
    for (const kv of answer.kvs) this.put(kv);
    this.loaded = true;
    this.notify();
    return revision;
  }

  private watch(fromRevision: number): void {
    const watcher = this.client.watch().prefix(this.keys.root).startRevision(String(fromRevision)).watcher();
    let lost = false;
    watcher.on('put', (kv) => {
      this.newestEvent = Math.max(this.newestEvent, Number(kv.mod_revision));
      this.put(kv);
      this.notify();
    });
    watcher.on('delete', (kv) => {
      this.newestEvent = Math.max(this.newestEvent, Number(kv.mod_revision));
      this.remove(kv.key.toString());
      this.notify();
    });
    watcher.on('disconnected', () => {
      lost = true;
    });
    watcher.on('connected', () => {
      if (!lost) return;
      lost = false;
      void this.reload().catch(() => {});
    });
    watcher.on('error', (err) => this.logger.debug('cluster metadata watch error', { error: err.message }));
    this.watcher = watcher;
  }

  private put(kv: IKeyValue): void {
    const key = kv.key.toString();
    const value = kv.value.toString();
    const rest = key.slice(this.keys.root.length);
    if (rest.startsWith('brokers/')) {
      const registration = parseBrokerRegistration(value);
      if (registration) {
        this.brokers.set(registration.nodeId, { registration, createRevision: Number(kv.create_revision) });
      }
    } else if (rest === 'controller') {
      this.controller = parseControllerRecord(value);
    } else if (rest.startsWith('topics/')) {
      const meta = parseTopicMeta(value);
      const name = rest.slice('topics/'.length);
      if (meta) this.topics.set(name, { name, meta, mod: kv.mod_revision });
    } else if (rest.startsWith('partitions/')) {
      const parsed = parsePartitionPath(rest.slice('partitions/'.length));
      const meta = parsePartitionMeta(value);
      if (parsed && meta) {
        this.partitions.set(partitionKey(parsed.topic, parsed.partition), {
          ...parsed,
          meta,
          mod: kv.mod_revision,
        });
      }
    }
  }

  private remove(key: string): void {
    const rest = key.slice(this.keys.root.length);
    if (rest.startsWith('brokers/')) {
      this.brokers.delete(Number(rest.slice('brokers/'.length)));
    } else if (rest === 'controller') {
      this.controller = null;
    } else if (rest.startsWith('topics/')) {
      this.topics.delete(rest.slice('topics/'.length));
    } else if (rest.startsWith('partitions/')) {
      const parsed = parsePartitionPath(rest.slice('partitions/'.length));
      if (parsed) this.partitions.delete(partitionKey(parsed.topic, parsed.partition));
    }
  }

  private notify(): void {
    if (this.notifyQueued) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      for (const listener of this.listeners) {
        try {
          listener();
        } catch (err) {
          this.logger.error('cluster metadata listener failed', { error: etcdErrorText(err) });
        }
      }
    });
  }
}

/** `<topic>/<partition>` → its parts (topic names have no `/`). */
function parsePartitionPath(rest: string): { topic: string; partition: number } | null {
  const slash = rest.lastIndexOf('/');
  if (slash <= 0) return null;
  const partition = Number(rest.slice(slash + 1));
  if (!Number.isSafeInteger(partition) || partition < 0) return null;
  return { topic: rest.slice(0, slash), partition };
}
