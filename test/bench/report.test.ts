/** @module The report generator (bench/report.ts) on fixture runs, with and without peers and with failures, and the baseline comparison (bench/baseline.ts). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Baseline,
  baselineFrom,
  baselineLines,
  compareWithBaseline,
  keyFigures,
  readBaseline,
  updateBaseline,
} from '../../bench/baseline.ts';
import {
  goalRows,
  type RunFile,
  readSuite,
  renderHtml,
  renderMarkdown,
  summaryMarkdown,
  summaryRows,
  writeReport,
} from '../../bench/report.ts';

// ------------------------------------------------------------------ fixtures (the shape bench/suite.ts documents)

const DESCRIBE: Record<string, string> = {
  freshet:
    'Freshet 0.1.0 (bun src/main.ts, 2 partition workers, flush.policy interval (page cache)), HTTP API',
  redis: 'Redis 7.0 Streams, AOF appendfsync everysec, XADD pipelined x1000',
  nats: 'NATS 2.9 JetStream, file storage, async publish acks',
};

type Json = Record<string, unknown>;

function row(
  workload: string,
  variant: string | null,
  target: string,
  durability: string,
  metric: string,
  unit: string,
  median: number,
  params: Json = {},
): Json {
  return {
    workload,
    variant,
    target,
    targetDescription: DESCRIBE[target],
    durability,
    metric,
    unit,
    headline: metric === 'records_per_s' || metric === 'p99_ms' || metric === 'restart_serving_s',
    median,
    min: median * 0.9,
    max: median * 1.1,
    samples: [median * 0.9, median, median * 1.1],
    params,
    cpu: {
      clientSeconds: 1.2,
      serverSeconds: 0.8,
      wallSeconds: 2,
      clientCores: 0.6,
      serverCores: 0.4,
      cpuSecondsPerMB: 0.02,
    },
  };
}

const PERCENTILES = [0, 50, 90, 99, 99.9, 99.99, 99.999, 100];
function curve(target: string, rate: number, p50: number): Json {
  return {
    workload: 'w4',
    variant: `${rate}/s`,
    target,
    durability: 'os-cache',
    ratePerSecond: rate,
    seconds: 20,
    valueBytes: 1024,
    reps: 3,
    sent: rate * 20,
    received: rate * 20,
    points: PERCENTILES.map((percentile, i) => ({ percentile, ms: p50 * (1 + i * i * 0.3) })),
  };
}

/** A suite result; `peers` adds Redis and NATS, otherwise they are skipped as in --quick. */
function suite(peers: boolean): Json {
  const targets = peers ? ['freshet', 'redis', 'nats'] : ['freshet'];
  const runs: Json[] = [];
  const w1 = { freshet: 612_000, redis: 385_000, nats: 240_000 } as Record<string, number>;
  const w2 = { freshet: 430, redis: 224, nats: 216 } as Record<string, number>;
  for (const t of targets) {
    runs.push(
      row('w1', null, t, 'os-cache', 'records_per_s', 'records/s', w1[t]!, { records: 1e6, valueBytes: 100 }),
    );
    runs.push(
      row('w1', null, t, 'os-cache', 'mb_per_s', 'MB/s', w1[t]! / 1e4, { records: 1e6, valueBytes: 100 }),
    );
    runs.push(
      row('w2', null, t, 'os-cache', 'records_per_s', 'records/s', w2[t]! * 976, {
        records: 5e5,
        valueBytes: 1024,
      }),
    );
    runs.push(row('w2', null, t, 'os-cache', 'mb_per_s', 'MB/s', w2[t]!, { records: 5e5, valueBytes: 1024 }));
    runs.push(
      row('w4', '5000/s', t, 'os-cache', 'p99_ms', 'ms', t === 'freshet' ? 0.9 : 1.26, {
        ratePerSecond: 5000,
      }),
    );
    runs.push(
      row('w4', '5000/s', t, 'os-cache', 'p999_ms', 'ms', t === 'freshet' ? 2.5 : 4.3, {
        ratePerSecond: 5000,
      }),
    );
  }
  for (const t of targets.filter((x) => x !== 'nats')) {
    runs.push(
      row('w2s', null, t, 'fsync-always', 'mb_per_s', 'MB/s', t === 'freshet' ? 266 : 52, {
        records: 5e5,
        valueBytes: 1024,
      }),
    );
  }
  runs.push(
    row('w3', 'decoded 100 B', 'freshet', 'os-cache', 'records_per_s', 'records/s', 1_500_000, {
      valueBytes: 100,
    }),
  );
  runs.push(
    row('w3', 'raw 100 B', 'freshet', 'os-cache', 'records_per_s', 'records/s', 5_300_000, {
      valueBytes: 100,
    }),
  );
  runs.push(
    row('w6', 'restart', 'freshet', 'os-cache', 'restart_serving_s', 's', 6.2, { partitions: 10_000 }),
  );
  runs.push(row('w6', 'restart', 'freshet', 'os-cache', 'rss_mib', 'MiB', 1210, { partitions: 10_000 }));
  const limit = (median: number) => ({
    unit: 'MB/s',
    median,
    min: median * 0.9,
    max: median * 1.1,
    samples: [median],
    bytes: 1,
    description: 'x',
  });
  return {
    bench: 'suite',
    schema: 1,
    quick: !peers,
    reps: peers ? 3 : 1,
    machine: {
      nproc: 2,
      cpuModel: 'Test CPU @ 2.50GHz',
      memoryMiB: 4096,
      platform: 'linux test',
      runtime: 'bun 1.4.5',
    },
    limits: {
      write_buffered: limit(1696),
      write_fdatasync_1mib: limit(277),
      page_cache_read: limit(6377),
      loopback_tcp: limit(2900),
    },
    targets: [
      { name: 'freshet', status: 'ran', durabilities: ['os-cache', 'fsync-always'] },
      ...['redis', 'nats'].map((name) =>
        peers
          ? { name, status: 'ran', durabilities: ['os-cache'] }
          : { name, status: 'skipped', reason: '--quick runs Freshet only', durabilities: [] },
      ),
    ],
    workloads: [],
    runs,
    latency: [...targets.flatMap((t) => [curve(t, 5000, t === 'freshet' ? 0.4 : 0.5), curve(t, 50000, 1.2)])],
    ratios: [],
    goals: [],
    notes: peers ? ['w2s: nats offers no fsync-always durability; not run'] : [],
    errors: peers
      ? []
      : [{ workload: 'w5', target: 'freshet', durability: 'os-cache', message: 'autocannon saw 3 errors' }],
  };
}

function runFile(results: Json[], quick = false): RunFile {
  return {
    startedAt: '2026-11-21T19:00:00.000Z',
    quick,
    commit: 'abc1234',
    dirty: false,
    runtime: 'bun 1.4.5',
    platform: 'linux test',
    cpus: 2,
    cpuModel: 'Test CPU @ 2.50GHz',
    memoryMiB: 4096,
    benchDir: null,
    loadAverage: { atStart: [1, 1, 1], atEnd: [1, 1, 1] },
    results,
  };
}

const STORAGE = {
  bench: 'storage',
  append_mb_s: 772,
  append_mb_s_min: 700,
  append_mb_s_max: 1200,
  raw_mb_s: 1696,
  read_mb_s: 2680,
  raw_read_mb_s: 6377,
  fsync_append_mb_s: 176,
  fsync_raw_mb_s: 277,
};
const IPC = {
  bench: 'ipc',
  ring_16KiB_MBps: 2400,
  memcpy_16KiB_MBps: 9000,
  ring_1MiB_MBps: 3100,
  memcpy_1MiB_MBps: 7000,
};

// ------------------------------------------------------------------ checks

/** Every inline SVG is balanced XML with a viewBox, and no NaN/undefined/Infinity leaked into it. */
function expectValidSvg(html: string): number {
  const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
  expect(svgs.length).toBe((html.match(/<svg\b/g) ?? []).length);
  for (const svg of svgs) {
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* viewBox="0 0 \d+ \d+"/);
    expect(svg).not.toMatch(/NaN|undefined|Infinity|null/);
    const stack: string[] = [];
    for (const [, close, name, , self] of svg.matchAll(
      /<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<>]*")*)\s*(\/?)>/g,
    )) {
      if (self) continue;
      if (close) expect(stack.pop()).toBe(name);
      else stack.push(name!);
    }
    expect(stack).toEqual([]);
    // Nothing that looks like a tag was left unmatched by the tag pattern above.
    expect(svg.replace(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<>]*")*)\s*(\/?)>/g, '')).not.toMatch(
      /[<>]/,
    );
  }
  return svgs.length;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'freshet-report-test-'));
  dirs.push(dir);
  return dir;
}

describe('report.html', () => {
  it('shows Freshet, the peers and the limits with titles, figures, describe() strings and valid SVG', () => {
    const html = renderHtml(runFile([suite(true), STORAGE, IPC]));
    for (const title of [
      'Freshet load-test report',
      'At a glance',
      'Goals (issue 4)',
      'Throughput',
      'Latency',
      'CPU per MB moved',
      'Many partitions (W6)',
      'Micro-benchmarks',
      'How the comparison is fair',
      'Machine',
    ]) {
      expect(html).toContain(`>${title}`);
    }
    expect(html).toContain('612k records/s');
    expect(html).toContain('Redis Streams 385k records/s');
    expect(html).toContain('17M records/s (raw sequential write)');
    expect(html).toContain('Acknowledged after an fsync'.slice(0, 10));
    expect(html).toContain(DESCRIBE.redis);
    expect(html).toContain(DESCRIBE.nats);
    expect(html).toContain('goal p99 ≤ 1 ms');
    expect(html).toContain('Test CPU @ 2.50GHz');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    expect(expectValidSvg(html)).toBeGreaterThan(8);
  });

  it('without peers, says why each peer figure is missing', () => {
    const html = renderHtml(runFile([suite(false), STORAGE], true));
    expect(html).toContain('quick run');
    expect(html).toContain('skipped: --quick runs Freshet only');
    expect(html).toContain('autocannon saw 3 errors');
    expectValidSvg(html);
  });

  it('survives a failed workload, a failed suite and results of the wrong shape', () => {
    const failed = renderHtml(
      runFile([
        { bench: 'suite', error: 'the broker did not start' },
        { bench: 'storage', error: 'disk full' },
      ]),
    );
    expect(failed).toContain('Problems in this run');
    expect(failed).toContain('disk full');
    expect(failed).toContain('the suite failed: the broker did not start');
    expectValidSvg(failed);
    const odd = runFile([
      {
        bench: 'suite',
        runs: 'nope',
        latency: [{}, { points: 'x' }],
        limits: 5,
        targets: [null],
        goals: {},
        errors: 'x',
      },
      { bench: 'mystery', figure: 1, figure_min: 0.5, figure_max: 2, nested: { a: 1 } },
      { bench: 'ipc' },
    ]);
    expect(() => renderHtml(odd)).not.toThrow();
    expect(() => renderMarkdown(odd)).not.toThrow();
    expect(renderHtml(odd)).toContain('mystery');
    expect(() => renderHtml({})).not.toThrow();
  });
});

describe('report.md', () => {
  it('has the summary table: workload | Freshet | best peer | limit | ratio', () => {
    const md = summaryMarkdown(runFile([suite(true), STORAGE, IPC]));
    const lines = md.split('\n');
    expect(lines[0]).toBe('| workload | Freshet | best peer | limit | ratio |');
    expect(lines[1]).toBe('|---|---|---|---|---|');
    expect(md).toMatch(
      /\| W1 produce 100 B, 1 partition \| 612k records\/s \| Redis Streams 385k records\/s \| 17M records\/s \(raw sequential write\) \| 0\.04 \|/,
    );
    expect(md).toMatch(
      /\| W2 produce 1 KiB, 1 partition \| 430 MB\/s \| Redis Streams 224 MB\/s \| 1,696 MB\/s \(raw sequential write\) \| 0\.25 \|/,
    );
    expect(md).toMatch(
      /\| W2s produce 1 KiB, fsync before ack \| 266 MB\/s \| Redis Streams 52 MB\/s \| 277 MB\/s/,
    );
    expect(md).toMatch(
      /\| W4 end-to-end latency \(5,000\/s, p99\) \| 0\.9 ms \| Redis Streams 1\.26 ms \| — \| — \|/,
    );
    expect(md).toMatch(/\| storage: file-log append, flush interval \| 772 MB\/s \| — \| 1,696 MB\/s/);
    for (const line of lines) expect(line.split(/(?<!\\)\|/).length).toBe(7);
  });

  it('shows missing peers and failed workloads as — with the reason', () => {
    const run = runFile([suite(false), STORAGE], true);
    const md = renderMarkdown(run);
    expect(md).toContain('— (peers skipped in this run)');
    expect(md).toContain('| W5 HTTP produce, 100 connections | — (failed: autocannon saw 3 errors) |');
    expect(md).toContain('## Goals (issue 4)');
    expect(renderMarkdown(runFile([{ bench: 'suite', error: 'boom' }]))).toContain(
      '— (the suite failed: boom)',
    );
  });

  it('checks the goals of issue 4: met, not met, partly met, not measured', () => {
    const goals = goalRows(readSuite(runFile([suite(true)])));
    const status = Object.fromEntries(goals.map((g) => [g.label, g.status]));
    expect(status).toEqual({
      W1: 'not met',
      W2: 'not met',
      W2s: 'not met',
      W3: 'partly met',
      'W4 @5k/s': 'met',
      W6: 'met',
    });
    const none = goalRows(readSuite(runFile([])));
    expect(none.every((g) => g.status === 'not measured' && g.measured.startsWith('—'))).toBe(true);
  });

  it('puts the best peer in the same durability class only', () => {
    const rows = summaryRows(readSuite(runFile([suite(true)])));
    const w2s = rows.find((r) => r.workload === 'w2s')!;
    expect(w2s.bestPeer).toBe('Redis Streams 52 MB/s');
    expect(w2s.limit).toContain('raw write + fdatasync');
  });
});

describe('writeReport', () => {
  it('writes report.html and report.md beside results.json', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'results.json'), JSON.stringify(runFile([suite(true), STORAGE])));
    const written = writeReport(dir);
    expect(readFileSync(written.htmlPath, 'utf8')).toMatch(/^<!doctype html>/);
    expect(readFileSync(written.mdPath, 'utf8')).toContain(
      '| workload | Freshet | best peer | limit | ratio |',
    );
    expect(written.summary).toContain('| W1 |');
  });
});

// ------------------------------------------------------------------ baseline

describe('baseline', () => {
  const base = runFile([suite(false), STORAGE, IPC], true);
  const baseline: Baseline = baselineFrom(base, 'test');

  /** The same run with its throughput figures (suite, storage, ipc), or its times and sizes, scaled by `factor`. */
  function scaled(factor: number, which: 'throughput' | 'latency'): RunFile {
    const copy = JSON.parse(JSON.stringify(base)) as RunFile;
    for (const r of copy.results!) {
      if (r.bench === 'suite') {
        for (const x of r.runs as Json[]) {
          const throughput = String(x.unit).endsWith('/s');
          if ((which === 'throughput') === throughput) x.median = (x.median as number) * factor;
        }
      } else if (which === 'throughput') {
        for (const [k, v] of Object.entries(r)) if (typeof v === 'number') r[k] = v * factor;
      }
    }
    return copy;
  }

  it('takes Freshet key figures with their direction', () => {
    const figures = keyFigures(base);
    expect(figures['suite/w1/os-cache/records_per_s']).toEqual({
      value: 612_000,
      unit: 'records/s',
      better: 'higher',
    });
    expect(figures['suite/w4 5000/s/os-cache/p99_ms']).toMatchObject({ better: 'lower' });
    expect(figures['storage/append_mb_s']).toEqual({ value: 772, unit: 'MB/s', better: 'higher' });
    expect(figures['ipc/ring_16KiB_MBps']?.value).toBe(2400);
    expect(Object.keys(figures).some((k) => k.includes('redis'))).toBe(false);
  });

  it('flags a 31% throughput drop and not a 29% one', () => {
    const drop31 = compareWithBaseline(baseline, scaled(0.69, 'throughput'));
    expect(drop31.regressions.length).toBeGreaterThan(0);
    expect(drop31.regressions.every((r) => r.better === 'higher')).toBe(true);
    expect(drop31.regressions.map((r) => r.key)).toContain('suite/w1/os-cache/records_per_s');
    const lines = baselineLines(drop31);
    expect(lines.filter((l) => l.startsWith('WARNING: ')).length).toBe(drop31.regressions.length);
    expect(lines.find((l) => l.includes('suite/w1/os-cache/records_per_s'))).toMatch(
      /regressed 31\.0%.*612k records\/s → 422k records\/s/,
    );

    const drop29 = compareWithBaseline(baseline, scaled(0.71, 'throughput'));
    expect(drop29.regressions).toEqual([]);
    expect(drop29.compared).toBe(Object.keys(baseline.figures).length);
    expect(baselineLines(drop29)).toEqual([
      expect.stringMatching(/^baseline: \d+ figures compared, 0 regressions of more than 30%/),
    ]);
  });

  it('flags a 31% rise in latency (or time, or memory) and not a 29% one, and never an improvement', () => {
    expect(compareWithBaseline(baseline, scaled(1.31, 'latency')).regressions.map((r) => r.key)).toContain(
      'suite/w4 5000/s/os-cache/p99_ms',
    );
    expect(compareWithBaseline(baseline, scaled(1.29, 'latency')).regressions).toEqual([]);
    expect(compareWithBaseline(baseline, scaled(2, 'throughput')).regressions).toEqual([]);
    expect(compareWithBaseline(baseline, scaled(0.5, 'latency')).regressions).toEqual([]);
  });

  it('does not compare a full run with a quick baseline', () => {
    const full = { ...base, quick: false };
    const comparison = compareWithBaseline(baseline, full);
    expect(comparison.compared).toBe(0);
    expect(baselineLines(comparison)[0]).toMatch(
      /^baseline: not compared \(the baseline is from a quick run/,
    );
  });

  it('--update writes a baseline that the same run passes', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'results.json'), JSON.stringify(base));
    const path = join(dir, 'baseline.json');
    updateBaseline(dir, path);
    const written = readBaseline(path)!;
    expect(written.from.quick).toBe(true);
    expect(written.figures).toEqual(baseline.figures);
    expect(compareWithBaseline(written, base).regressions).toEqual([]);
  });
});
