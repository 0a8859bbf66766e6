/**
 * @module
 * Log slices as response bodies: the node:fs fallback, and the Bun path run for real under Bun.serve.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sliceBody } from '../../src/http/slice-body.ts';
import { BrokerError } from '../../src/shared/errors.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const BUN = path.join(REPO, 'node_modules/.bin/bun');

describe('sliceBody', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'freshet-slice-'));
    file = path.join(dir, '00000000000000000000.log');
    fs.writeFileSync(file, Buffer.from(Array.from({ length: 100 }, (_, i) => i)));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads file ranges and bytes, in order (Node fallback)', async () => {
    const body = await sliceBody([
      { kind: 'file', path: file, position: 10, length: 3 },
      { kind: 'bytes', bytes: new Uint8Array([200, 201]) },
      { kind: 'file', path: file, position: 97, length: 3 },
    ]);
    expect(body).toEqual(new Uint8Array([10, 11, 12, 200, 201, 97, 98, 99]));
    expect(await sliceBody([])).toEqual(new Uint8Array(0));
  });

  it('fails with a retriable storage error when the file is gone or shorter', async () => {
    for (const slice of [
      { kind: 'file' as const, path: path.join(dir, 'missing.log'), position: 0, length: 1 },
      { kind: 'file' as const, path: file, position: 99, length: 5 },
    ]) {
      const failure = await sliceBody([slice]).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(BrokerError);
      expect((failure as BrokerError).code).toBe('KAFKA_STORAGE_ERROR');
    }
  });

  it('under Bun, serves file slices as lazy Bun.file blobs through Bun.serve', () => {
    // Runs the Bun path for real: a file-backed engine behind Bun.serve, a raw produce and a raw fetch over
    // HTTP, compared with what was produced.
    const script = path.join(dir, 'bun-check.ts');
    fs.writeFileSync(
      script,
      `
import { sliceBody } from ${JSON.stringify(path.join(REPO, 'src/http/slice-body.ts'))};
import { createApp } from ${JSON.stringify(path.join(REPO, 'src/http/app.ts'))};
import { createLocalEngine } from ${JSON.stringify(path.join(REPO, 'src/ipc/local-engine.ts'))};
import { DEFAULT_BROKER_CONFIG } from ${JSON.stringify(path.join(REPO, 'src/config/broker-config.ts'))};
import { encodeRecordBatch } from ${JSON.stringify(path.join(REPO, 'src/records/record-batch.ts'))};

const file = ${JSON.stringify(file)};
const one = await sliceBody([{ kind: 'file', path: file, position: 10, length: 3 }]);
if (!(one instanceof Blob) || one.size !== 3) throw new Error('one file slice should stay a Blob of 3 bytes');
const many = await sliceBody([
  { kind: 'file', path: file, position: 10, length: 3 },
  { kind: 'bytes', bytes: new Uint8Array([200]) },
  { kind: 'file', path: file, position: 98, length: 2 },
]);
const manyBytes = [...new Uint8Array(await new Response(many).arrayBuffer())];
if (manyBytes.join() !== '10,11,12,200,98,99') throw new Error('slices: ' + manyBytes.join());

const config = { ...DEFAULT_BROKER_CONFIG, workers: 1, dataDir: ${JSON.stringify(path.join(dir, 'data'))} };
const engine = await createLocalEngine({ config });
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: createApp(engine, { config }).fetch });
try {
  const base = 'http://127.0.0.1:' + server.port;
  await fetch(base + '/v1/topics', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 't', config: { 'segment.bytes': 100 } }) });
  const batches = [encodeRecordBatch([{ value: new Uint8Array([1, 2, 3]) }]), encodeRecordBatch([{ value: null }, { value: new Uint8Array([4]) }])];
  for (const batch of batches) {
    const res = await fetch(base + '/v1/topics/t/records?partition=0', { method: 'POST', headers: { 'content-type': 'application/vnd.kafka.recordbatch' }, body: batch.slice() });
    if (res.status !== 200) throw new Error('produce: ' + res.status + ' ' + (await res.text()));
  }
  const slices = (await engine.fetchRaw({ topic: 't', partition: 0, offset: 0, maxBytes: 1 << 20, maxWaitMs: 0, minBytes: 1 })).slices;
  // segment.bytes 100 puts each batch in a segment of its own: two file slices, the streamed path.
  if (slices.length !== 2 || slices.some((s) => s.kind !== 'file')) throw new Error('expected 2 file slices');
  const res = await fetch(base + '/v1/topics/t/partitions/0/records', { headers: { accept: 'application/vnd.kafka.recordbatch' } });
  const got = new Uint8Array(await res.arrayBuffer());
  const want = new Uint8Array(batches[0].length + batches[1].length);
  want.set(batches[0]);
  want.set(batches[1], batches[0].length);
  new DataView(want.buffer).setUint32(batches[0].length + 4, 1); // the second batch's baseOffset, as assigned
  if (res.headers.get('freshet-next-offset') !== '3') throw new Error('next offset ' + res.headers.get('freshet-next-offset'));
  if (Buffer.compare(Buffer.from(got), Buffer.from(want)) !== 0) throw new Error('raw fetch bytes differ: ' + got.length + ' vs ' + want.length);
  // From offset 1: the second segment only, one file slice sent as a Blob.
  const tail = await fetch(base + '/v1/topics/t/partitions/0/records?offset=1', { headers: { accept: 'application/vnd.kafka.recordbatch' } });
  const tailBytes = new Uint8Array(await tail.arrayBuffer());
  if (Buffer.compare(Buffer.from(tailBytes), Buffer.from(want.subarray(batches[0].length))) !== 0) throw new Error('tail bytes differ');
  if (tail.headers.get('content-length') !== String(batches[1].length)) throw new Error('tail content-length ' + tail.headers.get('content-length'));
} finally {
  server.stop(true);
  await engine.close();
}
console.log('bun-ok');
`,
    );
    const run = spawnSync(BUN, ['run', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('bun-ok');
    expect(run.status).toBe(0);
  });
});
