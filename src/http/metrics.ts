/**
 * @module
 * Prometheus metrics of the HTTP door, on a Registry of its own (never prom-client's global one, so two
 * apps in one process, as in tests, do not collide): request latency per route, requests in flight,
 * produce/fetch counters, and partition offsets and consumer groups (members, state, rebalances, lag) read
 * from `engine.stats()` at scrape time.
 *
 * Per request, nothing is hashed: each label set (method + route + status, or topic) has a child cached
 * in a Map the first time it is seen, and a request only bumps the child's numbers. prom-client validates
 * and hashes the labels on every `observe`/`inc`, which cost 5-7% of the main thread under load; here it
 * only renders, and the children are copied into it (counters, gauge) or read by it (the histogram) when
 * /metrics is scraped.
 */
import { Counter, Gauge, type Metric, Registry } from 'prom-client';
import type { Engine, GroupStats } from '../ipc/engine.ts';

export interface Metrics {
  readonly registry: Registry;
  /** Marks a request as started; call the returned function once it has been answered. */
  startRequest(): (method: string, route: string, status: number) => void;
  /** A successful produce: `bytes` is the request body's size. */
  produced(topic: string, records: number, bytes: number): void;
  /** A successful fetch: `bytes` is the batch bytes (raw) or the key, value and header bytes (decoded). */
  fetched(topic: string, records: number | null, bytes: number): void;
  /** Refreshes the partition gauges from the engine and renders the Prometheus text format. */
  scrape(engine: Engine): Promise<string>;
  readonly contentType: string;
}

/** Wide enough for long-polled fetches, which wait up to --max-wait-ms (30 s by default). */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Most `freshet_group_lag` series one scrape renders. Partition series are otherwise one per partition that
 * exists, but lag series multiply partitions by groups, and groups come and go at the clients' will. Past
 * the cap the first series in group-id, topic, partition order are kept (the same ones every scrape), and
 * `freshet_group_lag_sum` still counts every partition.
 */
export const MAX_GROUP_LAG_SERIES = 10_000;

/** Every group state, for `freshet_group_state` (one series per state, 1 for the current one). */
const GROUP_STATES = Object.keys({
  Empty: true,
  PreparingRebalance: true,
  CompletingRebalance: true,
  Stable: true,
  Dead: true,
} satisfies Record<GroupStats['state'], true>) as Array<GroupStats['state']>;

/** One latency series: observations per bucket (not cumulative; the last slot is above every bound). */
interface LatencySeries {
  labels: { method: string; route: string; status: string };
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * A histogram with label values `method`, `route` and `status`, its series cached by label values, and
 * rendered by the Registry through the contract prom-client's own metrics fulfil (`name`, `help`, `type`,
 * `aggregator`, `get()`, `reset()`), exactly as prom-client's Histogram renders.
 */
class RouteHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** method → route → status → series. */
  private series = new Map<string, Map<string, Map<number, LatencySeries>>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    let byRoute = this.series.get(method);
    if (byRoute === undefined) {
      byRoute = new Map();
      this.series.set(method, byRoute);
    }
    let byStatus = byRoute.get(route);
    if (byStatus === undefined) {
      byStatus = new Map();
      byRoute.set(route, byStatus);
    }
    let series = byStatus.get(status);
    if (series === undefined) {
      series = {
        labels: { method, route, status: String(status) },
        buckets: new Float64Array(this.bounds.length + 1),
        sum: 0,
        count: 0,
      };
      byStatus.set(status, series);
    }
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > bounds[bucket]!) bucket++;
    series.buckets[bucket]!++;
    series.sum += seconds;
    series.count++;
  }

  reset(): void {
    this.series = new Map();
  }

  async get() {
    const values: Array<{
      value: number;
      labels: Record<string, string | number>;
      metricName: string;
    }> = [];
    const bucketName = `${this.name}_bucket`;
    for (const byRoute of this.series.values()) {
      for (const byStatus of byRoute.values()) {
        for (const series of byStatus.values()) {
          let cumulative = 0;
          this.bounds.forEach((bound, i) => {
            cumulative += series.buckets[i]!;
            values.push({
              value: cumulative,
              labels: { le: bound, ...series.labels },
              metricName: bucketName,
            });
          });
          values.push(
            { value: series.count, labels: { le: '+Inf', ...series.labels }, metricName: bucketName },
            { value: series.sum, labels: { ...series.labels }, metricName: `${this.name}_sum` },
            { value: series.count, labels: { ...series.labels }, metricName: `${this.name}_count` },
          );
        }
      }
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

/** The numbers behind the per-topic counters of one topic. */
interface TopicCounts {
  produceRequests: number;
  produceRecords: number;
  produceBytes: number;
  fetchRequests: number;
  /** null until a decoded fetch counted records (raw fetches do not), so no series shows before. */
  fetchRecords: number | null;
  fetchBytes: number;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const topics = new Map<string, TopicCounts>();
  let inFlightCount = 0;

  const countsOf = (topic: string): TopicCounts => {
    let counts = topics.get(topic);
    if (counts === undefined) {
      counts = {
        produceRequests: 0,
        produceRecords: 0,
        produceBytes: 0,
        fetchRequests: 0,
        fetchRecords: null,
        fetchBytes: 0,
      };
      topics.set(topic, counts);
    }
    return counts;
  };

  /**
   * A per-topic counter filled from the cached counts when scraped. `read` answers null for a topic that
   * has no series yet (a topic only fetched from has no produce series, as with prom-client's own).
   */
  const topicCounter = (name: string, help: string, read: (counts: TopicCounts) => number | null) =>
    new Counter({
      name,
      help,
      labelNames: ['topic'] as const,
      registers,
      collect() {
        this.reset();
        for (const [topic, counts] of topics) {
          const value = read(counts);
          if (value !== null) this.inc({ topic }, value);
        }
      },
    });

  const duration = new RouteHistogram(
    'freshet_http_request_duration_seconds',
    'Time from receiving an HTTP request to answering it, by route pattern',
    LATENCY_BUCKETS,
  );
  // RouteHistogram renders as prom-client's metrics do, without being one of its classes.
  registry.registerMetric(duration as unknown as Metric);
  new Gauge({
    name: 'freshet_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered (long-polled fetches included)',
    registers,
    collect() {
      this.set(inFlightCount);
    },
  });
  topicCounter('freshet_http_produce_requests_total', 'Produce requests answered successfully', (c) =>
    c.produceRequests > 0 ? c.produceRequests : null,
  );
  topicCounter('freshet_http_produce_records_total', 'Records produced', (c) =>
    c.produceRequests > 0 ? c.produceRecords : null,
  );
  topicCounter('freshet_http_produce_bytes_total', 'Bytes of produce request bodies accepted', (c) =>
    c.produceRequests > 0 ? c.produceBytes : null,
  );
  topicCounter('freshet_http_fetch_requests_total', 'Fetch requests answered successfully', (c) =>
    c.fetchRequests > 0 ? c.fetchRequests : null,
  );
  topicCounter(
    'freshet_http_fetch_records_total',
    'Records returned by decoded fetches (raw fetches are not decoded, so not counted)',
    (c) => c.fetchRecords,
  );
  topicCounter(
    'freshet_http_fetch_bytes_total',
    'Bytes returned by fetches: batch bytes for raw fetches, key + value + header value bytes for decoded ones',
    (c) => (c.fetchRequests > 0 ? c.fetchBytes : null),
  );
  const logEndOffset = new Gauge({
    name: 'freshet_partition_log_end_offset',
    help: 'Offset the next record appended to the partition will get',
    labelNames: ['topic', 'partition'] as const,
    registers,
  });
  const logStartOffset = new Gauge({
    name: 'freshet_partition_log_start_offset',
    help: 'First offset still readable in the partition',
    labelNames: ['topic', 'partition'] as const,
    registers,
  });
  const workerInFlightBytes = new Gauge({
    name: 'freshet_worker_in_flight_bytes',
    help: 'Produce bytes queued to a partition worker and not yet taken',
    labelNames: ['worker'] as const,
    registers,
  });

  const groupMembers = new Gauge({
    name: 'freshet_group_members',
    help: 'Members of the consumer group',
    labelNames: ['group'] as const,
    registers,
  });
  const groupRebalances = new Counter({
    name: 'freshet_group_rebalances_total',
    help: 'Rebalances of the consumer group completed since the broker started',
    labelNames: ['group'] as const,
    registers,
  });
  const groupState = new Gauge({
    name: 'freshet_group_state',
    help: 'State of the consumer group: 1 for the current state, 0 for the others',
    labelNames: ['group', 'state'] as const,
    registers,
  });
  const groupLag = new Gauge({
    name: 'freshet_group_lag',
    help: `Log end offset minus the group's committed offset, per partition with a commit (at most ${MAX_GROUP_LAG_SERIES} series)`,
    labelNames: ['group', 'topic', 'partition'] as const,
    registers,
  });
  const groupLagSum = new Gauge({
    name: 'freshet_group_lag_sum',
    help: "Sum of the group's lag over every partition it committed an offset for",
    labelNames: ['group'] as const,
    registers,
  });

  /** Refills the group series; no await, for the same reason as the partition gauges. */
  const setGroups = (groups: readonly GroupStats[]) => {
    groupMembers.reset();
    groupRebalances.reset();
    groupState.reset();
    groupLag.reset();
    groupLagSum.reset();
    let lagSeries = 0;
    const sorted = [...groups].sort((a, b) => compare(a.groupId, b.groupId));
    for (const g of sorted) {
      const group = g.groupId;
      groupMembers.set({ group }, g.members);
      groupRebalances.inc({ group }, g.rebalances);
      for (const state of GROUP_STATES) groupState.set({ group, state }, state === g.state ? 1 : 0);
      let sum = 0;
      const partitions = [...g.partitions].sort((a, b) =>
        a.topic === b.topic ? a.partition - b.partition : compare(a.topic, b.topic),
      );
      for (const p of partitions) {
        if (p.lag === null) continue;
        sum += p.lag;
        if (lagSeries < MAX_GROUP_LAG_SERIES) {
          groupLag.set({ group, topic: p.topic, partition: String(p.partition) }, p.lag);
          lagSeries++;
        }
      }
      groupLagSum.set({ group }, sum);
    }
  };

  return {
    registry,
    contentType: registry.contentType,
    startRequest() {
      inFlightCount++;
      const started = performance.now();
      return (method, route, status) => {
        inFlightCount--;
        duration.observe(method, route, status, (performance.now() - started) / 1000);
      };
    },
    produced(topic, records, bytes) {
      const counts = countsOf(topic);
      counts.produceRequests++;
      counts.produceRecords += records;
      counts.produceBytes += bytes;
    },
    fetched(topic, records, bytes) {
      const counts = countsOf(topic);
      counts.fetchRequests++;
      if (records !== null) counts.fetchRecords = (counts.fetchRecords ?? 0) + records;
      counts.fetchBytes += bytes;
    },
    async scrape(engine) {
      const stats = await engine.stats();
      // Reset and refill with no await in between, so a deleted topic's series disappear and a concurrent
      // scrape never renders a half-filled gauge.
      logEndOffset.reset();
      logStartOffset.reset();
      workerInFlightBytes.reset();
      for (const p of stats.partitions) {
        const labels = { topic: p.topic, partition: String(p.partition) };
        logEndOffset.set(labels, p.logEndOffset);
        logStartOffset.set(labels, p.logStartOffset);
      }
      for (const [worker, bytes] of stats.inFlightBytes.entries()) {
        workerInFlightBytes.set({ worker: String(worker) }, bytes);
      }
      setGroups(stats.groups);
      return registry.metrics();
    },
  };
}

/** Code-unit order: the same on every runtime and locale, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
