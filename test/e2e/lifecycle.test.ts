/** @module The broker process's life: start, health, SIGTERM, the data-dir lock, bad settings, --help, env. */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type BrokerHandle, BUN, startBroker } from '../support/broker.ts';
import {
  describeTopic,
  produceJson,
  readPartition,
  requestJson,
  runToExit,
  stderrClosed,
  uniqueTopic,
} from './support.ts';

const running: BrokerHandle[] = [];
const dirs: string[] = [];

async function start(options: Parameters<typeof startBroker>[0] = {}): Promise<BrokerHandle> {
  const broker = await startBroker({ workers: 1, ...options });
  running.push(broker);
  return broker;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'freshet-e2e-lifecycle-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((broker) => broker.stop()));
});

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('broker process lifecycle', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'starts, answers /healthz, and on %s logs "stopped" and exits 0',
    async (signal) => {
      const broker = await start();
      const health = await requestJson<{ status: string }>(`${broker.url}/healthz`);
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: 'ok' });

      const exit = new Promise<number | null>((resolve) =>
        broker.process.once('exit', (code) => resolve(code)),
      );
      broker.process.kill(signal);
      expect(await exit).toBe(0);
      await stderrClosed(broker.process);
      const messages = broker
        .stderr()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(messages).toContain('stopped');
      expect(existsSync(path.join(broker.dataDir, '.lock'))).toBe(false);
    },
  );

  it('on SIGTERM answers a long-polled fetch at once and exits promptly', async () => {
    const broker = await start();
    const topic = uniqueTopic('poll-stop');
    await produceJson(broker.url, topic, [{ value: 'only' }]);
    const started = Date.now();
    const polling = requestJson<{ records: unknown[] }>(
      `${broker.url}/v1/topics/${topic}/partitions/0/records?offset=1&maxWaitMs=8000`,
    ).then(
      (answer) => ({ status: answer.status, records: answer.body.records, ms: Date.now() - started }),
      (err: Error) => ({ status: 0, records: [], ms: Date.now() - started, error: String(err.cause ?? err) }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const exit = new Promise<{ code: number | null; ms: number }>((resolve) =>
      broker.process.once('exit', (code) => resolve({ code, ms: Date.now() - started })),
    );
    broker.process.kill('SIGTERM');
    const poll = await polling;
    const exited = await exit;
    // Waiting fetches answer with what they have; a shutdown is not held up by maxWaitMs (up to 30 s).
    expect(poll).toMatchObject({ status: 200, records: [] });
    expect(poll.ms).toBeLessThan(3_000);
    expect(exited.code).toBe(0);
    expect(exited.ms).toBeLessThan(4_000);
  });

  it('refuses a second broker on the same data dir, naming it, while the first keeps serving', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const topic = uniqueTopic('lock');
    await produceJson(first.url, topic, [{ value: 'before' }]);

    const second = await runToExit(BUN, [
      'src/main.ts',
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--kafka-port',
      '0',
      '--workers',
      '1',
    ]);
    expect(second.code).not.toBe(0);
    expect(second.code).not.toBeNull();
    expect(second.stderr).toContain(dataDir);
    expect(second.stderr).toContain(String(first.process.pid));
    expect(second.stdout).not.toContain('listening');

    // The same dir reached through a symlink is the same dir.
    const link = path.join(tempDir(), 'link');
    symlinkSync(dataDir, link);
    const viaLink = await runToExit(BUN, [
      'src/main.ts',
      '--data-dir',
      link,
      '--http-port',
      '0',
      '--kafka-port',
      '0',
      '--workers',
      '1',
    ]);
    expect(viaLink.code).not.toBe(0);
    expect(viaLink.stderr).toContain(String(first.process.pid));

    expect((await requestJson(`${first.url}/healthz`)).status).toBe(200);
    await produceJson(first.url, topic, [{ value: 'after' }]);
    expect((await readPartition(first.url, topic, 0)).map((r) => r.value)).toEqual(['before', 'after']);
    expect(readFileSync(path.join(dataDir, '.lock'), 'utf8').trim()).toBe(String(first.process.pid));
  });

  it('takes over the stale lock of a broker killed with SIGKILL, keeping its data', async () => {
    const dataDir = tempDir();
    const first = await start({ dataDir });
    const topic = uniqueTopic('stale');
    await produceJson(first.url, topic, [{ value: 'one' }, { value: 'two' }]);
    await first.kill9();
    expect(readFileSync(path.join(dataDir, '.lock'), 'utf8').trim()).toBe(String(first.process.pid));

    const second = await start({ dataDir });
    expect((await requestJson(`${second.url}/healthz`)).status).toBe(200);
    expect(readFileSync(path.join(dataDir, '.lock'), 'utf8').trim()).toBe(String(second.process.pid));
    expect((await readPartition(second.url, topic, 0)).map((r) => r.value)).toEqual(['one', 'two']);
  });

  const badSettings: Array<{ args: string[]; env: Record<string, string>; names: string[] }> = [
    { args: ['--http-port', 'abc'], env: {}, names: ['--http-port', 'abc'] },
    { args: ['--workers', '0'], env: {}, names: ['--workers', '0'] },
    { args: ['--flush-policy', 'sometimes'], env: {}, names: ['--flush-policy', 'sometimes'] },
    { args: ['--no-such-flag', '1'], env: {}, names: ['--no-such-flag'] },
    { args: [], env: { FRESHET_DEFAULT_PARTITIONS: 'many' }, names: ['FRESHET_DEFAULT_PARTITIONS', 'many'] },
  ];
  it.each(badSettings)(
    'stops at start on a bad setting $args $env, naming it',
    async ({ args, env, names }) => {
      const dataDir = tempDir();
      const result = await runToExit(BUN, ['src/main.ts', '--data-dir', dataDir, '--workers', '1', ...args], {
        env,
      });
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      for (const name of names) expect(result.stderr).toContain(name);
      expect(result.stdout).not.toContain('listening');
      // It never got as far as taking the lock.
      expect(existsSync(path.join(dataDir, '.lock'))).toBe(false);
    },
  );

  it('stops with exit ≠ 0 and a message naming the port when the HTTP port is taken, releasing the lock', async () => {
    const holder = await start();
    const port = new URL(holder.url).port;
    const dataDir = tempDir();
    const result = await runToExit(BUN, [
      'src/main.ts',
      '--data-dir',
      dataDir,
      '--http-port',
      port,
      '--kafka-port',
      '0',
      '--workers',
      '1',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain(port);
    expect(result.stdout).not.toContain('listening');
    expect(existsSync(path.join(dataDir, '.lock')), 'the lock file is left behind').toBe(false);
    expect((await requestJson(`${holder.url}/healthz`)).status).toBe(200);
  });

  it('--help exits 0 and lists the flags', async () => {
    const result = await runToExit(BUN, ['src/main.ts', '--help']);
    expect(result.code).toBe(0);
    for (const flag of [
      '--data-dir',
      '--host',
      '--http-port',
      '--workers',
      '--default-partitions',
      '--max-in-flight-bytes',
      '--flush-policy',
      '--segment-bytes',
    ]) {
      expect(result.stdout).toContain(flag);
    }
    expect(result.stdout).toContain('FRESHET_HTTP_PORT');
  });

  it('honours FRESHET_* environment variables, with flags taking precedence', async () => {
    const fromEnv = await start({ env: { FRESHET_DEFAULT_PARTITIONS: '3', FRESHET_FLUSH_POLICY: 'always' } });
    const topic = uniqueTopic('env');
    await produceJson(fromEnv.url, topic, [{ value: 'auto-created' }]);
    const described = await describeTopic(fromEnv.url, topic);
    expect(described.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(described.config['flush.policy']).toBe('always');

    const flagWins = await start({
      env: { FRESHET_DEFAULT_PARTITIONS: '3' },
      args: ['--default-partitions', '2'],
    });
    await produceJson(flagWins.url, topic, [{ value: 'auto-created' }]);
    expect((await describeTopic(flagWins.url, topic)).partitions).toHaveLength(2);
  });
});
