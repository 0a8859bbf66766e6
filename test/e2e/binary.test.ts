/** @module Smoke test of the compiled single binary (`bun scripts/build.ts`): broker, codecs, CLI, SIGTERM. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionType } from '../../src/records/batch-header.ts';
import '../../src/records/compression.ts';
import { encodeRecordBatch } from '../../src/records/record-batch.ts';
import { type BrokerHandle, BUN, REPO_ROOT, startBroker } from '../support/broker.ts';
import { startEtcd } from '../support/etcd.ts';
import { produceJson, readPartition, requestJson, runToExit, stderrClosed, uniqueTopic } from './support.ts';

/** Native addons the broker needs; each must be embedded in the binary, not loaded from node_modules. */
const ADDONS = ['zstd-napi', 'snappy', 'lz4-napi', 'sse4_crc32'];

/** Shared objects mapped into a running process (Linux: /proc/<pid>/maps). */
function mappedFiles(pid: number): string[] {
  const files = new Set<string>();
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const file = line.trim().split(/\s+/)[5];
    if (file?.startsWith('/')) files.add(file);
  }
  return [...files];
}

describe('the compiled freshet binary', () => {
  let workDir: string;
  let binary: string;
  let broker: BrokerHandle | undefined;

  beforeAll(async () => {
    workDir = mkdtempSync(path.join(tmpdir(), 'freshet-e2e-binary-'));
    binary = path.join(workDir, 'freshet');
    const built = await runToExit(BUN, ['scripts/build.ts', binary], { timeoutMs: 80_000 });
    expect(built.code, `build failed:\n${built.stdout}\n${built.stderr}`).toBe(0);
    // Run from a directory outside the repository, as a user would.
    broker = await startBroker({
      command: [binary, 'broker'],
      cwd: workDir,
      dataDir: path.join(workDir, 'data'),
      workers: 2,
    });
  }, 90_000);

  afterAll(async () => {
    await broker?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('serves JSON produce and consume', async () => {
    const { url } = broker!;
    expect((await requestJson(`${url}/healthz`)).body).toEqual({ status: 'ok' });
    const topic = uniqueTopic('bin-json');
    const results = await produceJson(url, topic, [{ key: 'k', value: 'from the binary' }, { value: 'two' }]);
    expect(results).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    const records = await readPartition(url, topic, 0);
    expect(records.map((r) => [r.offset, r.key, r.value])).toEqual([
      [0, 'k', 'from the binary'],
      [1, null, 'two'],
    ]);
  });

  it.each([
    ['zstd', CompressionType.Zstd],
    ['snappy', CompressionType.Snappy],
  ] as const)(
    'accepts a %s-compressed raw batch (its native addon is embedded)',
    async (_name, compression) => {
      const { url } = broker!;
      const topic = uniqueTopic('bin-codec');
      const values = Array.from({ length: 20 }, (_, i) => `compressed ${i} ${'z'.repeat(64)}`);
      const batch = encodeRecordBatch(
        values.map((value) => ({ value: Buffer.from(value) })),
        { compression },
      );
      const response = await fetch(`${url}/v1/topics/${topic}/records?partition=0`, {
        method: 'POST',
        headers: { 'content-type': 'application/vnd.kafka.recordbatch' },
        body: batch as BodyInit,
      });
      expect(response.status, await response.clone().text()).toBe(200);
      expect((await readPartition(url, topic, 0)).map((r) => r.value)).toEqual(values);

      // The addons in use were unpacked from the binary, not found in this checkout's node_modules.
      const nodeModules = path.join(REPO_ROOT, 'node_modules');
      const fromCheckout = mappedFiles(broker!.process.pid!).filter(
        (file) => file.startsWith(nodeModules) && ADDONS.some((addon) => file.includes(addon)),
      );
      expect(fromCheckout).toEqual([]);
    },
  );

  it('loads no native code from the build tree', async () => {
    // Exercise msgpack both ways so every lazily loaded addon is in.
    const response = await fetch(`${broker!.url}/v1/topics/${uniqueTopic('bin-msgpack')}/records`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack', accept: 'application/msgpack' },
      body: pack({ records: [{ value: 'x' }] }) as BodyInit,
    });
    expect(response.status).toBe(200);
    const fromCheckout = mappedFiles(broker!.process.pid!).filter((file) => file.startsWith(`${REPO_ROOT}/`));
    expect(fromCheckout).toEqual([]);
  });

  it('runs the CLI in the same binary: freshet topics list', async () => {
    const { url } = broker!;
    const topic = uniqueTopic('bin-cli');
    await produceJson(url, topic, [{ value: 'x' }]);
    const table = await runToExit(binary, ['topics', 'list', '--url', url], { cwd: workDir });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain(topic);
    const json = await runToExit(binary, ['topics', 'list', '--url', url, '--json'], { cwd: workDir });
    expect(json.code, json.stderr).toBe(0);
    expect((JSON.parse(json.stdout) as { topics: unknown[] }).topics).toContainEqual({
      name: topic,
      partitions: 1,
    });
  });

  it('joins an etcd cluster with no node_modules around (etcd3 protos embedded)', async () => {
    const etcd = await startEtcd();
    const member = await startBroker({
      command: [binary, 'broker'],
      cwd: workDir,
      dataDir: path.join(workDir, 'cluster-data'),
      workers: 1,
      args: ['--etcd', etcd.url, '--node-id', '7', '--cluster', 'binary'],
    });
    try {
      type Status = {
        mode: string;
        controller: { nodeId: number } | null;
        brokers: Array<{ nodeId: number }>;
      };
      // The election follows registration by a moment: wait for it (bounded).
      let status: Status = { mode: '', controller: null, brokers: [] };
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
        status = (await (await fetch(`${member.url}/v1/cluster`)).json()) as Status;
        if (status.controller !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status.mode).toBe('etcd');
      expect(status.brokers.map((b) => b.nodeId)).toEqual([7]);
      expect(status.controller?.nodeId).toBe(7);
    } finally {
      await member.stop();
      await etcd.stop();
    }
  }, 60_000);

  it('exits 0 on SIGTERM after logging "stopped"', async () => {
    const child = broker!.process;
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    await stderrClosed(child);
    expect(broker!.stderr()).toContain('"msg":"stopped"');
  });
});
