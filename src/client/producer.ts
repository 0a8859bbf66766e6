/**
 * @module
 * `Producer`: batches records per partition and sends each batch as one RecordBatch v2 built here
 * (`POST /v1/topics/{topic}/records?partition=P`, `application/vnd.kafka.recordbatch`).
 *
 * A record's way: `send()` waits while `maxBufferedBytes` are unacknowledged (back-pressure), then the
 * topic's partition count is looked up once (describeTopic, cached for `metadataMaxAgeMs`) and the record
 * joins its partition's queue: the explicit partition, else murmur2 of the key (the broker's and Java's
 * partitioner), else the topic's sticky partition, which moves to another random partition each time a
 * batch for it is sealed. A queue seals a batch when it holds `batchBytes` or its oldest record has waited
 * `lingerMs`, and keeps one request in flight, so retries never reorder a partition.
 *
 * Auto-creation: when describeTopic answers UNKNOWN_TOPIC_OR_PARTITION, the first records (up to
 * `batchBytes`) go through the `{records}` endpoint, where the broker creates the topic if its
 * auto.create.topics.enable allows and partitions them by the same rules; later records wait for that
 * answer, then take the batch path. Retries resend the same bytes, so a lost answer can duplicate a batch
 * (at-least-once, like a Kafka producer without idempotence).
 */
import { partitionForKey } from '../records/murmur2.ts';
import { encodeRecordBatch, type RecordInput } from '../records/record-batch.ts';
import { RECORD_BATCH, toBytes, toHeaders, unpack } from './codec.ts';
import { asFreshetError, closedError, FreshetError } from './errors.ts';
import {
  DEFAULT_RETRY_POLICY,
  HttpClient,
  type HttpOptions,
  type RetryPolicy,
  topicPath,
  withRetries,
} from './http.ts';
import { readProduceRange } from './produce-answer.ts';
import type { Acks, ProducerRecord, RecordMetadata, TopicDescription } from './types.ts';

export interface ProducerOptions extends HttpOptions, Partial<RetryPolicy> {
  /** Share one HttpClient between clients; its options then win over url/fetch/headers here. */
  http?: HttpClient;
  /** How long a record may wait for others to join its batch; default 5 ms. */
  lingerMs?: number;
  /** Records per batch (and request) are cut at this many bytes; default 1 MiB. */
  batchBytes?: number;
  /** Unacknowledged bytes held before `send()` waits; default 32 MiB. */
  maxBufferedBytes?: number;
  /** Default 'all'. */
  acks?: Acks;
  /** A topic's cached partition count is refreshed (in the background) after this long; default 5 min. */
  metadataMaxAgeMs?: number;
}

/** Bytes a record is charged beyond its key, value and headers: lengths, deltas, the batch header's share. */
const RECORD_OVERHEAD = 24;

interface PendingRecord {
  topic: string;
  input: RecordInput;
  partition: number | undefined;
  size: number;
  enqueuedAt: number;
  resolve(metadata: RecordMetadata): void;
  reject(err: FreshetError): void;
}

interface TopicState {
  name: string;
  /** unknown → loading (describeTopic) → ready; or loading → bootstrapping (auto-create) → loading. */
  phase: 'unknown' | 'loading' | 'bootstrapping' | 'ready';
  partitionCount: number;
  fetchedAt: number;
  refreshing: boolean;
  /** Records that arrived while the phase was not ready, in send order. */
  waiting: PendingRecord[];
  sticky: number;
  queues: Map<number, PartitionQueue>;
}

interface PartitionQueue {
  topic: TopicState;
  partition: number;
  records: PendingRecord[];
  bytes: number;
  inFlight: boolean;
  timer: ReturnType<typeof setTimeout> | null;
}

interface ProduceAnswer {
  results?: Array<{ partition: number; offset: number }>;
}

export class Producer {
  readonly http: HttpClient;
  private readonly lingerMs: number;
  private readonly batchBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly acks: string;
  private readonly metadataMaxAgeMs: number;
  private readonly retry: RetryPolicy;
  private readonly topics = new Map<string, TopicState>();
  /** Unsettled records per flush generation: a flush waits for its generation and the older ones. */
  private readonly unsettled = new Map<number, number>();
  private generation = 0;
  private flushWaiters: Array<{ generation: number; resolve: () => void }> = [];
  /** Records whose send() is waiting for buffer space, in send order. */
  private readonly blocked: PendingRecord[] = [];
  private readyWaiters: Array<() => void> = [];
  private buffered = 0;
  private flushing = 0;
  private closing = false;
  private closed: Promise<void> | null = null;

  constructor(options: ProducerOptions = {}) {
    this.http = options.http ?? new HttpClient(options);
    this.lingerMs = options.lingerMs ?? 5;
    this.batchBytes = options.batchBytes ?? 1024 * 1024;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.acks = acksParam(options.acks ?? 'all');
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 5 * 60_000;
    this.retry = {
      retries: options.retries ?? DEFAULT_RETRY_POLICY.retries,
      retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RETRY_POLICY.retryBackoffMs,
      maxRetryBackoffMs: options.maxRetryBackoffMs ?? DEFAULT_RETRY_POLICY.maxRetryBackoffMs,
    };
  }

  /** Bytes sent but not yet acknowledged or failed (what `maxBufferedBytes` bounds). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True while a new send() would wait for buffer space. */
  get full(): boolean {
    return this.blocked.length > 0 || this.buffered >= this.maxBufferedBytes;
  }

  /**
   * Resolves once a new send() would not wait for buffer space. A loop that does not await each send()
   * (to let records batch) awaits this between sends, so what it holds stays within maxBufferedBytes.
   */
  ready(): Promise<void> {
    if (!this.full || this.closing) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Queues records for `topic`; resolves with where each landed once the broker acknowledged it (per
   * `acks`), rejects with a FreshetError after the retries are spent. Calls are kept in order per partition.
   */
  send(topic: string, record: ProducerRecord): Promise<RecordMetadata>;
  send(topic: string, records: ProducerRecord[]): Promise<RecordMetadata[]>;
  send(
    topic: string,
    records: ProducerRecord | ProducerRecord[],
  ): Promise<RecordMetadata | RecordMetadata[]> {
    if (Array.isArray(records)) return Promise.all(records.map((record) => this.sendOne(topic, record)));
    return this.sendOne(topic, records);
  }

  /** Sends everything queued now, without waiting for lingerMs, and resolves when all of it is settled. */
  async flush(): Promise<void> {
    // Records sent from now on belong to the next generation: this flush does not wait for them.
    const generation = this.generation++;
    this.flushing++;
    try {
      for (const state of this.topics.values()) {
        for (const queue of state.queues.values()) this.dispatch(queue);
      }
      if (!this.settledUpTo(generation)) {
        await new Promise<void>((resolve) => this.flushWaiters.push({ generation, resolve }));
      }
    } finally {
      this.flushing--;
    }
  }

  /** Refuses new records, flushes the ones already sent, and stops. Safe to call more than once. */
  close(): Promise<void> {
    this.closing = true;
    this.closed ??= this.flush().then(() => {
      for (const state of this.topics.values()) {
        for (const queue of state.queues.values()) if (queue.timer !== null) clearTimeout(queue.timer);
      }
    });
    return this.closed;
  }

  private sendOne(topic: string, record: ProducerRecord): Promise<RecordMetadata> {
    if (this.closing) return Promise.reject(closedError('producer'));
    let pending: PendingRecord;
    try {
      pending = prepare(topic, record);
    } catch (err) {
      return Promise.reject(asFreshetError(err));
    }
    const { size } = pending;
    const generation = this.generation;
    this.unsettled.set(generation, (this.unsettled.get(generation) ?? 0) + 1);
    const promise = new Promise<RecordMetadata>((resolve, reject) => {
      pending.resolve = (metadata) => {
        this.settle(size, generation);
        resolve(metadata);
      };
      pending.reject = (err) => {
        this.settle(size, generation);
        reject(err);
      };
    });
    const full = this.buffered > 0 && this.buffered + size > this.maxBufferedBytes;
    if (this.blocked.length > 0 || full) this.blocked.push(pending);
    else this.admit(pending);
    return promise;
  }

  private admit(pending: PendingRecord): void {
    this.buffered += pending.size;
    let state = this.topics.get(pending.topic);
    if (state === undefined) {
      state = {
        name: pending.topic,
        phase: 'unknown',
        partitionCount: 0,
        fetchedAt: 0,
        refreshing: false,
        waiting: [],
        sticky: -1,
        queues: new Map(),
      };
      this.topics.set(pending.topic, state);
    }
    this.route(state, pending, false);
  }

  private settledUpTo(generation: number): boolean {
    for (const pending of this.unsettled.keys()) if (pending <= generation) return false;
    return true;
  }

  private settle(size: number, generation: number): void {
    const left = this.unsettled.get(generation)! - 1;
    if (left > 0) this.unsettled.set(generation, left);
    else {
      this.unsettled.delete(generation);
      if (this.flushWaiters.length > 0) {
        const waiting = this.flushWaiters;
        this.flushWaiters = waiting.filter((waiter) => !this.settledUpTo(waiter.generation));
        for (const waiter of waiting) if (!this.flushWaiters.includes(waiter)) waiter.resolve();
      }
    }
    this.release(size);
  }

  private release(size: number): void {
    this.buffered -= size;
    while (this.blocked.length > 0) {
      const next = this.blocked[0]!;
      if (this.buffered > 0 && this.buffered + next.size > this.maxBufferedBytes) break;
      this.blocked.shift();
      this.admit(next);
    }
    if (this.readyWaiters.length > 0 && !this.full) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Puts a record in its partition's queue, or in the topic's waiting list until the partition count is known. */
  private route(state: TopicState, pending: PendingRecord, afterRefresh: boolean): void {
    if (state.phase !== 'ready') {
      state.waiting.push(pending);
      if (state.phase === 'unknown') void this.loadMetadata(state);
      return;
    }
    const count = state.partitionCount;
    let partition: number;
    if (pending.partition !== undefined) {
      if (pending.partition >= count) {
        if (afterRefresh) {
          pending.reject(
            new FreshetError(
              'UNKNOWN_TOPIC_OR_PARTITION',
              `topic '${state.name}' has ${count} partitions, no partition ${pending.partition}`,
              { retriable: false },
            ),
          );
          return;
        }
        // Partitions may have been added since the count was cached: look again before refusing.
        state.waiting.push(pending);
        void this.loadMetadata(state);
        return;
      }
      partition = pending.partition;
    } else if (pending.input.key != null) {
      partition = partitionForKey(pending.input.key, count);
    } else {
      if (state.sticky < 0 || state.sticky >= count) state.sticky = randomPartition(count, -1);
      partition = state.sticky;
    }
    if (!state.refreshing && Date.now() - state.fetchedAt > this.metadataMaxAgeMs) void this.refresh(state);
    let queue = state.queues.get(partition);
    if (queue === undefined) {
      queue = { topic: state, partition, records: [], bytes: 0, inFlight: false, timer: null };
      state.queues.set(partition, queue);
    }
    queue.records.push(pending);
    queue.bytes += pending.size;
    // While the waiting list drains, records that waited past lingerMs must still batch together.
    if (!afterRefresh) this.dispatch(queue);
  }

  /** Fetches the partition count, then routes the waiting records; bootstraps the topic when it is unknown. */
  private async loadMetadata(state: TopicState): Promise<void> {
    state.phase = 'loading';
    let description: TopicDescription | null;
    try {
      description = await this.describe(state.name);
    } catch (err) {
      this.failWaiting(state, asFreshetError(err));
      return;
    }
    if (description === null) {
      await this.bootstrap(state);
      return;
    }
    state.partitionCount = description.partitions.length;
    state.fetchedAt = Date.now();
    state.phase = 'ready';
    const waiting = state.waiting;
    state.waiting = [];
    for (const pending of waiting) this.route(state, pending, true);
    for (const queue of state.queues.values()) this.dispatch(queue);
  }

  private async refresh(state: TopicState): Promise<void> {
    state.refreshing = true;
    try {
      const description = await this.describe(state.name);
      if (description !== null && state.phase === 'ready')
        state.partitionCount = description.partitions.length;
      state.fetchedAt = Date.now();
    } catch {
      // The cached count stays; the next record tries again once metadataMaxAgeMs has passed.
      state.fetchedAt = Date.now();
    } finally {
      state.refreshing = false;
    }
  }

  /** describeTopic with retries; null when the topic does not exist. */
  private describe(topic: string): Promise<TopicDescription | null> {
    return withRetries(this.retry, async () => {
      try {
        return await this.http.request<TopicDescription>('GET', topicPath(topic));
      } catch (err) {
        if (err instanceof FreshetError && err.code === 'UNKNOWN_TOPIC_OR_PARTITION') return null;
        throw err;
      }
    });
  }

  /**
   * Sends the first waiting records through the `{records}` endpoint, which auto-creates the topic (when
   * the broker allows) and partitions them as this producer would; then looks the topic up again.
   */
  private async bootstrap(state: TopicState): Promise<void> {
    state.phase = 'bootstrapping';
    const chunk = takeUpTo(state.waiting, this.batchBytes);
    state.waiting.splice(0, chunk.length);
    const body = {
      records: chunk.map(({ input, partition }) => ({
        key: input.key ?? null,
        value: input.value,
        headers: input.headers,
        partition,
        timestamp: input.timestamp,
      })),
    };
    try {
      const answer = await withRetries(this.retry, () =>
        this.http.request<ProduceAnswer | undefined>('POST', `${topicPath(state.name)}/records`, {
          query: { acks: this.acks },
          body,
        }),
      );
      chunk.forEach((pending, i) => {
        const result = answer?.results?.[i];
        pending.resolve({
          topic: state.name,
          partition: result?.partition ?? -1,
          offset: result?.offset ?? -1,
        });
      });
    } catch (err) {
      const error = asFreshetError(err);
      for (const pending of chunk) pending.reject(error);
      this.failWaiting(state, error);
      return;
    }
    if (state.waiting.length > 0) await this.loadMetadata(state);
    else state.phase = 'unknown';
  }

  private failWaiting(state: TopicState, err: FreshetError): void {
    const waiting = state.waiting;
    state.waiting = [];
    state.phase = 'unknown';
    for (const pending of waiting) pending.reject(err);
  }

  /** Seals and sends the queue's next batch if it is due (full, lingered, or flushing) and nothing is in flight. */
  private dispatch(queue: PartitionQueue): void {
    if (queue.inFlight || queue.records.length === 0) return;
    const now = Date.now();
    const due = queue.records[0]!.enqueuedAt + this.lingerMs;
    if (queue.bytes < this.batchBytes && this.flushing === 0 && now < due) {
      if (queue.timer === null) {
        queue.timer = setTimeout(() => {
          queue.timer = null;
          this.dispatch(queue);
        }, due - now);
      }
      return;
    }
    if (queue.timer !== null) {
      clearTimeout(queue.timer);
      queue.timer = null;
    }
    const batch = takeUpTo(queue.records, this.batchBytes);
    queue.records.splice(0, batch.length);
    for (const pending of batch) queue.bytes -= pending.size;
    const state = queue.topic;
    if (state.sticky === queue.partition)
      state.sticky = randomPartition(state.partitionCount, queue.partition);
    queue.inFlight = true;
    void this.produceBatch(queue, batch).finally(() => {
      queue.inFlight = false;
      this.dispatch(queue);
    });
  }

  private async produceBatch(queue: PartitionQueue, batch: PendingRecord[]): Promise<void> {
    const { topic: state, partition } = queue;
    try {
      const body = encodeRecordBatch(batch.map((pending) => pending.input));
      const bytes = await withRetries(
        this.retry,
        () =>
          this.http.request<Uint8Array>('POST', `${topicPath(state.name)}/records`, {
            query: { partition, acks: this.acks },
            rawBody: body,
            contentType: RECORD_BATCH,
            rawResponse: true,
          }),
        {
          onRetry: (err) => {
            if (err.code === 'UNKNOWN_TOPIC_OR_PARTITION') state.fetchedAt = 0;
          },
        },
      );
      const range = readProduceRange(bytes);
      if (range !== undefined && range.count === batch.length) {
        for (let i = 0; i < batch.length; i++) {
          batch[i]!.resolve({ topic: state.name, partition: range.partition, offset: range.baseOffset + i });
        }
      } else {
        // acks=0 (`{}`), or an answer of another shape: decode it in full.
        const answer = unpack(bytes) as ProduceAnswer | undefined;
        batch.forEach((pending, i) => {
          const result = answer?.results?.[i];
          pending.resolve({
            topic: state.name,
            partition: result?.partition ?? partition,
            offset: result?.offset ?? -1,
          });
        });
      }
    } catch (err) {
      const error = asFreshetError(err);
      // The topic may be gone (deleted, or recreated smaller): the next records look it up afresh.
      if (error.code === 'UNKNOWN_TOPIC_OR_PARTITION' && state.phase === 'ready') state.phase = 'unknown';
      for (const pending of batch) pending.reject(error);
    }
  }
}

/** Placeholder until sendOne() wires the record to its promise. */
function unsettled(): void {
  throw new Error('record not wired to its promise');
}

/** Normalises and checks one record; throws (INVALID_RECORD, INVALID_TIMESTAMP, ...) for what cannot be sent. */
function prepare(topic: string, record: ProducerRecord): PendingRecord {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new FreshetError('INVALID_TOPIC_EXCEPTION', 'a topic name is required', { retriable: false });
  }
  if (record === null || typeof record !== 'object') {
    throw new FreshetError('INVALID_RECORD', 'a record must be an object with a value', { retriable: false });
  }
  let key: Uint8Array | null;
  let value: Uint8Array | null;
  let headers: RecordInput['headers'];
  try {
    key = toBytes(record.key);
    value = toBytes(record.value);
    headers = toHeaders(record.headers);
  } catch (err) {
    throw new FreshetError('INVALID_RECORD', (err as Error).message, { retriable: false });
  }
  const partition = record.partition;
  if (partition !== undefined && (!Number.isSafeInteger(partition) || partition < 0)) {
    throw new FreshetError(
      'UNKNOWN_TOPIC_OR_PARTITION',
      `partition must be an integer >= 0, got ${partition}`,
      {
        retriable: false,
      },
    );
  }
  const time = record.timestamp instanceof Date ? record.timestamp.getTime() : record.timestamp;
  if (time !== undefined && !Number.isSafeInteger(time)) {
    throw new FreshetError(
      'INVALID_TIMESTAMP',
      `timestamp must be epoch ms, got ${String(record.timestamp)}`,
      {
        retriable: false,
      },
    );
  }
  let size = RECORD_OVERHEAD + (key?.length ?? 0) + (value?.length ?? 0);
  for (const header of headers) size += header.key.length * 3 + (header.value?.length ?? 0) + 2;
  return {
    topic,
    input: { key, value, headers, timestamp: time ?? Date.now() },
    partition,
    size,
    enqueuedAt: Date.now(),
    resolve: unsettled,
    reject: unsettled,
  };
}

/** The leading records whose sizes add up to at most `bytes`, and always at least one. */
function takeUpTo(records: PendingRecord[], bytes: number): PendingRecord[] {
  let total = 0;
  let count = 0;
  while (count < records.length) {
    total += records[count]!.size;
    if (count > 0 && total > bytes) break;
    count++;
  }
  return records.slice(0, count);
}

function randomPartition(count: number, avoid: number): number {
  if (count <= 1) return 0;
  if (avoid < 0 || avoid >= count) return Math.floor(Math.random() * count);
  const pick = Math.floor(Math.random() * (count - 1));
  return pick >= avoid ? pick + 1 : pick;
}

function acksParam(acks: Acks): string {
  if (acks === 'all' || acks === -1) return 'all';
  if (acks === 0 || acks === 1) return String(acks);
  throw new FreshetError('INVALID_REQUIRED_ACKS', `acks must be 0, 1 or 'all', got ${String(acks)}`, {
    retriable: false,
  });
}
