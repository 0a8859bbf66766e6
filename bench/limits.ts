/** @module What this machine can do at best, measured in the same run as the suite: raw sequential writes (buffered, and fdatasync per 1 MiB), page-cache reads and loopback TCP; the suite reports Freshet's figures as ratios of these. */
import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BenchOptions,
  MIB,
  makeTempDir,
  mbPerSec,
  median,
  progress,
  removeDir,
  round,
  runDirectly,
  settle,
} from './harness.ts';

/*
 * Every figure is in MB/s (10^6 bytes), median/min/max over the repetitions (3; quick: 1):
 *
 * - write_buffered: writeSync of 1 MiB chunks (distinct random bytes, prepared before the clock) to a new file
 *   in the bench temp dir, no fsync: the page-cache write path that Freshet's interval policy and W1/W2 use.
 * - write_fdatasync_1mib: the same with fdatasync after every 1 MiB: what an fsync-before-ack log could do if
 *   every group commit were 1 MiB (W2s's ceiling on this disk).
 * - page_cache_read: the write_buffered file read back just after it was written, in 1 MiB readSync calls
 *   (it is in the page cache): W3's ceiling from storage.
 * - loopback_tcp: this process (Bun.connect) pushes 1 MiB chunks, honouring back-pressure, to a sink in a
 *   separate Bun process (Bun.listen on 127.0.0.1) that counts bytes; timed from the first write until the
 *   sink reports the last byte. Client and server are separate processes, as in every workload, so both cores
 *   can work: the ceiling for moving bytes between the client and the broker.
 */

export interface LimitFigure {
  unit: 'MB/s';
  median: number;
  min: number;
  max: number;
  samples: number[];
  /** What one sample moved. */
  bytes: number;
  description: string;
}

export type LimitName = 'write_buffered' | 'write_fdatasync_1mib' | 'page_cache_read' | 'loopback_tcp';
export type Limits = Record<LimitName, LimitFigure>;

const CHUNK_BYTES = 1 * MIB;
/** Distinct chunks written in turn, so neighbouring writes carry different bytes. */
const CHUNK_POOL = 16;

interface Plan {
  reps: number;
  writeBytes: number;
  syncBytes: number;
  tcpBytes: number;
}

function planFor(opts: BenchOptions): Plan {
  return opts.quick
    ? { reps: 1, writeBytes: 256 * MIB, syncBytes: 32 * MIB, tcpBytes: 512 * MIB }
    : { reps: 3, writeBytes: 1024 * MIB, syncBytes: 256 * MIB, tcpBytes: 2048 * MIB };
}

function randomChunks(): Uint8Array[] {
  return Array.from({ length: CHUNK_POOL }, () => {
    const chunk = new Uint8Array(CHUNK_BYTES);
    for (let at = 0; at < CHUNK_BYTES; at += 65536) crypto.getRandomValues(chunk.subarray(at, at + 65536));
    return chunk;
  });
}

function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Writes `bytes` sequentially (fdatasync per chunk when `sync`), then reads them back; MB/s of each. */
function diskRun(chunks: Uint8Array[], bytes: number, sync: boolean): { writeMbS: number; readMbS: number } {
  const dir = makeTempDir('limits');
  try {
    const fd = openSync(join(dir, 'raw.log'), 'w+');
    try {
      const count = Math.ceil(bytes / CHUNK_BYTES);
      settle();
      const start = performance.now();
      for (let i = 0; i < count; i++) {
        writeFully(fd, chunks[i % CHUNK_POOL]!);
        if (sync) fdatasyncSync(fd);
      }
      const writeMs = performance.now() - start;
      const buf = new Uint8Array(CHUNK_BYTES);
      const readStart = performance.now();
      for (let position = 0; position < count * CHUNK_BYTES; ) {
        const n = readSync(fd, buf, 0, CHUNK_BYTES, position);
        if (n === 0) throw new Error(`limits: short read at ${position}`);
        position += n;
      }
      const readMs = performance.now() - readStart;
      return {
        writeMbS: mbPerSec(count * CHUNK_BYTES, writeMs),
        readMbS: mbPerSec(count * CHUNK_BYTES, readMs),
      };
    } finally {
      closeSync(fd);
    }
  } finally {
    removeDir(dir);
  }
}

/** The sink: prints its port, counts bytes, prints `done` once `expected` bytes came in, then exits. */
const SINK_SOURCE = `
const expected = Number(process.argv.at(-1));
let received = 0;
const server = Bun.listen({
  hostname: '127.0.0.1',
  port: 0,
  socket: {
    data(socket, data) {
      received += data.byteLength;
      if (received >= expected) {
        process.stdout.write('done\\n');
        socket.end();
        server.stop(true);
        setTimeout(() => process.exit(0), 10);
      }
    },
  },
});
process.stdout.write(server.port + '\\n');
setTimeout(() => process.exit(3), 120000);
`;

/** Pushes `bytes` over loopback TCP to a sink process; MB/s. The sink is killed by PID whatever happens. */
async function tcpRun(chunks: Uint8Array[], bytes: number): Promise<number> {
  const sink = spawn(process.execPath, ['-e', SINK_SOURCE, String(bytes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => sink.once('exit', () => done()));
  try {
    const lines: string[] = [];
    const waiters: Array<() => void> = [];
    let partial = '';
    sink.stdout!.setEncoding('utf8');
    sink.stdout!.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      for (const wake of waiters.splice(0)) wake();
    });
    const nextLine = async (timeoutMs: number): Promise<string> => {
      const deadline = performance.now() + timeoutMs;
      while (lines.length === 0) {
        if (sink.exitCode !== null || performance.now() > deadline)
          throw new Error('limits: the TCP sink did not answer');
        await new Promise<void>((wake) => {
          waiters.push(wake);
          setTimeout(wake, 100);
        });
      }
      return lines.shift()!;
    };
    const port = Number(await nextLine(20_000));
    const count = Math.ceil(bytes / CHUNK_BYTES);
    let chunk = 0;
    let at = 0;
    let start = 0;
    // Writes until the socket pushes back; `drain` calls it again.
    const pump = (socket: { write(data: Uint8Array, byteOffset?: number, byteLength?: number): number }) => {
      while (chunk < count) {
        const data = chunks[chunk % CHUNK_POOL]!;
        const n = socket.write(data, at, CHUNK_BYTES - at);
        if (n <= 0) return;
        at += n;
        if (at < CHUNK_BYTES) return;
        at = 0;
        chunk++;
      }
    };
    settle();
    const socket = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: { data() {}, drain: pump },
    });
    try {
      start = performance.now();
      pump(socket);
      const done = await nextLine(120_000);
      if (done !== 'done') throw new Error(`limits: the TCP sink said ${done}`);
      return mbPerSec(count * CHUNK_BYTES, performance.now() - start);
    } finally {
      socket.end();
    }
  } finally {
    if (sink.exitCode === null && sink.pid !== undefined) {
      process.kill(sink.pid, 'SIGKILL');
    }
    await exited;
  }
}

function figure(samples: number[], bytes: number, description: string): LimitFigure {
  const rounded = samples.map((s) => round(s));
  return {
    unit: 'MB/s',
    median: round(median(samples)),
    min: Math.min(...rounded),
    max: Math.max(...rounded),
    samples: rounded,
    bytes,
    description,
  };
}

export async function measureLimits(opts: BenchOptions): Promise<Limits> {
  const plan = planFor(opts);
  const chunks = randomChunks();
  // Warm-up, off the clock: the write, read and socket paths, and the sink's start-up.
  diskRun(chunks, 16 * MIB, false);
  await tcpRun(chunks, 64 * MIB);
  const write: number[] = [];
  const sync: number[] = [];
  const read: number[] = [];
  const tcp: number[] = [];
  for (let rep = 1; rep <= plan.reps; rep++) {
    const buffered = diskRun(chunks, plan.writeBytes, false);
    write.push(buffered.writeMbS);
    read.push(buffered.readMbS);
    sync.push(diskRun(chunks, plan.syncBytes, true).writeMbS);
    tcp.push(await tcpRun(chunks, plan.tcpBytes));
    progress(
      `limits r${rep}: write ${write.at(-1)!.toFixed(0)} MB/s, fdatasync/1 MiB ${sync.at(-1)!.toFixed(0)} MB/s, ` +
        `page-cache read ${read.at(-1)!.toFixed(0)} MB/s, loopback TCP ${tcp.at(-1)!.toFixed(0)} MB/s`,
    );
  }
  return {
    write_buffered: figure(write, plan.writeBytes, 'sequential writeSync of 1 MiB chunks, no fsync'),
    write_fdatasync_1mib: figure(
      sync,
      plan.syncBytes,
      'sequential writeSync of 1 MiB chunks, fdatasync after each',
    ),
    page_cache_read: figure(read, plan.writeBytes, 'sequential readSync of 1 MiB from the page cache'),
    loopback_tcp: figure(tcp, plan.tcpBytes, '1 MiB writes over 127.0.0.1 to a Bun sink in another process'),
  };
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const limits = await measureLimits(opts);
  return { bench: 'limits', ...limits, reps: planFor(opts).reps, quick: opts.quick };
}

if (import.meta.main) await runDirectly(run);
