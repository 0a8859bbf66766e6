/**
 * @module
 * What the comparative suite (bench/suite.ts) asks of each system under test: Freshet (freshet.ts) and the
 * peers Redis Streams (redis.ts) and NATS JetStream (nats.ts). Every target starts its own server on
 * 127.0.0.1 in a temp dir, runs the workloads with a client on the same runtime as the others (Bun), and
 * stops the server by PID. Records are the same shape and size on every target.
 */

/** How durable an acknowledged record is: only like classes are compared side by side. */
export type Durability =
  /** acknowledged once in the server's memory / page cache (Freshet interval, Redis AOF everysec, NATS default) */
  | 'os-cache'
  /** acknowledged only after an fsync covering it (Freshet flush.policy=always, Redis appendfsync always) */
  | 'fsync-always';

export interface TargetOptions {
  /** Temp dir for the server's data; removed by the suite after stop(). */
  dir: string;
  durability: Durability;
}

export interface ProduceSpec {
  /** Topic / stream / subject name, fresh for each run. */
  stream: string;
  partitions: number;
  /** Concurrent producers, each sending records / producers records. */
  producers: number;
  records: number;
  valueBytes: number;
}

export interface ProduceOutcome {
  records: number;
  /** Payload bytes (values only) acknowledged. */
  bytes: number;
  seconds: number;
}

export interface ConsumeOutcome {
  records: number;
  bytes: number;
  seconds: number;
}

export interface Target {
  /** e.g. 'freshet', 'redis', 'nats'. */
  readonly name: string;
  /** Human description for the report, e.g. 'Redis 7.0 Streams, AOF appendfsync always, XADD pipelined x1000'. */
  describe(): string;
  /** Whether this target can offer `durability` at all (NATS 2.9 cannot fsync every write). */
  supports(durability: Durability): boolean;
  start(options: TargetOptions): Promise<void>;
  /** PIDs of the server processes (for CPU accounting). */
  pids(): number[];
  /** Creates `spec.stream` with `spec.partitions` partitions (streams/subjects for peers). */
  create(spec: ProduceSpec): Promise<void>;
  /** Produces `spec.records` records of `spec.valueBytes`, waiting for every acknowledgement. */
  produce(spec: ProduceSpec): Promise<ProduceOutcome>;
  /**
   * Reads back everything in `spec.stream` from the start. `raw`: the cheapest path the target offers
   * (Freshet raw batches; peers: their normal batched read, reported once).
   */
  consume(spec: ProduceSpec, mode: 'decoded' | 'raw'): Promise<ConsumeOutcome>;
  /**
   * End-to-end latency: offers `ratePerSecond` records of `valueBytes` for `seconds` (send time stamped in
   * the record), a consumer long-polls, and each latency (receive time - send time, in ms, float) is passed
   * to `record`. Returns how many records were sent and received.
   */
  latency(
    spec: { stream: string; ratePerSecond: number; seconds: number; valueBytes: number },
    record: (ms: number) => void,
  ): Promise<{ sent: number; received: number }>;
  stop(): Promise<void>;
}
