/**
 * @module
 * Prometheus metrics of the HTTP door, on a Registry of its own (never prom-client's global one, so two
 * apps in one process, as in tests, do not collide): request latency per route, requests in flight,
 * produce/fetch counters, and partition offsets read from `engine.stats()` at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../ipc/engine.ts';

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

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const duration = new Histogram({
    name: 'freshet_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to answering it, by route pattern',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const inFlight = new Gauge({
    name: 'freshet_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered (long-polled fetches included)',
    registers,
  });
  const produceRequests = new Counter({
    name: 'freshet_http_produce_requests_total',
    help: 'Produce requests answered successfully',
    labelNames: ['topic'] as const,
    registers,
  });
  const produceRecords = new Counter({
    name: 'freshet_http_produce_records_total',
    help: 'Records produced',
    labelNames: ['topic'] as const,
    registers,
  });
  const produceBytes = new Counter({
    name: 'freshet_http_produce_bytes_total',
    help: 'Bytes of produce request bodies accepted',
    labelNames: ['topic'] as const,
    registers,
  });
  const fetchRequests = new Counter({
    name: 'freshet_http_fetch_requests_total',
    help: 'Fetch requests answered successfully',
    labelNames: ['topic'] as const,
    registers,
  });
  const fetchRecords = new Counter({
    name: 'freshet_http_fetch_records_total',
    help: 'Records returned by decoded fetches (raw fetches are not decoded, so not counted)',
    labelNames: ['topic'] as const,
    registers,
  });
  const fetchBytes = new Counter({
    name: 'freshet_http_fetch_bytes_total',
    help: 'Bytes returned by fetches: batch bytes for raw fetches, key + value + header value bytes for decoded ones',
    labelNames: ['topic'] as const,
    registers,
  });
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

  return {
    registry,
    contentType: registry.contentType,
    startRequest() {
      inFlight.inc();
      const started = performance.now();
      return (method, route, status) => {
        inFlight.dec();
        duration.observe({ method, route, status: String(status) }, (performance.now() - started) / 1000);
      };
    },
    produced(topic, records, bytes) {
      produceRequests.inc({ topic });
      produceRecords.inc({ topic }, records);
      produceBytes.inc({ topic }, bytes);
    },
    fetched(topic, records, bytes) {
      fetchRequests.inc({ topic });
      if (records !== null) fetchRecords.inc({ topic }, records);
      fetchBytes.inc({ topic }, bytes);
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
      return registry.metrics();
    },
  };
}
