/** @module Redis Streams as a peer of the comparative bench: a `redis-server` child process per run, driven by Bun's built-in RedisClient (one stream key per partition). */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import type { RedisClient } from 'bun';
import type {
  ConsumeOutcome,
  Durability,
  ProduceOutcome,
  ProduceSpec,
  Target,
  TargetOptions,
} from './target.ts';

/*
 * What is measured, and how (the fairness choices are the same in nats.ts):
 *
 * - One `redis-server` per start(), on 127.0.0.1 and a free port, its files in the suite's temp dir:
 *   AOF on (`appendfsync everysec` for 'os-cache', `always` for 'fsync-always': Redis then fsyncs once per
 *   event-loop turn before answering, i.e. group commit over a pipelined batch), no RDB snapshots, and no
 *   automatic AOF rewrite: a log broker appends and never rewrites, and a rewrite's fork would land on the
 *   clock at a moment that depends on the volume. Stopped by PID: SIGTERM (Redis' graceful shutdown),
 *   SIGKILL after 5 s.
 * - A partition is one stream key `<stream>-<p>`, an entry has one field `v` holding the value.
 * - produce: each producer has its own connection and sends XADD pipelined in batches of 1,000 (one write
 *   per batch: Bun's auto-pipelining sends commands issued in the same tick together), at most two batches
 *   in flight, so the client builds the next batch while Redis runs the last; records go round-robin over the
 *   partitions. The clock runs from the first XADD to the last reply.
 * - consume: one connection, XREAD COUNT 10,000 over every stream not yet read to its end, each from the
 *   last id it returned (`raw` is the same read: Redis has no cheaper path).
 * - latency: one stream; a producer connection offers the rate (XADD not awaited), a second connection
 *   blocks in XREAD BLOCK; the send time (performance.timeOrigin + performance.now(), the same clock on both
 *   sides as both run in this process) is the first 20 bytes of the value.
 * - Values: a pool of distinct random strings of printable ASCII (0x21-0x7e, about 6.6 bits of entropy a
 *   byte, so no codec gains anything). Not full-range bytes: Bun's RedisClient returns bulk strings decoded
 *   as UTF-8, which would alter them (and their length) on the way back. ASCII travels byte for byte, so the
 *   value bytes counted are the bytes on the wire.
 * - Every wait is bounded: a reply later than STALL_MS throws a clear error instead of hanging the run.
 */

/** XADDs per pipelined batch. */
const PRODUCE_BATCH = 1_000;
/** Pipelined batches a producer has outstanding at once. */
const BATCHES_IN_FLIGHT = 2;
/** Entries per XREAD (per stream). */
const CONSUME_COUNT = 10_000;
/** XREAD BLOCK timeout of the latency consumer, and its COUNT. */
const LATENCY_BLOCK_MS = 100;
const LATENCY_COUNT = 1_000;
/** Longest wait for any one reply (a batch's, a read's) before the run is declared stuck. */
export const STALL_MS = 30_000;
/** After the last send, how long the latency consumer may take to see everything. */
export const DRAIN_MS = 10_000;
const START_TIMEOUT_MS = 15_000;
const KILL_AFTER_MS = 5_000;
const VALUE_POOL = 64;
/** Width of the send-time stamp at the start of a latency record's value. */
export const STAMP_BYTES = 20;

// ------------------------------------------------------------------ helpers shared with nats.ts

/** `binary` is on PATH (the peers are optional: `bench/peers/install.sh` installs them). */
export function isInstalled(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** First line of `binary args` (its version), or null when it does not run. */
export function versionOf(binary: string, args: string[]): string | null {
  try {
    return execFileSync(binary, args, { encoding: 'utf8', timeout: 5_000 }).trim().split('\n')[0] ?? null;
  } catch {
    return null;
  }
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; a race with another process is possible). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port from the OS'));
      });
    });
  });
}

/** `promise`, or an Error(`what: no answer in ms`) if it takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The latency clock: milliseconds since the epoch with sub-millisecond resolution, one clock per process. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** `count` distinct random strings of `bytes` printable ASCII characters (= bytes in UTF-8). */
export function randomAsciiValues(bytes: number, count = VALUE_POOL): string[] {
  const values: string[] = [];
  const chars = new Uint8Array(bytes);
  for (let v = 0; v < count; v++) {
    crypto.getRandomValues(chars);
    for (let i = 0; i < bytes; i++) chars[i] = 0x21 + (chars[i]! % 94);
    values.push(Buffer.from(chars).toString('latin1'));
  }
  return values;
}

/** The send time as STAMP_BYTES ASCII digits (epoch ms with 4 decimals). */
export function stampText(sendMs: number): string {
  return sendMs.toFixed(4).padStart(STAMP_BYTES, '0');
}

/** A latency record's value: the send time in its first STAMP_BYTES bytes, then the rest of `filler`. */
export function stampedValue(sendMs: number, filler: string): string {
  return stampText(sendMs) + filler.slice(STAMP_BYTES);
}

export function stampOf(value: string): number {
  return Number(value.slice(0, STAMP_BYTES));
}

/**
 * The records of producer `index` of `producers`: an even split of `records`, the remainder to the first
 * producers.
 */
export function shareOf(records: number, producers: number, index: number): number {
  return Math.floor(records / producers) + (index < records % producers ? 1 : 0);
}

/**
 * Paces a latency run: calls `send(i)` for every record due by now at `ratePerSecond`, then sleeps until the
 * next is due, for `total` records; `check()` runs between bursts and throws to abort.
 */
export async function offerAtRate(
  total: number,
  ratePerSecond: number,
  send: (i: number) => void,
  check: () => void,
): Promise<void> {
  const start = performance.now();
  const deadline = start + (total / ratePerSecond) * 1000 + STALL_MS;
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    if (now > deadline) throw new Error(`latency: only ${sent} of ${total} records offered in time`);
    const due = Math.min(total, Math.floor(((now - start) * ratePerSecond) / 1000) + 1);
    while (sent < due) send(sent++);
    check();
    const nextAt = start + (sent * 1000) / ratePerSecond;
    await sleep(Math.max(0, nextAt - performance.now()));
  }
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;

/** A server child process, stopped by PID: SIGTERM, SIGKILL after 5 s. */
export interface PeerProcess {
  readonly pid: number;
  alive(): boolean;
  /** Why it is gone, with the end of its output; null while it runs. */
  exitReport(): string | null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Safe to call more than once; resolves once the process has exited. */
  stop(): Promise<void>;
}

/**
 * Spawns `binary args`, keeps the tail of its output for error reports and makes sure it dies with this
 * process (exit, SIGINT, SIGTERM) should stop() never be called.
 */
export function spawnPeer(binary: string, args: string[], cwd: string): PeerProcess {
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`${binary}: ${(err as Error).message} (run bench/peers/install.sh)`);
  }
  let output = '';
  const keep = (chunk: string) => {
    output = (output + chunk).slice(-8_000);
  };
  child.stdout!.setEncoding('utf8').on('data', keep);
  child.stderr!.setEncoding('utf8').on('data', keep);
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const alive = () => spawnError === null && child.exitCode === null && child.signalCode === null;
  const pid = child.pid ?? -1;
  const killNow = () => {
    if (alive() && pid > 0) process.kill(pid, 'SIGKILL');
  };
  const onSignal = (signal: keyof typeof SIGNAL_EXIT_CODES) => {
    killNow();
    process.exit(SIGNAL_EXIT_CODES[signal]);
  };
  process.once('exit', killNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let stopped: Promise<void> | null = null;
  return {
    pid,
    alive,
    exited,
    exitReport: () =>
      alive()
        ? null
        : `${binary} ${spawnError ? `did not start: ${(spawnError as Error).message}` : `exited (code ${child.exitCode}, signal ${child.signalCode})`}: ${output.slice(-3_000)}`,
    stop: () =>
      (stopped ??= (async () => {
        if (alive() && pid > 0) {
          process.kill(pid, 'SIGTERM');
          const timer = setTimeout(() => {
            if (alive()) process.kill(pid, 'SIGKILL');
          }, KILL_AFTER_MS);
          await exited;
          clearTimeout(timer);
        }
        process.removeListener('exit', killNow);
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      })()),
  };
}

/**
 * `err` with the reason the server died appended, if it did: a client sees the connection close before the
 * exit is reported, so this waits up to 500 ms for it.
 */
export async function explainFailure(peer: PeerProcess | null, err: unknown): Promise<unknown> {
  if (peer === null || !(err instanceof Error)) return err;
  await Promise.race([peer.exited, sleep(500)]);
  const report = peer.exitReport();
  if (report !== null) err.message = `${err.message}; ${report}`;
  return err;
}

/**
 * Polls `probe` every 50 ms until it resolves true, the process dies or START_TIMEOUT_MS passes (then
 * throws, with the process's output).
 */
export async function waitUntilReady(
  peer: PeerProcess,
  what: string,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const report = peer.exitReport();
    if (report !== null) throw new Error(report);
    if (await probe().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what} did not answer in ${START_TIMEOUT_MS} ms`);
}

/** Connects to 127.0.0.1:`port`, writes `send` (if any) and resolves true once the reply starts with `expect`. */
export function tcpProbe(port: number, send: string | null, expect: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.length >= expect.length) done(reply.startsWith(expect));
    });
    socket.connect(port, '127.0.0.1', () => {
      if (send !== null) socket.write(send);
    });
  });
}

// ------------------------------------------------------------------ the Redis target

/** A stream entry as Bun's RedisClient (RESP3) returns it: [id, [field, value, ...]]. */
type Entry = [string, string[]];
/** XREAD's reply: stream key → entries, or null when nothing came. */
type XreadReply = Record<string, Entry[]> | null;

const streamKey = (stream: string, partition: number) => `${stream}-${partition}`;

export class RedisTarget implements Target {
  readonly name = 'redis';
  private server: PeerProcess | null = null;
  private port = 0;
  private durability: Durability = 'os-cache';
  private version: string | null = null;

  describe(): string {
    this.version ??= versionOf('redis-server', ['--version'])?.match(/v=(\S+)/)?.[1] ?? '?';
    const fsync = this.durability === 'fsync-always' ? 'always' : 'everysec';
    return (
      `Redis ${this.version} Streams, AOF appendfsync ${fsync} (no RDB, no AOF rewrite), ` +
      `Bun RedisClient: XADD pipelined x${PRODUCE_BATCH} (${BATCHES_IN_FLIGHT} batches in flight), ` +
      `XREAD COUNT ${CONSUME_COUNT}, latency via XREAD BLOCK`
    );
  }

  supports(_durability: Durability): boolean {
    return true;
  }

  async start(options: TargetOptions): Promise<void> {
    if (this.server !== null) throw new Error('redis: already started');
    this.durability = options.durability;
    this.port = await freePort();
    const args = [
      '--bind',
      '127.0.0.1',
      '--port',
      String(this.port),
      '--dir',
      options.dir,
      '--protected-mode',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      options.durability === 'fsync-always' ? 'always' : 'everysec',
      '--auto-aof-rewrite-percentage',
      '0',
    ];
    const server = spawnPeer('redis-server', args, options.dir);
    this.server = server;
    try {
      await waitUntilReady(server, `redis-server on port ${this.port}`, () =>
        tcpProbe(this.port, 'PING\r\n', '+PONG'),
      );
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  pids(): number[] {
    return this.server?.alive() ? [this.server.pid] : [];
  }

  /** Streams come into being with their first XADD; a fresh name must not hold old entries. */
  async create(spec: ProduceSpec): Promise<void> {
    const client = await this.connect();
    try {
      const keys = Array.from({ length: spec.partitions }, (_, p) => streamKey(spec.stream, p));
      await withTimeout(client.send('DEL', keys), STALL_MS, 'redis: DEL');
    } finally {
      client.close();
    }
  }

  async produce(spec: ProduceSpec): Promise<ProduceOutcome> {
    const values = randomAsciiValues(spec.valueBytes);
    const keys = Array.from({ length: spec.partitions }, (_, p) => streamKey(spec.stream, p));
    const clients: RedisClient[] = [];
    try {
      for (let i = 0; i < spec.producers; i++) clients.push(await this.connect());
      const start = performance.now();
      const counts = await Promise.all(
        clients.map((client, i) =>
          produceWith(client, keys, values, shareOf(spec.records, spec.producers, i), i),
        ),
      );
      const seconds = (performance.now() - start) / 1000;
      const records = counts.reduce((a, b) => a + b, 0);
      return { records, bytes: records * spec.valueBytes, seconds };
    } catch (err) {
      throw await this.explain(err);
    } finally {
      for (const client of clients) client.close();
    }
  }

  async consume(spec: ProduceSpec, _mode: 'decoded' | 'raw'): Promise<ConsumeOutcome> {
    const client = await this.connect();
    try {
      const keys = Array.from({ length: spec.partitions }, (_, p) => streamKey(spec.stream, p));
      const lengths = new Map<string, number>();
      for (const key of keys) {
        lengths.set(key, Number(await withTimeout(client.send('XLEN', [key]), STALL_MS, 'redis: XLEN')));
      }
      const expected = [...lengths.values()].reduce((a, b) => a + b, 0);
      const lastIds = new Map(keys.map((key) => [key, '0']));
      const read = new Map(keys.map((key) => [key, 0]));
      let records = 0;
      let bytes = 0;
      // Each XREAD returns at least one entry of every stream not yet finished, so this bounds the loop.
      const maxReads = expected + keys.length + 1;
      const start = performance.now();
      for (let reads = 0; records < expected; reads++) {
        if (reads > maxReads) throw new Error(`redis: ${records} of ${expected} read after ${reads} XREADs`);
        const open = keys.filter((key) => read.get(key)! < lengths.get(key)!);
        const args = [
          'COUNT',
          String(CONSUME_COUNT),
          'STREAMS',
          ...open,
          ...open.map((k) => lastIds.get(k)!),
        ];
        const reply = (await withTimeout(client.send('XREAD', args), STALL_MS, 'redis: XREAD')) as XreadReply;
        if (reply === null) throw new Error(`redis: XREAD returned nothing at ${records} of ${expected}`);
        for (const key of open) {
          const entries = reply[key];
          if (entries === undefined || entries.length === 0) continue;
          for (const entry of entries) {
            const value = entry[1][1];
            if (value?.length !== spec.valueBytes) {
              throw new Error(`redis: ${key} ${entry[0]}: value of ${value?.length} bytes`);
            }
            bytes += value.length;
          }
          records += entries.length;
          read.set(key, read.get(key)! + entries.length);
          lastIds.set(key, entries[entries.length - 1]![0]);
        }
      }
      const seconds = (performance.now() - start) / 1000;
      if (records !== spec.records)
        throw new Error(`redis: read ${records} records, ${spec.records} were produced`);
      return { records, bytes, seconds };
    } catch (err) {
      throw await this.explain(err);
    } finally {
      client.close();
    }
  }

  async latency(
    spec: { stream: string; ratePerSecond: number; seconds: number; valueBytes: number },
    record: (ms: number) => void,
  ): Promise<{ sent: number; received: number }> {
    if (spec.valueBytes < STAMP_BYTES) throw new Error(`latency: values under ${STAMP_BYTES} bytes`);
    const key = streamKey(spec.stream, 0);
    const fillers = randomAsciiValues(spec.valueBytes);
    const total = Math.round(spec.ratePerSecond * spec.seconds);
    const producer = await this.connect();
    const consumer = await this.connect();
    let received = 0;
    let sent = 0;
    let acked = 0;
    let failure: Error | null = null;
    let stopReading = false;
    try {
      await withTimeout(producer.send('DEL', [key]), STALL_MS, 'redis: DEL');
      const reading = (async () => {
        let lastId = '0';
        while (!stopReading && received < total) {
          const reply = (await withTimeout(
            consumer.send('XREAD', [
              'BLOCK',
              String(LATENCY_BLOCK_MS),
              'COUNT',
              String(LATENCY_COUNT),
              'STREAMS',
              key,
              lastId,
            ]),
            STALL_MS,
            'redis: XREAD BLOCK',
          )) as XreadReply;
          const at = nowMs();
          const entries = reply?.[key];
          if (!entries || entries.length === 0) continue;
          for (const entry of entries) record(at - stampOf(entry[1][1]!));
          received += entries.length;
          lastId = entries[entries.length - 1]![0];
        }
      })();
      reading.catch((err: Error) => {
        failure ??= err;
      });
      await offerAtRate(
        total,
        spec.ratePerSecond,
        (i) => {
          sent++;
          producer.send('XADD', [key, '*', 'v', stampedValue(nowMs(), fillers[i % fillers.length]!)]).then(
            () => {
              acked++;
            },
            (err: Error) => {
              failure ??= err;
            },
          );
        },
        () => {
          if (failure) throw failure;
          if (sent - acked > spec.ratePerSecond * 5) {
            throw new Error(`redis: ${sent - acked} XADDs unanswered: not keeping up with the rate`);
          }
        },
      );
      const deadline = performance.now() + DRAIN_MS;
      while ((received < sent || acked < sent) && performance.now() < deadline && failure === null) {
        await sleep(5);
      }
      stopReading = true;
      await withTimeout(reading, LATENCY_BLOCK_MS + STALL_MS, 'redis: latency consumer').catch(() => {});
      if (failure) throw failure;
      if (acked < sent) throw new Error(`redis: ${acked} of ${sent} XADDs answered`);
      return { sent, received };
    } catch (err) {
      throw await this.explain(err);
    } finally {
      stopReading = true;
      producer.close();
      consumer.close();
    }
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    await server?.stop();
  }

  private async connect(): Promise<RedisClient> {
    if (this.server === null) throw new Error('redis: not started');
    // Loaded here, not at the top, so that the helpers above (and nats.ts) also load under Node.
    const { RedisClient } = await import('bun');
    const client = new RedisClient(`redis://127.0.0.1:${this.port}`, {
      autoReconnect: false,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      connectionTimeout: 5_000,
      idleTimeout: 0,
    });
    await withTimeout(client.connect(), STALL_MS, 'redis: connect');
    return client;
  }

  /** A failing command after the server died says why it died. */
  private explain(err: unknown): Promise<unknown> {
    return explainFailure(this.server, err);
  }
}

/**
 * One producer: `count` XADDs round-robin over `keys` from `keys[first % keys.length]`, pipelined in batches
 * of PRODUCE_BATCH with BATCHES_IN_FLIGHT outstanding. Returns how many were acknowledged.
 */
async function produceWith(
  client: RedisClient,
  keys: readonly string[],
  values: readonly string[],
  count: number,
  first: number,
): Promise<number> {
  const inFlight: Promise<unknown[]>[] = [];
  let acked = 0;
  const settle = async () => {
    const ids = await withTimeout(inFlight.shift()!, STALL_MS, 'redis: XADD batch');
    for (const id of ids) if (typeof id !== 'string') throw new Error(`redis: XADD answered ${String(id)}`);
    acked += ids.length;
  };
  for (let sent = 0; sent < count; ) {
    const size = Math.min(PRODUCE_BATCH, count - sent);
    const batch: Promise<unknown>[] = new Array(size);
    for (let j = 0; j < size; j++, sent++) {
      const n = first + sent;
      batch[j] = client.send('XADD', [keys[n % keys.length]!, '*', 'v', values[n % values.length]!]);
    }
    const all = Promise.all(batch);
    // Marked handled now: a batch that fails while an earlier one is awaited is reported by settle().
    all.catch(() => {});
    inFlight.push(all);
    if (inFlight.length >= BATCHES_IN_FLIGHT) await settle();
  }
  while (inFlight.length > 0) await settle();
  return acked;
}
