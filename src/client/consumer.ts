/**
 * @module
 * `Consumer`: reads partitions the caller assigns (assign: it says which and where to start), or that a
 * consumer group gives it (subscribe: group-member.ts runs the membership and drives the same fetchers,
 * starting each partition at the group's committed offset, else per `autoOffsetReset`).
 *
 * Each assigned partition has a fetch loop that long-polls `GET .../partitions/{p}/records` from its fetch
 * offset for raw RecordBatch v2 bytes (`Accept: application/vnd.kafka.recordbatch`), decodes them here
 * (keys, values and header values are views into the answer's bytes, not copies) and parks the records in
 * the partition's buffer. A compressed batch cannot be decoded here (the client carries no codecs): that
 * range is fetched again decoded by the broker (msgpack). CRCs are not checked unless `checkCrcs`. While
 * poll() drains one answer the loop fetches the next (so the broker works while the application does), and
 * then waits: memory stays within two answers (`maxPartitionFetchBytes` each) per partition. `poll()`
 * takes records from the buffers round-robin and waits up to `maxWaitMs` when all are empty. `seek()`
 * bumps the partition's epoch and aborts its fetch, so answers for an old position are dropped.
 * OFFSET_OUT_OF_RANGE resets the position per `autoOffsetReset`, or (with 'none') is thrown by
 * the next poll and stalls the partition until `seek()`. Other errors are retried with backoff; poll
 * throws the ones that are not retriable, and retriable ones once `retries` attempts in a row failed.
 * In a cluster, fetches and offset look-ups go to the partition's leader and follow it when it moves
 * (router.ts).
 */
import {
  BATCH_HEADER_SIZE,
  batchSizeAt,
  CompressionType,
  compressionOf,
  lastOffsetOf,
  readBatchHeader,
} from '../records/batch-header.ts';
import { decodeRecordBatch } from '../records/record-batch.ts';
import { offsetQuery } from './admin.ts';
import { fromWireBytes, MSGPACK, RECORD_BATCH } from './codec.ts';
import { asFreshetError, closedError, FreshetError } from './errors.ts';
import {
  type GroupHost,
  GroupMember,
  type GroupMetadata,
  keyOf,
  type SubscribeOptions,
  type TopicPartition,
} from './group-member.ts';
import {
  backoffMs,
  DEFAULT_RETRY_POLICY,
  HttpClient,
  type HttpOptions,
  type RetryPolicy,
  sleep,
  topicPath,
} from './http.ts';
import type { ConsumerRecord, OffsetAnswer, OffsetCommit } from './types.ts';

export type AutoOffsetReset = 'earliest' | 'latest' | 'none';
export type StartOffset = number | 'earliest' | 'latest';

export interface ConsumerOptions extends HttpOptions, Partial<RetryPolicy> {
  /** Share one HttpClient between clients; its options then win over url/fetch/headers here. */
  http?: HttpClient;
  /** Where to start when assign() gives no offset, or the position falls out of the log; default 'latest'. */
  autoOffsetReset?: AutoOffsetReset;
  /** How long one fetch waits on the broker for records (long-poll); default 1000 ms. */
  fetchMaxWaitMs?: number;
  /** The broker answers a long-poll early once this many bytes are there; default 1. */
  fetchMinBytes?: number;
  /** Bytes per partition per fetch; default 1 MiB. */
  maxPartitionFetchBytes?: number;
  /** Records one poll() returns at most; default 500. */
  maxPollRecords?: number;
  /** How long each step of the async iterator waits before checking for close(); default 1000 ms. */
  iteratorWaitMs?: number;
  /**
   * Check the CRC-32C of every fetched batch; default false. The broker checked every batch's CRC when it
   * was appended, so this only catches damage after that (on disk, or in transit where TCP's own checksum
   * missed it), at the cost of a pass over every byte fetched.
   */
  checkCrcs?: boolean;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** Default: `autoOffsetReset`. */
  offset?: StartOffset;
}

export interface PollOptions {
  /** Longest wait for records when none are buffered; default 1000 ms (0: return at once). */
  maxWaitMs?: number;
  maxRecords?: number;
}

const MAX_QUEUED_ERRORS = 16;
/** Raw batches; an error answer then comes in msgpack. */
const RAW_ACCEPT = `${RECORD_BATCH}, ${MSGPACK}`;

interface WireRecord {
  offset: number;
  timestamp: number;
  key: unknown;
  value: unknown;
  headers?: unknown;
}

/** A decoded fetch answer (msgpack). */
interface FetchAnswer {
  records?: WireRecord[];
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
}

interface PartitionFetcher {
  topic: string;
  partition: number;
  /** Next offset poll() hands out; null while a reset (`pendingReset`) is being resolved. */
  position: number | null;
  /** Next offset to fetch: position plus what the buffer holds (and any gap the broker skipped). */
  fetchOffset: number | null;
  pendingReset: 'earliest' | 'latest' | null;
  buffer: ConsumerRecord[];
  head: number;
  /** The answer fetched while `buffer` was being drained; it becomes the buffer next. */
  prefetched: ConsumerRecord[] | null;
  paused: boolean;
  /** Bumped by seek, unassign and close: an answer from an older epoch is dropped. */
  epoch: number;
  controller: AbortController | null;
  /** Set by OFFSET_OUT_OF_RANGE with autoOffsetReset 'none': no fetching until seek(). */
  stalled: boolean;
  assigned: boolean;
  failures: number;
  highWatermark: number;
  wake: (() => void) | null;
}

export class Consumer implements AsyncIterable<ConsumerRecord> {
  readonly http: HttpClient;
  private readonly autoOffsetReset: AutoOffsetReset;
  private readonly fetchMaxWaitMs: number;
  private readonly fetchMinBytes: number;
  private readonly maxPartitionFetchBytes: number;
  private readonly maxPollRecords: number;
  private readonly iteratorWaitMs: number;
  private readonly checkCrcs: boolean;
  private readonly retry: RetryPolicy;
  private readonly fetchers = new Map<string, PartitionFetcher>();
  private readonly loops = new Set<Promise<void>>();
  private readonly errors: FreshetError[] = [];
  private dataWaiters: Array<() => void> = [];
  private nextStart = 0;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Set by subscribe(); assign() and subscribe() exclude each other. */
  private member: GroupMember | null = null;
  private manual = false;

  constructor(options: ConsumerOptions = {}) {
    this.http = options.http ?? new HttpClient(options);
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest';
    this.fetchMaxWaitMs = options.fetchMaxWaitMs ?? 1000;
    this.fetchMinBytes = options.fetchMinBytes ?? 1;
    this.maxPartitionFetchBytes = options.maxPartitionFetchBytes ?? 1024 * 1024;
    this.maxPollRecords = options.maxPollRecords ?? 500;
    this.iteratorWaitMs = options.iteratorWaitMs ?? 1000;
    this.checkCrcs = options.checkCrcs ?? false;
    this.retry = {
      retries: options.retries ?? DEFAULT_RETRY_POLICY.retries,
      retryBackoffMs: options.retryBackoffMs ?? DEFAULT_RETRY_POLICY.retryBackoffMs,
      maxRetryBackoffMs: options.maxRetryBackoffMs ?? DEFAULT_RETRY_POLICY.maxRetryBackoffMs,
    };
  }

  /**
   * Replaces the assignment. Partitions kept from the previous one keep their position unless an offset is
   * given; new ones start at `offset`, else per `autoOffsetReset`.
   */
  assign(partitions: TopicPartitionOffset[]): void {
    if (this.closed) throw closedError('consumer');
    if (this.member !== null) {
      throw new FreshetError(
        'INVALID_REQUEST',
        'assign() and subscribe() are exclusive: unsubscribe() first',
      );
    }
    const wanted = new Map<string, TopicPartitionOffset>();
    for (const entry of partitions) {
      if (!Number.isSafeInteger(entry.partition) || entry.partition < 0) {
        throw new FreshetError(
          'UNKNOWN_TOPIC_OR_PARTITION',
          `partition must be an integer >= 0, got ${entry.partition}`,
        );
      }
      if (entry.offset === undefined && this.autoOffsetReset === 'none') {
        throw new FreshetError(
          'INVALID_REQUEST',
          `no offset given for ${entry.topic}/${entry.partition} and autoOffsetReset is 'none'`,
        );
      }
      if (entry.offset !== undefined) checkStart(entry.offset);
      wanted.set(keyOf(entry.topic, entry.partition), entry);
    }
    for (const [key, fetcher] of this.fetchers) {
      if (wanted.has(key)) continue;
      this.stop(fetcher);
      this.fetchers.delete(key);
    }
    this.manual = wanted.size > 0;
    for (const [key, entry] of wanted) {
      const existing = this.fetchers.get(key);
      if (existing !== undefined) {
        if (entry.offset !== undefined) this.seek(entry.topic, entry.partition, entry.offset);
        continue;
      }
      this.startFetcher(entry.topic, entry.partition, entry.offset ?? null);
    }
  }

  /**
   * Joins consumer group `options.groupId` for `topics`: the group's coordinator assigns the partitions
   * (onAssigned/onRevoked/onLost tell which) and the consumer fetches them from the group's committed
   * offsets. Calling it again with the same group changes the topics (the other options stay). Exclusive
   * with assign(). Errors of the membership (FENCED_INSTANCE_ID, a callback that threw) come from poll().
   */
  subscribe(topics: string[], options: SubscribeOptions): void {
    if (this.closed) throw closedError('consumer');
    if (this.manual) {
      throw new FreshetError('INVALID_REQUEST', 'assign() and subscribe() are exclusive: assign([]) first');
    }
    if (this.member !== null) {
      if (this.member.groupId !== options.groupId) {
        throw new FreshetError(
          'INVALID_REQUEST',
          `already in group ${this.member.groupId}: unsubscribe() before joining ${options.groupId}`,
        );
      }
      this.member.subscribe(topics);
      return;
    }
    const member = new GroupMember({
      http: this.http,
      retry: this.retry,
      topics,
      options,
      host: this.groupHost(),
    });
    this.member = member;
    member.start();
  }

  /** Leaves the group (committing first with autoCommit, and revoking); assign() or subscribe() may follow. */
  async unsubscribe(): Promise<void> {
    const member = this.member;
    if (member !== null) {
      await member.close();
      if (this.member === member) this.member = null;
    }
    if (this.manual && !this.closed) this.assign([]);
  }

  /**
   * Commits offsets for the group: `offsets`, or the position of every assigned partition (the next offset
   * poll() hands out, so only records already handed to the application count as done). Throws the broker's
   * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID or REBALANCE_IN_PROGRESS when the member's generation is over.
   */
  async commit(offsets?: OffsetCommit[]): Promise<void> {
    // While close() revokes, onRevoked may still commit: the member says when it is over.
    if (this.closed && this.member === null) throw closedError('consumer');
    await this.groupMember('commit').commit(offsets);
  }

  /** The group's committed offset for a partition; null when nothing was committed. */
  committed(topic: string, partition: number): Promise<number | null> {
    if (this.closed) return Promise.reject(closedError('consumer'));
    return this.groupMember('committed').committed(topic, partition);
  }

  /** The member's group, id, generation and assignor; null when not subscribed. */
  groupMetadata(): GroupMetadata | null {
    return this.member?.metadata() ?? null;
  }

  private groupMember(what: string): GroupMember {
    if (this.member === null) throw new FreshetError('INVALID_REQUEST', `${what}() needs subscribe() first`);
    return this.member;
  }

  /** How the group member starts, stops and reads this consumer's partitions. */
  private groupHost(): GroupHost {
    const each = (partitions: TopicPartition[], fn: (fetcher: PartitionFetcher, key: string) => void) => {
      for (const { topic, partition } of partitions) {
        const key = keyOf(topic, partition);
        const fetcher = this.fetchers.get(key);
        if (fetcher !== undefined) fn(fetcher, key);
      }
    };
    return {
      start: (partitions) => {
        for (const { topic, partition, offset } of partitions) {
          if (!this.fetchers.has(keyOf(topic, partition))) this.startFetcher(topic, partition, offset);
        }
      },
      freeze: (partitions) =>
        each(partitions, (fetcher) => {
          this.stop(fetcher);
          fetcher.buffer = [];
          fetcher.head = 0;
          fetcher.prefetched = null;
        }),
      drop: (partitions) =>
        each(partitions, (fetcher, key) => {
          this.stop(fetcher);
          this.fetchers.delete(key);
        }),
      position: (topic, partition) => this.fetchers.get(keyOf(topic, partition))?.position ?? null,
      report: (err) => this.pushError(err),
    };
  }

  /**
   * Starts a partition's fetch loop at `offset`, or per autoOffsetReset when null; with 'none' it stalls
   * until seek() and the next poll() throws OFFSET_OUT_OF_RANGE.
   */
  private startFetcher(topic: string, partition: number, offset: StartOffset | null): void {
    const fetcher: PartitionFetcher = {
      topic,
      partition,
      position: null,
      fetchOffset: null,
      pendingReset: null,
      buffer: [],
      head: 0,
      prefetched: null,
      paused: false,
      epoch: 0,
      controller: null,
      stalled: false,
      assigned: true,
      failures: 0,
      highWatermark: -1,
      wake: null,
    };
    if (offset === null && this.autoOffsetReset === 'none') {
      fetcher.stalled = true;
      this.fail(
        fetcher,
        new FreshetError('OFFSET_OUT_OF_RANGE', "no committed offset, and autoOffsetReset is 'none'"),
      );
    } else {
      setStart(fetcher, offset ?? (this.autoOffsetReset as 'earliest' | 'latest'));
    }
    this.fetchers.set(keyOf(topic, partition), fetcher);
    const loop = this.run(fetcher);
    this.loops.add(loop);
    void loop.finally(() => this.loops.delete(loop));
  }

  assignment(): Array<{ topic: string; partition: number }> {
    return [...this.fetchers.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Moves a partition's position; buffered records and a fetch in flight for the old position are dropped. */
  seek(topic: string, partition: number, offset: StartOffset): void {
    const fetcher = this.fetcher(topic, partition);
    checkStart(offset);
    fetcher.epoch++;
    fetcher.controller?.abort();
    fetcher.buffer = [];
    fetcher.head = 0;
    fetcher.prefetched = null;
    fetcher.stalled = false;
    fetcher.failures = 0;
    setStart(fetcher, offset);
    fetcher.wake?.();
  }

  /** The next offset poll() will return for the partition; null while an earliest/latest reset is pending. */
  position(topic: string, partition: number): number | null {
    return this.fetcher(topic, partition).position;
  }

  /** The partition's high watermark as of its last fetch (-1 before the first). */
  highWatermark(topic: string, partition: number): number {
    return this.fetcher(topic, partition).highWatermark;
  }

  /** Stops returning (and fetching) records of the partition until resume(); its position is kept. */
  pause(topic: string, partition: number): void {
    this.fetcher(topic, partition).paused = true;
  }

  resume(topic: string, partition: number): void {
    const fetcher = this.fetcher(topic, partition);
    fetcher.paused = false;
    fetcher.wake?.();
    this.notify();
  }

  paused(): Array<{ topic: string; partition: number }> {
    return [...this.fetchers.values()]
      .filter((f) => f.paused)
      .map(({ topic, partition }) => ({ topic, partition }));
  }

  /**
   * Records from the assigned, unpaused partitions, in offset order per partition; waits up to `maxWaitMs`
   * when none are buffered. Returns [] on timeout or once closed; throws a partition's error once.
   */
  async poll(options: PollOptions = {}): Promise<ConsumerRecord[]> {
    const maxWaitMs = options.maxWaitMs ?? 1000;
    const maxRecords = Math.max(1, options.maxRecords ?? this.maxPollRecords);
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      if (this.closed) return [];
      const error = this.errors.shift();
      if (error !== undefined) throw error;
      const records = this.take(maxRecords);
      if (records.length > 0) return records;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.waitForData(left);
    }
  }

  /** Yields records one by one until close(); a `break` leaves the consumer open (call close()). */
  async *[Symbol.asyncIterator](): AsyncIterator<ConsumerRecord> {
    while (!this.closed) {
      const [record] = await this.poll({ maxWaitMs: this.iteratorWaitMs, maxRecords: 1 });
      if (record !== undefined) yield record;
    }
  }

  /**
   * Stops every fetch loop; pending polls return [] and iterators end. A group member first commits (with
   * autoCommit), revokes and leaves the group (static members do not leave); each of those requests is
   * bounded by the session timeout, so a broker that is gone cannot hold close() up.
   */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    this.notify();
    await this.member?.close();
    for (const fetcher of this.fetchers.values()) this.stop(fetcher);
    await Promise.allSettled([...this.loops]);
  }

  private fetcher(topic: string, partition: number): PartitionFetcher {
    const fetcher = this.fetchers.get(keyOf(topic, partition));
    if (fetcher === undefined) {
      throw new FreshetError('INVALID_REQUEST', `${topic}/${partition} is not assigned to this consumer`);
    }
    return fetcher;
  }

  private stop(fetcher: PartitionFetcher): void {
    fetcher.assigned = false;
    fetcher.epoch++;
    fetcher.controller?.abort();
    fetcher.wake?.();
  }

  /** Up to `max` buffered records, round-robin over the partitions so that one busy partition cannot starve the rest. */
  private take(max: number): ConsumerRecord[] {
    const fetchers = [...this.fetchers.values()];
    const out: ConsumerRecord[] = [];
    const count = fetchers.length;
    for (let i = 0; i < count && out.length < max; i++) {
      const fetcher = fetchers[(this.nextStart + i) % count]!;
      if (!fetcher.assigned || fetcher.paused || fetcher.head >= fetcher.buffer.length) continue;
      const end = Math.min(fetcher.buffer.length, fetcher.head + (max - out.length));
      for (let j = fetcher.head; j < end; j++) out.push(fetcher.buffer[j]!);
      fetcher.head = end;
      if (end >= fetcher.buffer.length) {
        fetcher.buffer = fetcher.prefetched ?? [];
        fetcher.prefetched = null;
        fetcher.head = 0;
        fetcher.position = fetcher.buffer.length > 0 ? fetcher.buffer[0]!.offset : fetcher.fetchOffset;
        fetcher.wake?.();
      } else {
        fetcher.position = fetcher.buffer[end]!.offset;
      }
    }
    this.nextStart = count === 0 ? 0 : (this.nextStart + 1) % count;
    return out;
  }

  private waitForData(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.dataWaiters = this.dataWaiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.dataWaiters.push(done);
    });
  }

  private notify(): void {
    const waiters = this.dataWaiters;
    this.dataWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private fail(fetcher: PartitionFetcher, err: FreshetError): void {
    this.pushError(
      new FreshetError(err.code, `${fetcher.topic}/${fetcher.partition}: ${err.message}`, {
        status: err.status,
        retriable: err.retriable,
        retryAfterMs: err.retryAfterMs,
        cause: err,
      }),
    );
  }

  /** Queues an error for the next poll(). */
  private pushError(err: FreshetError): void {
    // Nobody may be polling: keep the latest few errors, not all of them.
    if (this.errors.length >= MAX_QUEUED_ERRORS) this.errors.shift();
    this.errors.push(err);
    this.notify();
  }

  /** Resolves when the fetcher has something to do: its buffer drained, a seek, resume or close. */
  private idle(fetcher: PartitionFetcher): Promise<void> {
    return new Promise((resolve) => {
      fetcher.wake = () => {
        fetcher.wake = null;
        resolve();
      };
    });
  }

  private async run(fetcher: PartitionFetcher): Promise<void> {
    while (fetcher.assigned && !this.closed) {
      if (fetcher.paused || fetcher.stalled || fetcher.prefetched !== null) {
        await this.idle(fetcher);
        continue;
      }
      const epoch = fetcher.epoch;
      const controller = new AbortController();
      fetcher.controller = controller;
      try {
        if (fetcher.pendingReset !== null) await this.reset(fetcher, epoch, controller.signal);
        else await this.fetchOnce(fetcher, epoch, controller.signal);
        if (fetcher.epoch === epoch) fetcher.failures = 0;
      } catch (err) {
        if (fetcher.epoch !== epoch || controller.signal.aborted) continue;
        await this.handleError(fetcher, asFreshetError(err), controller.signal);
      } finally {
        if (fetcher.controller === controller) fetcher.controller = null;
      }
    }
  }

  private async reset(fetcher: PartitionFetcher, epoch: number, signal: AbortSignal): Promise<void> {
    const spec = fetcher.pendingReset!;
    const answer = await this.http.request<OffsetAnswer>(
      'GET',
      `${topicPath(fetcher.topic)}/partitions/${fetcher.partition}/offsets`,
      { query: { at: offsetQuery(spec) }, signal, route: routeOf(fetcher) },
    );
    if (fetcher.epoch !== epoch) return;
    fetcher.pendingReset = null;
    fetcher.position = answer.offset;
    fetcher.fetchOffset = answer.offset;
  }

  /** Fetches raw batches from the partition's fetch offset and decodes them into the buffer. */
  private async fetchOnce(fetcher: PartitionFetcher, epoch: number, signal: AbortSignal): Promise<void> {
    const offset = fetcher.fetchOffset!;
    const { body, headers } = await this.http.exchange('GET', recordsPath(fetcher), {
      query: {
        offset,
        maxBytes: this.maxPartitionFetchBytes,
        maxWaitMs: this.fetchMaxWaitMs,
        minBytes: this.fetchMinBytes,
      },
      accept: RAW_ACCEPT,
      timeoutMs: this.fetchMaxWaitMs + this.http.requestTimeoutMs,
      signal,
      route: routeOf(fetcher),
    });
    if (fetcher.epoch !== epoch) return;
    const { topic, partition } = fetcher;
    const verifyCrc = this.checkCrcs;
    const records: ConsumerRecord[] = [];
    /** The offset after the last batch taken from the answer. */
    let end = offset;
    let pos = 0;
    let complete = true;
    while (pos < body.length) {
      const size = batchSizeAt(body, pos);
      if (size < BATCH_HEADER_SIZE || size > body.length - pos) {
        // The broker sends whole batches; anything else is damage, and reading on would skip records.
        if (pos === 0)
          throw new FreshetError('CORRUPT_MESSAGE', `${topic}/${partition}@${offset}: a truncated batch`);
        complete = false;
        break;
      }
      const header = readBatchHeader(body, pos);
      if (compressionOf(header.attributes) !== CompressionType.None) {
        const run = compressedRun(body, pos);
        const from = Math.max(offset, header.baseOffset);
        const answer = await this.fetchDecoded(fetcher, from, run.bytes, signal);
        if (fetcher.epoch !== epoch) return;
        for (const raw of answer.records ?? []) {
          if (raw.offset >= from && raw.offset < run.nextOffset) records.push(fromWire(fetcher, raw));
        }
        if (answer.nextOffset < run.nextOffset) {
          // Fewer than the raw answer held (retention, a smaller limit): go on from where it stopped.
          end = Math.max(end, answer.nextOffset);
          complete = false;
          break;
        }
        end = Math.max(end, run.nextOffset);
        pos = run.end;
        continue;
      }
      const batch = decodeRecordBatch(body, pos, { verifyCrc });
      for (const record of batch.records) {
        // A batch-aligned answer may start before the offset asked for.
        if (record.offset < offset) continue;
        records.push({
          topic,
          partition,
          offset: record.offset,
          timestamp: record.timestamp,
          key: record.key,
          value: record.value,
          headers: record.headers,
        });
      }
      end = Math.max(end, lastOffsetOf(header) + 1);
      pos += size;
    }
    if (end === offset && records.length === 0 && body.length > 0) {
      // Batches that all end before the offset asked for: fetching again would get the same answer.
      throw new FreshetError(
        'CORRUPT_MESSAGE',
        `${topic}/${partition}@${offset}: the answer holds no record at or after it`,
      );
    }
    const nextOffset = Number(headers.get('freshet-next-offset') ?? Number.NaN);
    // The broker may skip past a gap (compaction, retention) beyond the last batch it sent.
    fetcher.fetchOffset = complete && Number.isSafeInteger(nextOffset) ? Math.max(nextOffset, end) : end;
    const highWatermark = Number(headers.get('freshet-high-watermark') ?? Number.NaN);
    if (Number.isSafeInteger(highWatermark)) fetcher.highWatermark = highWatermark;
    this.deliver(fetcher, records);
  }

  /** The broker's decoded records from `offset`, for batches this client cannot decode (compressed). */
  private async fetchDecoded(
    fetcher: PartitionFetcher,
    offset: number,
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<FetchAnswer> {
    return this.http.request<FetchAnswer>('GET', recordsPath(fetcher), {
      query: { offset, maxBytes: Math.max(1, maxBytes), maxWaitMs: 0 },
      signal,
      route: routeOf(fetcher),
    });
  }

  /** Puts fetched records in the buffer, or aside as the next answer while the buffer drains. */
  private deliver(fetcher: PartitionFetcher, records: ConsumerRecord[]): void {
    const draining = fetcher.head < fetcher.buffer.length;
    if (records.length === 0) {
      if (!draining) fetcher.position = fetcher.fetchOffset;
      return;
    }
    if (draining) {
      fetcher.prefetched = records;
      return;
    }
    fetcher.buffer = records;
    fetcher.head = 0;
    fetcher.position = records[0]!.offset;
    this.notify();
  }

  private async handleError(
    fetcher: PartitionFetcher,
    err: FreshetError,
    signal: AbortSignal,
  ): Promise<void> {
    if (err.code === 'OFFSET_OUT_OF_RANGE') {
      if (this.autoOffsetReset === 'none') {
        fetcher.stalled = true;
        this.fail(fetcher, err);
      } else {
        fetcher.pendingReset = this.autoOffsetReset;
        fetcher.position = null;
      }
      return;
    }
    fetcher.failures++;
    if (!err.retriable || fetcher.failures === this.retry.retries + 1) this.fail(fetcher, err);
    await sleep(backoffMs(Math.min(fetcher.failures - 1, 10), this.retry, err), signal);
  }
}

/** Fetches and offset look-ups of a partition go to its leader (router.ts). */
function routeOf(fetcher: PartitionFetcher): { topic: string; partition: number } {
  return { topic: fetcher.topic, partition: fetcher.partition };
}

function recordsPath(fetcher: PartitionFetcher): string {
  return `${topicPath(fetcher.topic)}/partitions/${fetcher.partition}/records`;
}

/**
 * The run of compressed batches starting at `pos`: where it ends in `body`, its bytes, and the offset
 * after its last batch.
 */
function compressedRun(body: Uint8Array, pos: number): { end: number; bytes: number; nextOffset: number } {
  let end = pos;
  let nextOffset = 0;
  while (end < body.length) {
    const size = batchSizeAt(body, end);
    if (size < BATCH_HEADER_SIZE || size > body.length - end) break;
    const header = readBatchHeader(body, end);
    if (compressionOf(header.attributes) === CompressionType.None) break;
    nextOffset = lastOffsetOf(header) + 1;
    end += size;
  }
  return { end, bytes: end - pos, nextOffset };
}

/** A record of a decoded (msgpack) fetch answer. */
function fromWire(fetcher: PartitionFetcher, raw: WireRecord): ConsumerRecord {
  return {
    topic: fetcher.topic,
    partition: fetcher.partition,
    offset: raw.offset,
    timestamp: raw.timestamp,
    key: fromWireBytes(raw.key),
    value: fromWireBytes(raw.value),
    headers: Array.isArray(raw.headers)
      ? raw.headers.map((h: { key: unknown; value: unknown }) => ({
          key: String(h.key),
          value: fromWireBytes(h.value),
        }))
      : [],
  };
}

function setStart(fetcher: PartitionFetcher, offset: StartOffset): void {
  if (offset === 'earliest' || offset === 'latest') {
    fetcher.pendingReset = offset;
    fetcher.position = null;
    fetcher.fetchOffset = null;
    return;
  }
  fetcher.pendingReset = null;
  fetcher.position = offset;
  fetcher.fetchOffset = offset;
}

function checkStart(offset: StartOffset): void {
  if (offset === 'earliest' || offset === 'latest') return;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new FreshetError(
      'INVALID_REQUEST',
      `offset must be an integer >= 0, earliest or latest, got ${offset}`,
    );
  }
}
