/**
 * @module
 * zstd through the `zstd-napi` binding, for runtimes whose `node:zlib` has no zstd (Node before 22.15,
 * which runs the tests). Bun has zstd in `node:zlib`, so the broker and the binary never load this.
 */
import { Compressor as ZstdCompressor } from 'zstd-napi';
import zstdBinding from 'zstd-napi/binding.js';
import { BrokerError } from '../shared/errors.ts';
import { CompressionType } from './batch-header.ts';
import type { ZstdCodec } from './compression.ts';
import { corrupt, messageOf, tooLarge } from './compression-errors.ts';

const zstdCompressors = new Map<number, ZstdCompressor>();

function zstdCompressor(level: number): ZstdCompressor {
  let compressor = zstdCompressors.get(level);
  if (!compressor) {
    compressor = new ZstdCompressor();
    compressor.setParameters({ compressionLevel: level });
    zstdCompressors.set(level, compressor);
  }
  return compressor;
}

let zstdContext: InstanceType<typeof zstdBinding.DCtx> | null = null;
const ZSTD_CHUNK = 128 * 1024;

/** Sum of the frames' declared content sizes, or -1 when a frame does not declare one. */
function zstdContentSize(data: Uint8Array): number {
  let total = 0;
  let frame = data;
  while (frame.length > 0) {
    const size = zstdBinding.getFrameContentSize(frame);
    if (size === null) return -1;
    total += size;
    frame = frame.subarray(zstdBinding.findFrameCompressedSize(frame));
  }
  return total;
}

function unzstd(data: Uint8Array, maxBytes: number): Uint8Array {
  zstdContext ??= new zstdBinding.DCtx();
  const dctx = zstdContext;
  try {
    dctx.reset(zstdBinding.ResetDirective.sessionOnly);
    const declared = zstdContentSize(data);
    if (declared > maxBytes) throw tooLarge(CompressionType.Zstd, maxBytes);
    if (declared >= 0) {
      // Sizes are declared: allocate once. zstd fails if a frame holds more than it declared.
      const out = Buffer.allocUnsafe(declared);
      const written = dctx.decompress(out, data);
      if (written !== declared) throw corrupt(CompressionType.Zstd, `${written} bytes, ${declared} declared`);
      return out;
    }
    return unzstdStreaming(dctx, data, maxBytes);
  } catch (err) {
    if (err instanceof BrokerError) throw err;
    throw corrupt(CompressionType.Zstd, messageOf(err), err);
  }
}

/** Sizes not declared (streamed frames): decompress in chunks, never past `maxBytes` + 1 chunk byte. */
function unzstdStreaming(dctx: InstanceType<typeof zstdBinding.DCtx>, data: Uint8Array, maxBytes: number) {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let input = data;
  for (;;) {
    // One byte past the limit tells "exactly at the limit" from "beyond it".
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(ZSTD_CHUNK, input.length * 2), maxBytes - total + 1));
    const [remaining, produced, consumed] = dctx.decompressStream(chunk, input);
    input = input.subarray(consumed);
    total += produced;
    if (total > maxBytes) throw tooLarge(CompressionType.Zstd, maxBytes);
    if (produced > 0) chunks.push(chunk.subarray(0, produced));
    if (input.length === 0 && remaining === 0) break;
    if (produced === 0 && consumed === 0) throw corrupt(CompressionType.Zstd, 'decoder made no progress');
    if (input.length === 0 && produced < chunk.length) {
      throw corrupt(CompressionType.Zstd, 'frame truncated');
    }
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

export const zstdNapiCodec: ZstdCodec = {
  compress: (data, level) => zstdCompressor(level).compress(data),
  decompress: unzstd,
};
