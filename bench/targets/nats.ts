/** @module NATS JetStream as a peer of the comparative bench: a `nats-server -js` child process per run, driven by @nats-io/transport-node and @nats-io/jetstream (one subject per partition). */
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  StorageType,
} from '@nats-io/jetstream';
import { connect, createInbox, type NatsConnection } from '@nats-io/transport-node';
import {
  DRAIN_MS,
  explainFailure,
  freePort,
  nowMs,
  offerAtRate,
  type PeerProcess,
  randomAsciiValues,
  STALL_MS,
  STAMP_BYTES,
  shareOf,
  sleep,
  spawnPeer,
  stampText,
  tcpProbe,
  versionOf,
  waitUntilReady,
  withTimeout,
} from './redis.ts';
import type {
  ConsumeOutcome,
  Durability,
  ProduceOutcome,
  ProduceSpec,
  Target,
  TargetOptions,
} from './target.ts';

/*
 * What is measured, and how (the process handling and the fairness choices are those of redis.ts):
 *
 * - One `nats-server -js` per start(), on 127.0.0.1 and a free port, JetStream's files in the suite's temp
 *   dir, no monitoring port. Stopped by PID: SIGTERM, SIGKILL after 5 s.
 * - One JetStream stream `<stream>` with file storage, one replica, subjects `<stream>.*`; a partition is the
 *   subject `<stream>.<p>`.
 * - Durability: nats-server 2.9 (Debian's) acknowledges a publish once its file store has taken the message,
 *   without an fsync: it syncs its files every 2 minutes and has no per-write fsync (`sync_interval: always`
 *   came in 2.10). So it runs only in the 'os-cache' class.
 * - produce: each producer has its own connection and publishes asynchronously (AsyncPublisher, below: the
 *   Go client's PublishAsync over core NATS) with at most ACK_WINDOW acks pending, round-robin over the
 *   partitions' subjects; every ack is checked; the clock runs from the first publish to the last ack.
 * - consume: a pull consumer on the whole stream (no acks, from the first message), `consume()` pulling
 *   batches of CONSUME_BATCH messages; `raw` is the same read.
 * - latency: a pull consumer on `<stream>.0` long-polls while a producer connection publishes at the
 *   offered rate (acks not awaited one by one); the send time is the first 20 bytes of the value.
 * - Values: the same printable-ASCII random values as Redis gets (see redis.ts), as bytes.
 */

/** Publishes a producer may have unacknowledged at once. */
const ACK_WINDOW = 2_000;
/** Messages per pull of the consumers. */
const CONSUME_BATCH = 10_000;
const LATENCY_BATCH = 1_000;
/** How long a pull request waits for messages (the long poll). */
const PULL_EXPIRES_MS = 5_000;

const subjectOf = (stream: string, partition: number) => `${stream}.${partition}`;

export class NatsTarget implements Target {
  readonly name = 'nats';
  private server: PeerProcess | null = null;
  private port = 0;
  /** The admin connection, open from start() to stop(). */
  private admin: NatsConnection | null = null;
  private jsm: JetStreamManager | null = null;
  private version: string | null = null;
  private consumerSerial = 0;

  describe(): string {
    this.version ??= versionOf('nats-server', ['--version'])?.match(/v(\d\S*)/)?.[1] ?? '?';
    return (
      `NATS ${this.version} JetStream, file storage, acked without fsync (2.9 has no per-write fsync; ` +
      `files synced every 2 min), @nats-io/transport-node: async publish (PublishAsync-style, ` +
      `${ACK_WINDOW} acks pending), pull consumer batches of ${CONSUME_BATCH}`
    );
  }

  supports(durability: Durability): boolean {
    return durability === 'os-cache';
  }

  async start(options: TargetOptions): Promise<void> {
    if (this.server !== null) throw new Error('nats: already started');
    if (!this.supports(options.durability)) {
      throw new Error(`nats: nats-server 2.9 cannot offer durability '${options.durability}'`);
    }
    this.port = await freePort();
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.port), '-sd', options.dir];
    const server = spawnPeer('nats-server', args, options.dir);
    this.server = server;
    try {
      await waitUntilReady(server, `nats-server on port ${this.port}`, () =>
        tcpProbe(this.port, null, 'INFO '),
      );
      this.admin = await this.connect();
      this.jsm = await jetstreamManager(this.admin, { timeout: STALL_MS });
      const info = await withTimeout(this.jsm.getAccountInfo(), STALL_MS, 'nats: JetStream account info');
      if (info.limits === undefined) throw new Error('nats: JetStream is not enabled');
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  pids(): number[] {
    return this.server?.alive() ? [this.server.pid] : [];
  }

  async create(spec: ProduceSpec): Promise<void> {
    const jsm = this.manager();
    await jsm.streams.delete(spec.stream).catch(() => false);
    await this.addStream(spec.stream);
  }

  async produce(spec: ProduceSpec): Promise<ProduceOutcome> {
    const values = randomAsciiValues(spec.valueBytes).map((v) => Buffer.from(v, 'latin1'));
    const subjects = Array.from({ length: spec.partitions }, (_, p) => subjectOf(spec.stream, p));
    const connections: NatsConnection[] = [];
    const publishers: AsyncPublisher[] = [];
    try {
      for (let i = 0; i < spec.producers; i++) {
        const nc = await this.connect();
        connections.push(nc);
        publishers.push(await AsyncPublisher.open(nc));
      }
      const start = performance.now();
      const counts = await Promise.all(
        publishers.map((publisher, i) =>
          publishWith(publisher, subjects, values, shareOf(spec.records, spec.producers, i), i),
        ),
      );
      const seconds = (performance.now() - start) / 1000;
      const records = counts.reduce((a, b) => a + b, 0);
      return { records, bytes: records * spec.valueBytes, seconds };
    } catch (err) {
      throw await this.explain(err);
    } finally {
      for (const publisher of publishers) publisher.close();
      await closeAll(connections);
    }
  }

  async consume(spec: ProduceSpec, _mode: 'decoded' | 'raw'): Promise<ConsumeOutcome> {
    const jsm = this.manager();
    const nc = await this.connect();
    const name = `bench-consume-${++this.consumerSerial}`;
    try {
      const info = await withTimeout(jsm.streams.info(spec.stream), STALL_MS, 'nats: stream info');
      const expected = info.state.messages;
      if (expected !== spec.records) {
        throw new Error(`nats: ${spec.stream} holds ${expected} messages, ${spec.records} were produced`);
      }
      await jsm.consumers.add(spec.stream, {
        name,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
      });
      const consumer = await jetstream(nc, { timeout: STALL_MS }).consumers.get(spec.stream, name);
      let records = 0;
      let bytes = 0;
      let resolveFinished = () => {};
      let rejectFinished: (err: Error) => void = () => {};
      const finished = new Promise<void>((resolve, reject) => {
        resolveFinished = resolve;
        rejectFinished = reject;
      });
      const start = performance.now();
      const messages = await consumer.consume({
        max_messages: CONSUME_BATCH,
        expires: PULL_EXPIRES_MS,
        callback: (m: JsMsg) => {
          if (m.data.length !== spec.valueBytes) {
            rejectFinished(new Error(`nats: ${m.subject}#${m.seq}: value of ${m.data.length} bytes`));
          }
          bytes += m.data.length;
          if (++records === expected) resolveFinished();
        },
      });
      const watch = watchProgress(
        () => records,
        () => `nats: consumed ${records} of ${expected}`,
      );
      try {
        await Promise.race([finished, watch.stalled, closedAsError(nc)]);
      } finally {
        watch.cancel();
        messages.stop();
      }
      const seconds = (performance.now() - start) / 1000;
      return { records, bytes, seconds };
    } catch (err) {
      throw await this.explain(err);
    } finally {
      await jsm.consumers.delete(spec.stream, name).catch(() => false);
      await closeAll([nc]);
    }
  }

  async latency(
    spec: { stream: string; ratePerSecond: number; seconds: number; valueBytes: number },
    record: (ms: number) => void,
  ): Promise<{ sent: number; received: number }> {
    if (spec.valueBytes < STAMP_BYTES) throw new Error(`latency: values under ${STAMP_BYTES} bytes`);
    const jsm = this.manager();
    const subject = subjectOf(spec.stream, 0);
    const fillers = randomAsciiValues(spec.valueBytes).map((v) => Buffer.from(v, 'latin1'));
    const total = Math.round(spec.ratePerSecond * spec.seconds);
    const name = `bench-latency-${++this.consumerSerial}`;
    const connections: NatsConnection[] = [];
    let publisher: AsyncPublisher | null = null;
    let received = 0;
    try {
      await jsm.streams.delete(spec.stream).catch(() => false);
      await this.addStream(spec.stream);
      await jsm.consumers.add(spec.stream, {
        name,
        ack_policy: AckPolicy.None,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subject,
      });
      const consumerConnection = await this.connect();
      connections.push(consumerConnection);
      const producerConnection = await this.connect();
      connections.push(producerConnection);
      const pub = await AsyncPublisher.open(producerConnection);
      publisher = pub;
      const consumer = await jetstream(consumerConnection).consumers.get(spec.stream, name);
      const messages = await consumer.consume({
        max_messages: LATENCY_BATCH,
        expires: PULL_EXPIRES_MS,
        callback: (m: JsMsg) => {
          const at = nowMs();
          record(at - Number(Buffer.from(m.data.buffer, m.data.byteOffset, STAMP_BYTES).toString('latin1')));
          received++;
        },
      });
      let sent = 0;
      try {
        await offerAtRate(
          total,
          spec.ratePerSecond,
          (i) => {
            const value = Buffer.from(fillers[i % fillers.length]!);
            value.write(stampText(nowMs()), 0, 'latin1');
            pub.publishNow(subject, value);
            sent++;
          },
          () => {
            pub.check();
            if (pub.unacknowledged > spec.ratePerSecond * 5) {
              throw new Error(
                `nats: ${pub.unacknowledged} publishes unacknowledged: not keeping up with the rate`,
              );
            }
          },
        );
        const deadline = performance.now() + DRAIN_MS;
        while (received < sent && performance.now() < deadline) {
          pub.check();
          await sleep(5);
        }
        const acked = await pub.drain();
        if (acked < sent) throw new Error(`nats: ${acked} of ${sent} publishes acknowledged`);
      } finally {
        messages.stop();
      }
      return { sent, received };
    } catch (err) {
      throw await this.explain(err);
    } finally {
      publisher?.close();
      await jsm.consumers.delete(spec.stream, name).catch(() => false);
      await closeAll(connections);
    }
  }

  async stop(): Promise<void> {
    const admin = this.admin;
    const server = this.server;
    this.admin = null;
    this.jsm = null;
    this.server = null;
    if (admin) await closeAll([admin]);
    await server?.stop();
  }

  private manager(): JetStreamManager {
    if (this.jsm === null) throw new Error('nats: not started');
    return this.jsm;
  }

  private async addStream(stream: string): Promise<void> {
    await withTimeout(
      this.manager().streams.add({
        name: stream,
        subjects: [`${stream}.*`],
        storage: StorageType.File,
        num_replicas: 1,
      }),
      STALL_MS,
      `nats: add stream ${stream}`,
    );
  }

  private async connect(): Promise<NatsConnection> {
    if (this.server === null) throw new Error('nats: not started');
    return withTimeout(
      connect({
        servers: `127.0.0.1:${this.port}`,
        reconnect: false,
        timeout: 5_000,
        // Each request would otherwise capture a stack trace for its error, a cost per publish.
        noAsyncTraces: true,
      }),
      STALL_MS,
      'nats: connect',
    );
  }

  /** A failing request after the server died says why it died. */
  private explain(err: unknown): Promise<unknown> {
    return explainFailure(this.server, err);
  }
}

/**
 * A JetStream publisher as the Go client's PublishAsync: core publishes carrying one reply subject (this
 * publisher's inbox), answered by one subscription, with at most ACK_WINDOW unanswered. @nats-io/jetstream's
 * `js.publish()` sends the same bytes but makes a request object, a timer and a promise per message, and
 * that ran about 3x slower than the server (client-bound) here; this is the lightest way to use the
 * protocol from this client. Each answer is checked to be a PubAck (`{"stream":...`), not an error.
 */
class AsyncPublisher {
  private acked = 0;
  private sent = 0;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly watchdog: ReturnType<typeof setInterval>;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly inbox: string,
  ) {
    let last = 0;
    let lastMoved = performance.now();
    this.watchdog = setInterval(() => {
      if (this.acked !== last || this.acked === this.sent) {
        last = this.acked;
        lastMoved = performance.now();
      } else if (performance.now() - lastMoved > STALL_MS) {
        this.fail(new Error(`nats: ${this.sent - this.acked} publishes unacknowledged for ${STALL_MS} ms`));
      }
    }, 1_000);
  }

  /** Subscribes to the inbox and waits until the server has the subscription. */
  static async open(nc: NatsConnection): Promise<AsyncPublisher> {
    const publisher = new AsyncPublisher(nc, createInbox());
    nc.subscribe(publisher.inbox, {
      callback: (err, msg) => {
        if (err) publisher.fail(err);
        else if (!isPubAck(msg.data)) {
          const status = msg.headers ? ` (status ${msg.headers.code} ${msg.headers.description})` : '';
          publisher.fail(new Error(`nats: publish answered ${JSON.stringify(msg.string())}${status}`));
        }
        publisher.acked++;
        publisher.wakeUp();
      },
    });
    nc.closed().then((err) => publisher.fail(err ?? new Error('nats: connection closed')));
    await withTimeout(nc.flush(), STALL_MS, 'nats: flush');
    return publisher;
  }

  get unacknowledged(): number {
    return this.sent - this.acked;
  }

  /** Throws the first failure seen (an error answer, a stall). */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Publishes without waiting for the answer (see `unacknowledged`). */
  publishNow(subject: string, value: Uint8Array): void {
    this.nc.publish(subject, value, { reply: this.inbox });
    this.sent++;
  }

  /** Resolves once fewer than ACK_WINDOW publishes are unacknowledged. */
  async room(): Promise<void> {
    while (this.sent - this.acked >= ACK_WINDOW) await this.waitForAck();
  }

  /** Waits for every answer; returns how many publishes were acknowledged. */
  async drain(): Promise<number> {
    while (this.acked < this.sent) await this.waitForAck();
    this.check();
    return this.acked;
  }

  close(): void {
    clearInterval(this.watchdog);
  }

  private async waitForAck(): Promise<void> {
    this.check();
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.check();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wakeUp();
  }
}

const PUB_ACK_PREFIX = new TextEncoder().encode('{"stream"');

/** A PubAck starts `{"stream"`; an error answer starts `{"error"`, a no-responders status has no body. */
function isPubAck(data: Uint8Array): boolean {
  if (data.length < PUB_ACK_PREFIX.length) return false;
  for (let i = 0; i < PUB_ACK_PREFIX.length; i++) if (data[i] !== PUB_ACK_PREFIX[i]) return false;
  return true;
}

/**
 * One producer: `count` publishes round-robin over `subjects` from `subjects[first % subjects.length]`.
 * Returns how many were acknowledged.
 */
async function publishWith(
  publisher: AsyncPublisher,
  subjects: readonly string[],
  values: readonly Uint8Array[],
  count: number,
  first: number,
): Promise<number> {
  for (let sent = 0; sent < count; sent++) {
    const n = first + sent;
    if (publisher.unacknowledged >= ACK_WINDOW) await publisher.room();
    publisher.publishNow(subjects[n % subjects.length]!, values[n % values.length]!);
  }
  return publisher.drain();
}

/** `stalled` rejects once `progress()` has stood still for STALL_MS (checked every second) until `cancel()`. */
function watchProgress(
  progress: () => number,
  what: () => string,
): { stalled: Promise<never>; cancel(): void } {
  let last = progress();
  let lastMoved = performance.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const now = progress();
      if (now !== last) {
        last = now;
        lastMoved = performance.now();
      } else if (performance.now() - lastMoved > STALL_MS) {
        clearInterval(timer);
        reject(new Error(`${what()}: no progress in ${STALL_MS} ms`));
      }
    }, 1_000);
  });
  stalled.catch(() => {});
  return { stalled, cancel: () => clearInterval(timer) };
}

/** Rejects when `nc` closes (handled already, so a normal close later raises nothing). */
function closedAsError(nc: NatsConnection): Promise<never> {
  const closed = nc.closed().then((err) => {
    throw err ?? new Error('nats: connection closed');
  });
  closed.catch(() => {});
  return closed;
}

async function closeAll(connections: readonly NatsConnection[]): Promise<void> {
  await Promise.all(connections.map((nc) => withTimeout(nc.close(), 5_000, 'nats: close').catch(() => {})));
}
