/**
 * @module
 * Codec throughput and ratio on what the broker really compresses: the records region of 16 KiB
 * batches of ~1 KiB JSON events. Compress MB/s counts input bytes, decompress MB/s output bytes (both
 * uncompressed MB, so the two compare). Bun's built-in gzip/zstd serve as the comparison; no pure-JS
 * codec is installed (nor worth adding as a dependency just to lose to native).
 */

import { BATCH_HEADER_SIZE, CompressionType } from '../src/records/batch-header.ts';
import { compress, decompress } from '../src/records/compression.ts';
import { encodeRecordBatch } from '../src/records/record-batch.ts';
import { seededRandom } from '../test/support/seeded-random.ts';
import { type BenchOptions, mbPerSec, progress, putSummary, round, runDirectly, settle } from './harness.ts';

const RECORD_BYTES = 1024;
const BATCH_BYTES = 16 * 1024;
/** Distinct batches, cycled, so no codec sees the same input twice in a row. */
const BATCH_COUNT = 64;

const CODECS = [
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
] as const;

const WORDS = ['checkout', 'login', 'search', 'view', 'cart', 'refund', 'signup', 'logout', 'share'];
const COUNTRIES = ['DE', 'FR', 'US', 'JP', 'BR', 'IN', 'NG', 'SE'];

/** An event as services log them: ids, enums, timestamps, a nested object and an array of items. */
function jsonEvent(random: () => number): Uint8Array {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const doc = {
    eventId: `${Math.floor(random() * 2 ** 32).toString(16)}-${Math.floor(random() * 2 ** 32).toString(16)}`,
    type: pick(WORDS),
    occurredAt: new Date(1_700_000_000_000 + Math.floor(random() * 1e9)).toISOString(),
    user: { id: Math.floor(random() * 1e6), country: pick(COUNTRIES), premium: random() < 0.2 },
    session: { device: random() < 0.5 ? 'mobile' : 'desktop', durationMs: Math.floor(random() * 600_000) },
    items: [] as { sku: string; qty: number; priceCents: number; category: string }[],
  };
  while (JSON.stringify(doc).length < RECORD_BYTES - 80) {
    doc.items.push({
      sku: `SKU-${Math.floor(random() * 100_000)}`,
      qty: 1 + Math.floor(random() * 4),
      priceCents: Math.floor(random() * 50_000),
      category: pick(WORDS),
    });
  }
  return new TextEncoder().encode(JSON.stringify(doc).padEnd(RECORD_BYTES, ' '));
}

/** The uncompressed records region of each batch: exactly what the producer hands the codec. */
function makeBatches(): Uint8Array[] {
  const random = seededRandom(1);
  const perBatch = Math.floor(BATCH_BYTES / RECORD_BYTES);
  return Array.from({ length: BATCH_COUNT }, () => {
    const records = Array.from({ length: perBatch }, () => ({ value: jsonEvent(random) }));
    return encodeRecordBatch(records, { now: 1_700_000_000_000 }).subarray(BATCH_HEADER_SIZE);
  });
}

/** Runs `fn` over the inputs for about `ms`, `repeats` times; returns MB/s of `bytesPerCall`. */
function measure(
  ms: number,
  repeats: number,
  inputs: Uint8Array[],
  bytesOf: (i: number) => number,
  fn: (x: Uint8Array) => unknown,
): number[] {
  for (let i = 0; i < inputs.length; i++) fn(inputs[i]!); // warm-up: JIT, native init
  const rates: number[] = [];
  for (let r = 0; r < repeats; r++) {
    settle();
    let bytes = 0;
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < ms) {
      for (let k = 0; k < 16; k++, calls++) {
        const i = calls % inputs.length;
        fn(inputs[i]!);
        bytes += bytesOf(i);
      }
      elapsed = performance.now() - start;
    }
    rates.push(mbPerSec(bytes, elapsed));
  }
  return rates;
}

interface BunCodecs {
  gzipSync(data: Uint8Array, options?: { level?: number }): Uint8Array;
  gunzipSync(data: Uint8Array): Uint8Array;
  zstdCompressSync?(data: Uint8Array, options?: { level?: number }): Uint8Array;
  zstdDecompressSync?(data: Uint8Array): Uint8Array;
}

export async function run(opts: BenchOptions): Promise<Record<string, unknown>> {
  const ms = opts.quick ? 150 : 1000;
  const repeats = opts.quick ? 3 : 5;
  const batches = makeBatches();
  const rawSize = (i: number) => batches[i]!.length;
  const result: Record<string, unknown> = {
    bench: 'codecs',
    runtime: typeof (globalThis as { Bun?: unknown }).Bun === 'undefined' ? `node ${process.version}` : 'bun',
    recordBytes: RECORD_BYTES,
    batchBytes: round(batches.reduce((n, b) => n + b.length, 0) / batches.length, 0),
    batches: BATCH_COUNT,
  };

  for (const [name, type] of CODECS) {
    progress(`codecs: ${name}`);
    const compressed = batches.map((b) => compress(type, b));
    for (let i = 0; i < batches.length; i++) {
      const back = decompress(type, compressed[i]!);
      if (Buffer.compare(Buffer.from(back), Buffer.from(batches[i]!)) !== 0)
        throw new Error(`${name} round trip failed`);
    }
    const total = batches.reduce((n, b) => n + b.length, 0);
    result[`${name}_ratio`] = round(total / compressed.reduce((n, c) => n + c.length, 0), 2);
    putSummary(
      result,
      `${name}_compress_MBps`,
      measure(ms, repeats, batches, rawSize, (b) => compress(type, b)),
    );
    putSummary(
      result,
      `${name}_decompress_MBps`,
      measure(ms, repeats, compressed, rawSize, (c) => decompress(type, c)),
    );
  }

  // The comparison: Bun's built-in codecs (native too), through the same inputs.
  const bun = (globalThis as { Bun?: BunCodecs }).Bun;
  if (bun) {
    const gz = batches.map((b) => bun.gzipSync(b, { level: 6 }));
    putSummary(
      result,
      'bun_gzip_compress_MBps',
      measure(ms, repeats, batches, rawSize, (b) => bun.gzipSync(b, { level: 6 })),
    );
    putSummary(
      result,
      'bun_gzip_decompress_MBps',
      measure(ms, repeats, gz, rawSize, (c) => bun.gunzipSync(c)),
    );
    if (bun.zstdCompressSync && bun.zstdDecompressSync) {
      const compressZstd = bun.zstdCompressSync;
      const decompressZstd = bun.zstdDecompressSync;
      const zs = batches.map((b) => compressZstd(b, { level: 3 }));
      putSummary(
        result,
        'bun_zstd_compress_MBps',
        measure(ms, repeats, batches, rawSize, (b) => compressZstd(b, { level: 3 })),
      );
      putSummary(
        result,
        'bun_zstd_decompress_MBps',
        measure(ms, repeats, zs, rawSize, (c) => decompressZstd(c)),
      );
    }
  }
  result.pure_js_alternative = 'none installed (no pako/fflate/snappyjs/lz4js/fzstd in node_modules)';
  return result;
}

if (import.meta.main) await runDirectly(run);
