/**
 * @module
 * /healthz and /metrics: counters, route latency, in-flight gauge and partition offsets from the engine.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHarness, createTopic, type Harness, jsonRequest } from './support.ts';

describe('health and metrics', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  it('GET /healthz answers ok', async () => {
    const { res, body } = await jsonRequest(h.app, 'GET', '/healthz');
    expect(res.status).toBe(200);
    expect(body).toEqual({ status: 'ok' });
  });

  it('GET /metrics counts produce and fetch, times routes, and shows partition offsets', async () => {
    await createTopic(h.app, 'm', 2);
    await jsonRequest(h.app, 'POST', '/v1/topics/m/records', {
      records: [
        { value: 'abc', partition: 1 },
        { value: 'de', partition: 1 },
      ],
    });
    await jsonRequest(h.app, 'GET', '/v1/topics/m/partitions/1/records');
    await h.app.request('/v1/topics/m/partitions/1/records', {
      headers: { accept: 'application/vnd.kafka.recordbatch' },
    });
    await jsonRequest(h.app, 'GET', '/no/such/route');

    const res = await h.app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const metrics = await res.text();
    expect(metrics).toContain('freshet_http_produce_requests_total{topic="m"} 1');
    expect(metrics).toContain('freshet_http_produce_records_total{topic="m"} 2');
    expect(metrics).toMatch(/freshet_http_produce_bytes_total\{topic="m"\} [1-9]\d*/);
    expect(metrics).toContain('freshet_http_fetch_requests_total{topic="m"} 2');
    expect(metrics).toContain('freshet_http_fetch_records_total{topic="m"} 2');
    expect(metrics).toMatch(/freshet_http_fetch_bytes_total\{topic="m"\} [1-9]\d*/);
    expect(metrics).toContain(
      'freshet_http_request_duration_seconds_count{method="POST",route="/v1/topics/:topic/records",status="200"} 1',
    );
    expect(metrics).toContain(
      'freshet_http_request_duration_seconds_count{method="GET",route="/v1/topics/:topic/partitions/:partition/records",status="200"} 2',
    );
    expect(metrics).toContain(
      'freshet_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1',
    );
    // The scrape itself is in flight while it renders.
    expect(metrics).toContain('freshet_http_requests_in_flight 1');
    expect(metrics).toContain('freshet_partition_log_end_offset{topic="m",partition="1"} 2');
    expect(metrics).toContain('freshet_partition_log_end_offset{topic="m",partition="0"} 0');
    expect(metrics).toContain('freshet_partition_log_start_offset{topic="m",partition="1"} 0');
  });

  it('keeps one latency series per method, route and status, with cumulative buckets', async () => {
    await createTopic(h.app, 'lat');
    for (let i = 0; i < 3; i++) await jsonRequest(h.app, 'GET', '/v1/topics/lat');
    await jsonRequest(h.app, 'GET', '/v1/topics/none');
    await jsonRequest(h.app, 'GET', '/v1/topics/lat/partitions/0/records');
    const metrics = await (await h.app.request('/metrics')).text();
    const series = (labels: string) =>
      metrics
        .split('\n')
        .filter((line) => line.startsWith('freshet_http_request_duration_seconds') && line.includes(labels));
    const ok = series('method="GET",route="/v1/topics/:topic",status="200"');
    const buckets = ok.filter((line) => line.includes('_bucket{')).map((line) => Number(line.split(' ')[1]));
    // 15 bounds and +Inf, never decreasing, ending at the count.
    expect(buckets).toHaveLength(16);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(buckets.at(-1)).toBe(3);
    expect(
      ok.some(
        (line) => line.startsWith('freshet_http_request_duration_seconds_count{') && line.endsWith(' 3'),
      ),
    ).toBe(true);
    expect(series('method="GET",route="/v1/topics/:topic",status="404"')).toHaveLength(18);
    // A topic only fetched from has fetch series and no produce series.
    expect(metrics).toContain('freshet_http_fetch_requests_total{topic="lat"} 1');
    expect(metrics).toContain('freshet_http_fetch_records_total{topic="lat"} 0');
    expect(metrics).not.toContain('freshet_http_produce_requests_total{topic="lat"}');
  });

  it('drops the partition series of a deleted topic', async () => {
    await createTopic(h.app, 'gone');
    expect(await (await h.app.request('/metrics')).text()).toContain('topic="gone",partition="0"');
    await h.app.request('/v1/topics/gone', { method: 'DELETE' });
    expect(await (await h.app.request('/metrics')).text()).not.toContain('topic="gone",partition="0"');
  });
});
