/**
 * @module
 * The record batch codecs (gzip, snappy, lz4, zstd), synchronous, with a decompressed-size guard.
 * Server-side (native bindings, `node:zlib`); importing this module also installs it as the codec of
 * `record-batch.ts` (see `useCompression`), as `crc32c-native.ts` does for the CRC.
 *
 * Wire formats, as the Kafka clients in the wild write them:
 * - gzip: a gzip stream (RFC 1952); several members are accepted.
 * - snappy: we write raw snappy (as librdkafka does). We read raw snappy and the xerial framing of the
 *   Java client and kafka-python: magic `82 'SNAPPY' 00`, int32 version, int32 compatible version, then
 *   blocks of [int32 big-endian length][raw snappy block].
 * - lz4: the LZ4 *frame* format (magic 04 22 4D 18), as RecordBatch v2 uses it; blocks may be
 *   independent (Java, kafka-python) or linked (librdkafka).
 * - zstd: one or more zstd frames; the content size may be absent (the Java client streams).
 *
 * Every decompression is bounded by `maxBytes` *before* the output is allocated, so a small batch
 * cannot expand into gigabytes (a decompression bomb): snappy and zstd read the sizes their headers
 * declare, gzip stops zlib at the limit, lz4 bounds each block from its compressed size.
 */
import zlib, { gunzipSync, gzipSync } from 'node:zlib';
import { compressFrameSync, decompressFrameSync, uncompressSync as lz4UncompressBlock } from 'lz4-napi';
import { compressSync as snappyCompress, uncompressSync as snappyUncompress } from 'snappy';
import { CompressionType } from './batch-header.ts';
import { corrupt, messageOf, tooLarge, unsupported } from './compression-errors.ts';
import { useCompression } from './record-batch.ts';
import { readUnsignedVarint } from './varint.ts';

/** Default bound on one batch's decompressed records: far above any sane batch, far below exhausting memory. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

/** Kafka's default levels (gzip: zlib's default 6, zstd: 3); lz4-napi and snappy have no levels. */
const GZIP_DEFAULT_LEVEL = 6;
const ZSTD_DEFAULT_LEVEL = 3;

/** A Buffer view of `data`, sharing its memory (the napi bindings insist on Buffers). */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Compresses `data` with `type` (None returns `data` itself). `level` applies to gzip and zstd.
 * Throws UNSUPPORTED_COMPRESSION_TYPE for codecs 5..7.
 */
export function compress(type: CompressionType, data: Uint8Array, level?: number): Uint8Array {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gzipSync(data, { level: level ?? GZIP_DEFAULT_LEVEL });
    case CompressionType.Snappy:
      return snappyCompress(data);
    case CompressionType.Lz4:
      return compressFrameSync(asBuffer(data));
    case CompressionType.Zstd:
      return zstd.compress(data, level ?? ZSTD_DEFAULT_LEVEL);
    default:
      throw unsupported(type);
  }
}

/**
 * Decompresses `data` written with `type` (None returns `data` itself). Throws CORRUPT_MESSAGE for
 * corrupt input or output beyond `maxBytes`, UNSUPPORTED_COMPRESSION_TYPE for codecs 5..7.
 */
export function decompress(
  type: CompressionType,
  data: Uint8Array,
  maxBytes = DEFAULT_MAX_DECOMPRESSED_BYTES,
): Uint8Array {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return gunzip(data, maxBytes);
    case CompressionType.Snappy:
      return isXerial(data) ? unsnappyXerial(data, maxBytes) : unsnappyRaw(data, 0, data.length, maxBytes);
    case CompressionType.Lz4:
      return unlz4(data, maxBytes);
    case CompressionType.Zstd:
      return zstd.decompress(data, maxBytes);
    default:
      throw unsupported(type);
  }
}

// ---------------------------------------------------------------------------------------------- gzip

function gunzip(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    // zlib stops inflating at maxOutputLength and throws, so the limit is never allocated past.
    return gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      throw tooLarge(CompressionType.Gzip, maxBytes);
    throw corrupt(CompressionType.Gzip, messageOf(err), err);
  }
}

// -------------------------------------------------------------------------------------------- snappy

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
/** Magic (8) + version (4) + compatible version (4). */
const XERIAL_HEADER_SIZE = 16;

function isXerial(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_SIZE) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** A raw snappy block starts with its uncompressed length as an unsigned varint. */
function snappyLength(data: Uint8Array, start: number, end: number): number {
  try {
    return readUnsignedVarint(data.subarray(start, end), { pos: 0 });
  } catch (err) {
    throw corrupt(CompressionType.Snappy, `bad length preamble: ${messageOf(err)}`, err);
  }
}

function unsnappyRaw(data: Uint8Array, start: number, end: number, maxBytes: number): Uint8Array {
  // The binding allocates exactly the declared length and fails if the block disagrees, so checking
  // the declared length bounds the allocation.
  if (snappyLength(data, start, end) > maxBytes) throw tooLarge(CompressionType.Snappy, maxBytes);
  try {
    return snappyUncompress(data.subarray(start, end)) as Buffer;
  } catch (err) {
    throw corrupt(CompressionType.Snappy, messageOf(err), err);
  }
}

function unsnappyXerial(data: Uint8Array, maxBytes: number): Uint8Array {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // First pass: check the framing and sum the declared sizes, so the output is allocated once.
  let total = 0;
  let pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt(CompressionType.Snappy, 'xerial block length truncated');
    const size = dv.getInt32(pos);
    if (size < 0 || size > data.length - pos - 4) {
      throw corrupt(CompressionType.Snappy, `xerial block of ${size} bytes overruns the data`);
    }
    total += snappyLength(data, pos + 4, pos + 4 + size);
    if (total > maxBytes) throw tooLarge(CompressionType.Snappy, maxBytes);
    pos += 4 + size;
  }
  const out = new Uint8Array(total);
  let written = 0;
  pos = XERIAL_HEADER_SIZE;
  while (pos < data.length) {
    const size = dv.getInt32(pos);
    const block = unsnappyRaw(data, pos + 4, pos + 4 + size, maxBytes);
    out.set(block, written);
    written += block.length;
    pos += 4 + size;
  }
  return out;
}

// ----------------------------------------------------------------------------------------------- lz4

const LZ4_MAGIC = 0x184d2204;
/** Block maximum sizes by the BD byte's bits 4-6 (values 4..7). */
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
/** No LZ4 sequence produces more than 255 bytes per input byte (each 0xFF length byte adds 255). */
const LZ4_MAX_RATIO = 255;
/** A linked block may copy from the 64 KiB before it. */
const LZ4_WINDOW = 64 << 10;

interface Lz4Frame {
  /** Position of the first block. */
  pos: number;
  linked: boolean;
  blockMax: number;
  blockChecksum: boolean;
  contentChecksum: boolean;
}

function readLz4FrameHeader(data: Uint8Array, dv: DataView, pos: number): Lz4Frame {
  if (data.length - pos < 7) throw corrupt(CompressionType.Lz4, 'frame header truncated');
  if (dv.getUint32(pos, true) !== LZ4_MAGIC)
    throw corrupt(CompressionType.Lz4, 'not an LZ4 frame (bad magic)');
  const flg = data[pos + 4]!;
  const bd = data[pos + 5]!;
  if (flg >> 6 !== 1) throw corrupt(CompressionType.Lz4, `unsupported frame version ${flg >> 6}`);
  if (flg & 0x01) throw corrupt(CompressionType.Lz4, 'frames with a dictionary id are not supported');
  const blockMax = LZ4_BLOCK_MAX[(bd >> 4) & 0x07]!;
  if (blockMax === 0)
    throw corrupt(CompressionType.Lz4, `invalid block maximum size code ${(bd >> 4) & 0x07}`);
  const headerSize = 7 + (flg & 0x08 ? 8 : 0);
  if (data.length - pos < headerSize) throw corrupt(CompressionType.Lz4, 'frame header truncated');
  return {
    pos: pos + headerSize,
    linked: (flg & 0x20) === 0,
    blockMax,
    blockChecksum: (flg & 0x10) !== 0,
    contentChecksum: (flg & 0x04) !== 0,
  };
}

/**
 * Walks the frames' block structure (no decompression), calling `onBlock` for each block, and returns
 * an upper bound on the decompressed size. Throws CORRUPT_MESSAGE on a malformed structure.
 */
function walkLz4(
  data: Uint8Array,
  onBlock?: (frame: Lz4Frame, start: number, size: number, stored: boolean, first: boolean) => void,
): number {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let bound = 0;
  let pos = 0;
  do {
    const frame = readLz4FrameHeader(data, dv, pos);
    pos = frame.pos;
    let first = true;
    for (;;) {
      if (data.length - pos < 4) throw corrupt(CompressionType.Lz4, 'block size truncated (no end mark)');
      const word = dv.getUint32(pos, true);
      pos += 4;
      if (word === 0) break;
      const stored = word >= 0x80000000; // high bit: the block is stored uncompressed
      const size = word & 0x7fffffff;
      if (size > frame.blockMax)
        throw corrupt(CompressionType.Lz4, `block of ${size} bytes exceeds its maximum`);
      if (size > data.length - pos) throw corrupt(CompressionType.Lz4, 'block truncated');
      bound += stored ? size : Math.min(frame.blockMax, size * LZ4_MAX_RATIO);
      onBlock?.(frame, pos, size, stored, first);
      first = false;
      pos += size + (frame.blockChecksum ? 4 : 0);
    }
    pos += frame.contentChecksum ? 4 : 0;
    if (pos > data.length) throw corrupt(CompressionType.Lz4, 'content checksum truncated');
  } while (pos < data.length);
  return bound;
}

function unlz4(data: Uint8Array, maxBytes: number): Uint8Array {
  const bound = walkLz4(data);
  if (bound <= maxBytes) {
    // Common case: even the worst case fits, so one native call (which also checks the checksums).
    try {
      return decompressFrameSync(asBuffer(data));
    } catch (err) {
      throw corrupt(CompressionType.Lz4, messageOf(err), err);
    }
  }
  return unlz4Bounded(data, maxBytes);
}

/**
 * Decompresses block by block, never holding more than `maxBytes`: for frames whose worst case
 * exceeds the limit (large batches, bombs). Checksums are skipped; the batch CRC covers these bytes.
 */
function unlz4Bounded(data: Uint8Array, maxBytes: number): Uint8Array {
  let out = new Uint8Array(Math.min(maxBytes, Math.max(LZ4_WINDOW, data.length * 4)));
  let length = 0;
  let frameStart = 0;
  walkLz4(data, (frame, start, size, stored, first) => {
    if (first) frameStart = length;
    const room = maxBytes - length;
    let block: Uint8Array;
    if (stored) {
      block = data.subarray(start, start + size);
      if (block.length > room) throw tooLarge(CompressionType.Lz4, maxBytes);
    } else {
      if (room === 0) throw tooLarge(CompressionType.Lz4, maxBytes);
      const capacity = Math.min(frame.blockMax, room);
      // lz4-napi's block API reads a little-endian capacity before the block.
      const input = Buffer.allocUnsafe(4 + size);
      input.writeUInt32LE(capacity, 0);
      input.set(data.subarray(start, start + size), 4);
      const dict = frame.linked ? out.subarray(Math.max(frameStart, length - LZ4_WINDOW), length) : undefined;
      try {
        block =
          dict && dict.length > 0 ? lz4UncompressBlock(input, asBuffer(dict)) : lz4UncompressBlock(input);
      } catch (err) {
        if (capacity < frame.blockMax) throw tooLarge(CompressionType.Lz4, maxBytes);
        throw corrupt(CompressionType.Lz4, messageOf(err), err);
      }
    }
    if (length + block.length > out.length) {
      const grown = new Uint8Array(Math.min(maxBytes, Math.max(out.length * 2, length + block.length)));
      grown.set(out.subarray(0, length));
      out = grown;
    }
    out.set(block, length);
    length += block.length;
  });
  return out.subarray(0, length);
}

// ---------------------------------------------------------------------------------------------- zstd

export interface ZstdCodec {
  compress(data: Uint8Array, level: number): Uint8Array;
  decompress(data: Uint8Array, maxBytes: number): Uint8Array;
}

/** zstd of `node:zlib` (Bun; Node 22.15+), bounded like gunzip by maxOutputLength. */
const zlibZstd: ZstdCodec = {
  compress: (data, level) =>
    zlib.zstdCompressSync(data, { params: { [zlib.constants.ZSTD_c_compressionLevel]: level } }),
  decompress(data, maxBytes) {
    try {
      return zlib.zstdDecompressSync(data, { maxOutputLength: Math.max(1, maxBytes) });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
        throw tooLarge(CompressionType.Zstd, maxBytes);
      throw corrupt(CompressionType.Zstd, messageOf(err), err);
    }
  },
};

const zstd: ZstdCodec =
  typeof zlib.zstdCompressSync === 'function'
    ? zlibZstd
    : (await import('./zstd-napi-codec.ts')).zstdNapiCodec;

useCompression({ compress, decompress });
