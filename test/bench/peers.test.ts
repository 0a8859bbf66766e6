/**
 * @module
 * The peer targets of the comparative bench (bench/targets/redis.ts, nats.ts): their pure helpers, and a small
 * run of each against a real server, under Bun as the suite runs them, when `bench/peers/install.sh` has
 * installed the server (failing with the command to install it otherwise).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isInstalled,
  randomAsciiValues,
  STAMP_BYTES,
  shareOf,
  stampedValue,
  stampOf,
} from '../../bench/targets/redis.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const BUN = path.join(REPO, 'node_modules/.bin/bun');

describe('peer helpers', () => {
  it('splits records over producers without losing any', () => {
    for (const [records, producers] of [
      [10, 3],
      [8, 8],
      [1_000_000, 4],
      [5, 8],
    ] as const) {
      const shares = Array.from({ length: producers }, (_, i) => shareOf(records, producers, i));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(records);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  });

  it('makes distinct printable-ASCII values of the asked size', () => {
    const values = randomAsciiValues(100, 16);
    expect(new Set(values).size).toBe(16);
    for (const value of values) {
      expect(Buffer.byteLength(value, 'utf8')).toBe(100);
      expect(value).toMatch(/^[\x21-\x7e]+$/);
    }
  });

  it('stamps the send time into a value and reads it back', () => {
    const [filler] = randomAsciiValues(1024, 1);
    const sendMs = performance.timeOrigin + performance.now();
    const value = stampedValue(sendMs, filler!);
    expect(value.length).toBe(1024);
    expect(Math.abs(stampOf(value) - sendMs)).toBeLessThan(0.001);
    expect(value.slice(STAMP_BYTES)).toBe(filler!.slice(STAMP_BYTES));
  });
});

/** Runs a small produce / consume / latency round of `target` in a Bun process; returns its JSON line. */
function runUnderBun(target: 'redis' | 'nats'): Record<string, unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `freshet-peer-${target}-`));
  const script = path.join(dir, 'run.ts');
  const module = path.join(REPO, 'bench/targets', `${target}.ts`);
  const className = target === 'redis' ? 'RedisTarget' : 'NatsTarget';
  fs.writeFileSync(
    script,
    `import { ${className} } from ${JSON.stringify(module)};
const target = new ${className}();
const out: Record<string, unknown> = {};
await target.start({ dir: ${JSON.stringify(path.join(dir, 'data'))}, durability: 'os-cache' });
const pid = target.pids()[0]!;
try {
  for (const [partitions, producers] of [[1, 1], [3, 2]]) {
    const spec = { stream: 'p' + partitions, partitions, producers, records: 2_001, valueBytes: 100 };
    await target.create(spec);
    out['produce' + partitions] = await target.produce(spec);
    out['consume' + partitions] = await target.consume(spec, 'decoded');
  }
  const latencies: number[] = [];
  out.latency = await target.latency(
    { stream: 'lat', ratePerSecond: 400, seconds: 0.5, valueBytes: 1024 },
    (ms) => latencies.push(ms),
  );
  out.latencies = latencies.length;
  out.latencyMin = Math.min(...latencies);
} finally {
  await target.stop();
}
let alive = true;
try { process.kill(pid, 0); } catch { alive = false; }
out.alive = alive;
console.log(JSON.stringify(out));
`,
  );
  fs.mkdirSync(path.join(dir, 'data'));
  try {
    const result = spawnSync(BUN, [script], { encoding: 'utf8', timeout: 60_000 });
    if (result.status !== 0) throw new Error(`bun exited ${result.status}: ${result.stderr}`);
    return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const [target, binary] of [
  ['redis', 'redis-server'],
  ['nats', 'nats-server'],
] as const) {
  describe(`${target} target`, () => {
    it('produces, reads back, measures latency and leaves no server behind', () => {
      // CI installs the peers (.ci/run); elsewhere: bash bench/peers/install.sh
      if (!isInstalled(binary)) {
        throw new Error(
          `${binary} is not installed: run 'bash bench/peers/install.sh' (apt-get install -y ${binary})`,
        );
      }
      const out = runUnderBun(target);
      for (const partitions of [1, 3]) {
        expect(out[`produce${partitions}`]).toMatchObject({ records: 2_001, bytes: 200_100 });
        expect(out[`consume${partitions}`]).toMatchObject({ records: 2_001, bytes: 200_100 });
      }
      expect(out.latency).toEqual({ sent: 200, received: 200 });
      expect(out.latencies).toBe(200);
      expect(out.latencyMin).toBeGreaterThan(0);
      expect(out.alive).toBe(false);
    });
  });
}
