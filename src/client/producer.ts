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
 * `lingerMs`. While a request is out, the queue seals and encodes its next batch, so the next request leaves
 * as soon as it may (before the answered records are settled): client and broker work at the same time
 * instead of in turn.
 *
 * When it may: a queue never has two requests whose append is not known yet, so a partition's batches are
 * appended in the order they were sealed, whatever the connections do. On a single broker a request's
 * answer is that knowledge, so one request is in flight. In a cluster, with acks=all, a batch goes with
 * `?pipeline=true`: the leader sends the answer's headers once it has appended the batch and the body once
 * the in-sync replicas have it, and the next batch leaves at the headers; up to `maxInFlight` requests wait
 * for their replicas at once, which hides the replication round behind the next batch's transfer and
 * append. Records settle in their partition's order either way.
 *
 * A batch is sent with `?answer=range`: the broker answers its offset range, and the records' offsets are
 * counted from its base offset here (a result per record cost the broker more than the append). Records
 * settle a batch at a time: their promises resolve in one pass, and the buffer space and flush accounting
 * are updated once per batch.
 *
 * Auto-creation: when describeTopic answers UNKNOWN_TOPIC_OR_PARTITION, the first records (up to
 * `batchBytes`) go through the `{records}` endpoint, where the broker creates the topic if its
 * auto.create.topics.enable allows and partitions them by the same rules; later records wait for that
 * answer, then take the batch path. Retries resend the same bytes, so a lost answer can duplicate a batch
 * (at-least-once, like a Kafka producer without idempotence).
 *
 * In a cluster a batch goes to its partition's leader (router.ts; the leaders come with the topic's
 * description); when leadership moves, NOT_LEADER_OR_FOLLOWER sends it on to the new leader at once, and
 * LEADER_NOT_AVAILABLE, NOT_ENOUGH_REPLICAS or a leader that does not answer are retried with backoff
 * after the leaders are looked up again.
 */
import { partitionForKey } from '../records/murmur2.ts';
import { encodeRecordBatch, type RecordInput } from '../records/record-batch.ts';
import { RECORD_BATCH, toBytes, toHeaders } from './codec.ts';
import { asFreshetError, closedError, FreshetError } from './errors.ts';
import {
  DEFAULT_RETRY_POLICY,
  HttpClient,
  type HttpOptions,
  type RetryPolicy,
  topicPath,
  withRetries,
} from './http.ts';
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
  /**
   * Requests per partition whose records are appended but not yet acknowledged by the in-sync replicas
   * (acks=all in a cluster); default 5, as Kafka's max.in.flight.requests.per.connection. 1 waits for
   * each acknowledgement before the next batch leaves. A batch whose acknowledgement fails after its append
   * is sent again behind the later ones, so its records can appear twice, the second time after later
   * records (a Kafka producer without idempotence does the same); with 1, the copy comes right after.
   */
  maxInFlight?: number;
  /** A topic's cached partition count is refreshed (in the background) after this long; default 5 min. */
  metadataMaxAgeMs?: number;
}

/** Bytes a record is charged beyond its key, value and headers: lengths, deltas, the batch header's share. */
const RECORD_OVERHEAD = 24;

/** The records sent before one flush() call: it resolves once `unsettled` and all older ones are 0. */
interface Generation {
  id: number;
  unsettled: number;
}

/** The promise of a send() of several records: it resolves when all have landed, or rejects with the first failure. */
interface SendGroup {
  results: RecordMetadata[];
  left: number;
  resolve(metadata: RecordMetadata[]): void;
  reject(err: FreshetError): void;
  failed: boolean;
}

/** A record on its way, itself the RecordInput its batch is encoded from (one object per record). */
interface PendingRecord extends RecordInput {
  key: Uint8Array | null;
  timestamp: number;
  topic: string;
  partition: number | undefined;
  size: number;
  enqueuedAt: number;
  generation: Generation;
  /** A record sent alone has its own promise; one of several has a slot in their group. */
  resolve: ((metadata: RecordMetadata) => void) | null;
  reject: ((err: FreshetError) => void) | null;
  group: SendGroup | null;
  index: number;
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

/** A batch sealed and encoded, waiting for its partition's request in flight to be answered. */
interface SealedBatch {
  records: PendingRecord[];
  body: Uint8Array;
}

interface PartitionQueue {
  topic: TopicState;
  partition: number;
  /** Records not yet sealed into a batch, in send order. */
  records: PendingRecord[];
  bytes: number;
  /** Sealed while a request was in flight; sent as soon as that one is appended (or answered). */
  next: SealedBatch | null;
  /**
   * Requests sent and not yet answered, in send order; `holding` while the request's append is not known
   * (the next batch waits while one is).
   */
  requests: Array<{ holding: boolean }>;
  /** Retries waiting for the requests before them to be appended again (see produceBatch). */
  turnWaiters: Array<() => void>;
  /** Settles once the latest request's records are settled: answers settle in the order they were sent. */
  settled: Promise<void>;
  timer: ReturnType<typeof setTimeout> | null;
}

/** `{results}` of the `{records}` endpoint (auto-creation), or of an old broker that ignores `answer=range`. */
interface ProduceAnswer {
  results?: Array<{ partition: number; offset: number }>;
}

/** A raw-batch produce answered with `?answer=range`; `{}` with acks=0. */
interface RangeAnswer extends ProduceAnswer {
  partition?: number;
  baseOffset?: number;
  lastOffset?: number;
  count?: number;
}

export class Producer {
  readonly http: HttpClient;
  private readonly lingerMs: number;
  private readonly batchBytes: number;
  private readonly maxBufferedBytes: number;
  private readonly acks: string;
  private readonly maxInFlight: number;
  private readonly metadataMaxAgeMs: number;
  private readonly retry: RetryPolicy;
  private readonly topics = new Map<string, TopicState>();
  /** The generation records sent now join; flush() starts the next one. */
  private current: Generation = { id: 0, unsettled: 0 };
  /** Generations closed by flush() with records still unsettled, oldest first. */
  private older: Generation[] = [];
  private flushWaiters: Array<{ generation: Generation; resolve: () => void }> = [];
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
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlight ?? 5));
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
    if (Array.isArray(records)) return this.sendMany(topic, records);
    if (this.closing) return Promise.reject(closedError('producer'));
    let pending: PendingRecord;
    try {
      pending = prepare(topic, records, this.current);
    } catch (err) {
      return Promise.reject(asFreshetError(err));
    }
    return new Promise<RecordMetadata>((resolve, reject) => {
      pending.resolve = resolve;
      pending.reject = reject;
      this.enqueue(pending);
    });
  }

  /** Sends everything queued now, without waiting for lingerMs, and resolves when all of it is settled. */
  async flush(): Promise<void> {
    // Records sent from now on belong to the next generation: this flush does not wait for them.
    const generation = this.current;
    this.current = { id: generation.id + 1, unsettled: 0 };
    if (generation.unsettled > 0) this.older.push(generation);
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

  /** One promise for all the records: each is queued as send() of one would be, in order. */
  private sendMany(topic: string, records: ProducerRecord[]): Promise<RecordMetadata[]> {
    if (records.length === 0) return Promise.resolve([]);
    if (this.closing) return Promise.reject(closedError('producer'));
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const group: SendGroup = {
        results: new Array(records.length),
        left: records.length,
        resolve,
        reject,
        failed: false,
      };
      for (let i = 0; i < records.length; i++) {
        let pending: PendingRecord;
        try {
          pending = prepare(topic, records[i]!, this.current);
        } catch (err) {
          // The others still go out, as they would with one send() each.
          failGroup(group, asFreshetError(err));
          continue;
        }
        pending.group = group;
        pending.index = i;
        this.enqueue(pending);
      }
    });
  }

  private enqueue(pending: PendingRecord): void {
    pending.generation.unsettled++;
    const full = this.buffered > 0 && this.buffered + pending.size > this.maxBufferedBytes;
    if (this.blocked.length > 0 || full) this.blocked.push(pending);
    else this.admit(pending);
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

  private settledUpTo(generation: Generation): boolean {
    if (generation.unsettled > 0) return false;
    for (const older of this.older) {
      if (older.id > generation.id) break;
      if (older.unsettled > 0) return false;
    }
    return true;
  }

  /**
   * Settles records: each resolves with `metadataOf(i)`, or all reject with `error`; then the flushes
   * and the buffer space they held are accounted once for all of them.
   */
  private settle(
    records: PendingRecord[],
    metadataOf: ((i: number) => RecordMetadata) | null,
    error: FreshetError | null = null,
  ): void {
    let bytes = 0;
    let drained = false;
    for (let i = 0; i < records.length; i++) {
      const pending = records[i]!;
      bytes += pending.size;
      if (--pending.generation.unsettled === 0) drained = true;
      if (metadataOf !== null) {
        const metadata = metadataOf(i);
        const group = pending.group;
        if (group === null) pending.resolve!(metadata);
        else if (!group.failed) {
          group.results[pending.index] = metadata;
          if (--group.left === 0) group.resolve(group.results);
        }
      } else if (pending.group === null) pending.reject!(error!);
      else failGroup(pending.group, error!);
    }
    if (drained) this.wakeFlushes();
    this.release(bytes);
  }

  private wakeFlushes(): void {
    while (this.older.length > 0 && this.older[0]!.unsettled === 0) this.older.shift();
    if (this.flushWaiters.length === 0) return;
    const waiting = this.flushWaiters;
    this.flushWaiters = [];
    for (const waiter of waiting) {
      if (this.settledUpTo(waiter.generation)) waiter.resolve();
      else this.flushWaiters.push(waiter);
    }
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
          const error = new FreshetError(
            'UNKNOWN_TOPIC_OR_PARTITION',
            `topic '${state.name}' has ${count} partitions, no partition ${pending.partition}`,
            { retriable: false },
          );
          this.settle([pending], null, error);
          return;
        }
        // Partitions may have been added since the count was cached: look again before refusing.
        state.waiting.push(pending);
        void this.loadMetadata(state);
        return;
      }
      partition = pending.partition;
    } else if (pending.key !== null) {
      partition = partitionForKey(pending.key, count);
    } else {
      if (state.sticky < 0 || state.sticky >= count) state.sticky = randomPartition(count, -1);
      partition = state.sticky;
    }
    if (!state.refreshing && pending.enqueuedAt - state.fetchedAt > this.metadataMaxAgeMs) {
      void this.refresh(state);
    }
    let queue = state.queues.get(partition);
    if (queue === undefined) {
      queue = {
        topic: state,
        partition,
        records: [],
        bytes: 0,
        next: null,
        requests: [],
        turnWaiters: [],
        settled: Promise.resolve(),
        timer: null,
      };
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
        const description = await this.http.request<TopicDescription>('GET', topicPath(topic));
        this.http.router.learn(description);
        return description;
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
    const chunk = state.waiting.splice(0, countUpTo(state.waiting, this.batchBytes));
    const body = {
      records: chunk.map(({ key, value, headers, partition, timestamp }) => ({
        key,
        value,
        headers,
        partition,
        timestamp,
      })),
    };
    let answer: ProduceAnswer | undefined;
    try {
      answer = await withRetries(this.retry, () =>
        this.http.request<ProduceAnswer | undefined>('POST', `${topicPath(state.name)}/records`, {
          query: { acks: this.acks },
          body,
        }),
      );
    } catch (err) {
      const error = asFreshetError(err);
      this.settle(chunk, null, error);
      this.failWaiting(state, error);
      return;
    }
    this.settle(chunk, (i) => {
      const result = answer?.results?.[i];
      return { topic: state.name, partition: result?.partition ?? -1, offset: result?.offset ?? -1 };
    });
    if (state.waiting.length > 0) await this.loadMetadata(state);
    else state.phase = 'unknown';
  }

  private failWaiting(state: TopicState, err: FreshetError): void {
    const waiting = state.waiting;
    state.waiting = [];
    state.phase = 'unknown';
    this.settle(waiting, null, err);
  }

  /**
   * Seals the queue's next batch when it is due (full, lingered, or flushing) and none is sealed yet, and
   * sends the sealed batch once every request before it is appended (and fewer than maxInFlight wait for
   * their acknowledgement): one batch ready behind the requests in flight.
   */
  private dispatch(queue: PartitionQueue): void {
    if (queue.next === null && queue.records.length > 0) {
      const now = Date.now();
      const due = queue.records[0]!.enqueuedAt + this.lingerMs;
      if (queue.bytes < this.batchBytes && this.flushing === 0 && now < due) {
        if (queue.timer === null) {
          queue.timer = setTimeout(() => {
            queue.timer = null;
            this.dispatch(queue);
          }, due - now);
        }
      } else {
        if (queue.timer !== null) {
          clearTimeout(queue.timer);
          queue.timer = null;
        }
        queue.next = this.seal(queue);
      }
    }
    if (queue.next === null || queue.requests.length >= this.maxInFlight) return;
    if (queue.requests.some((r) => r.holding)) return;
    const batch = queue.next;
    queue.next = null;
    void this.produceBatch(queue, batch);
    // Seal the following batch now if it is due, so that it is ready when this one is answered.
    if (queue.records.length > 0) this.dispatch(queue);
  }

  /** Takes the queue's leading records (up to batchBytes) and encodes them; null if none could be encoded. */
  private seal(queue: PartitionQueue): SealedBatch | null {
    while (queue.records.length > 0) {
      const records = queue.records.splice(0, countUpTo(queue.records, this.batchBytes));
      for (const pending of records) queue.bytes -= pending.size;
      const state = queue.topic;
      if (state.sticky === queue.partition)
        state.sticky = randomPartition(state.partitionCount, queue.partition);
      try {
        return { records, body: encodeRecordBatch(records) };
      } catch (err) {
        // Settled later: settling frees buffer space, which admits records into this very queue.
        const error = asFreshetError(err);
        queueMicrotask(() => this.settle(records, null, error));
      }
    }
    return null;
  }

  /**
   * Sends one batch (and its retries). A retry comes after the batches sent behind it may have gone, so it
   * first waits until every request before it is appended again: after a failover the resent batches reach
   * the new leader in their first order, and records of a later batch never land before those of an
   * earlier one that was lost (a resent batch can still duplicate one whose answer only was lost).
   */
  private async produceBatch(queue: PartitionQueue, batch: SealedBatch): Promise<void> {
    const { topic: state, partition } = queue;
    const pipeline = this.maxInFlight > 1 && this.acks === 'all' ? 'true' : undefined;
    const request = { holding: true };
    queue.requests.push(request);
    const wakeTurns = () => {
      for (const wake of queue.turnWaiters.splice(0)) wake();
    };
    const appended = () => {
      if (!request.holding) return;
      request.holding = false;
      wakeTurns();
      this.dispatch(queue);
    };
    const before = queue.settled;
    let settledNow!: () => void;
    queue.settled = new Promise((resolve) => {
      settledNow = resolve;
    });
    let answer: RangeAnswer | undefined;
    let error: FreshetError | null = null;
    try {
      answer = await withRetries(
        this.retry,
        async (attempt) => {
          for (let moved = false; ; moved = true) {
            // A resend holds the next batches back again, and waits for its turn.
            request.holding = true;
            if (attempt > 0 || moved) await this.turn(queue, request);
            try {
              return await this.http.request<RangeAnswer | undefined>(
                'POST',
                `${topicPath(state.name)}/records`,
                {
                  query: { partition, acks: this.acks, answer: 'range', pipeline },
                  rawBody: batch.body,
                  contentType: RECORD_BATCH,
                  route: { topic: state.name, partition },
                  onHeaders: appended,
                  followLeader: false,
                },
              );
            } catch (err) {
              // Leadership moved: on to the new leader (looked up afresh) at once, once, in turn.
              const notLeader = err instanceof FreshetError && err.code === 'NOT_LEADER_OR_FOLLOWER';
              if (!notLeader || moved) throw err;
            }
          }
        },
        {
          onRetry: (err) => {
            if (err.code === 'UNKNOWN_TOPIC_OR_PARTITION') state.fetchedAt = 0;
          },
        },
      );
    } catch (err) {
      error = asFreshetError(err);
      // The topic may be gone (deleted, or recreated smaller): the next records look it up afresh.
      if (error.code === 'UNKNOWN_TOPIC_OR_PARTITION' && state.phase === 'ready') state.phase = 'unknown';
    }
    // The next batch leaves before this one's records are settled.
    queue.requests.splice(queue.requests.indexOf(request), 1);
    wakeTurns();
    this.dispatch(queue);
    await before;
    try {
      this.settleBatch(batch, partition, state.name, answer, error);
    } finally {
      settledNow();
    }
  }

  /** Resolves once no request sent before `request` is waiting to be appended. */
  private async turn(queue: PartitionQueue, request: { holding: boolean }): Promise<void> {
    for (;;) {
      const earlier = queue.requests.slice(0, queue.requests.indexOf(request));
      if (!earlier.some((r) => r.holding)) return;
      await new Promise<void>((resolve) => queue.turnWaiters.push(resolve));
    }
  }

  private settleBatch(
    batch: SealedBatch,
    partition: number,
    topic: string,
    answer: RangeAnswer | undefined,
    error: FreshetError | null,
  ): void {
    if (error !== null) {
      this.settle(batch.records, null, error);
      return;
    }
    const baseOffset = answer?.baseOffset;
    if (typeof baseOffset === 'number') {
      const answered = answer!.partition ?? partition;
      this.settle(batch.records, (i) => ({ topic, partition: answered, offset: baseOffset + i }));
      return;
    }
    // acks=0 (`{}`), or a broker that answers a result per record.
    const results = answer?.results;
    this.settle(batch.records, (i) => ({
      topic,
      partition: results?.[i]?.partition ?? partition,
      offset: results?.[i]?.offset ?? -1,
    }));
  }
}

/** Rejects a group once, with its first failure; its other records settle without effect. */
function failGroup(group: SendGroup, err: FreshetError): void {
  if (group.failed) return;
  group.failed = true;
  group.reject(err);
}

/** Normalises and checks one record; throws (INVALID_RECORD, INVALID_TIMESTAMP, ...) for what cannot be sent. */
function prepare(topic: string, record: ProducerRecord, generation: Generation): PendingRecord {
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
    // No array for the usual record without headers: encodeRecordBatch takes undefined as none.
    headers = record.headers === undefined ? undefined : toHeaders(record.headers);
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
  if (headers !== undefined) {
    for (const header of headers) size += header.key.length * 3 + (header.value?.length ?? 0) + 2;
  }
  const now = Date.now();
  return {
    key,
    value,
    headers,
    timestamp: time ?? now,
    topic,
    partition,
    size,
    enqueuedAt: now,
    generation,
    resolve: null,
    reject: null,
    group: null,
    index: 0,
  };
}

/** How many leading records add up to at most `bytes`; always at least one. */
function countUpTo(records: PendingRecord[], bytes: number): number {
  let total = 0;
  let count = 0;
  while (count < records.length) {
    total += records[count]!.size;
    if (count > 0 && total > bytes) break;
    count++;
  }
  return count;
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
