import { compressSync as snappyCompress } from 'snappy';
import { describe, expect, it } from 'vitest';
import zstdBinding from 'zstd-napi/binding.js';
import { CompressionType } from '../../src/records/batch-header.ts';
import { compress, DEFAULT_MAX_DECOMPRESSED_BYTES, decompress } from '../../src/records/compression.ts';
import { BrokerError, type ErrorName } from '../../src/shared/errors.ts';
import { concat, jsonRecord, randomBytes, seededRandom } from './fixtures.ts';

const CODECS = [
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
] as const;

function errorOf(fn: () => unknown): BrokerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    return err as BrokerError;
  }
  throw new Error('expected a BrokerError');
}

function expectError(fn: () => unknown, code: ErrorName, message?: RegExp): void {
  const err = errorOf(fn);
  expect(err.code).toBe(code);
  if (message) expect(err.message).toMatch(message);
}

const random = seededRandom(42);
const json = concat(...Array.from({ length: 100 }, () => jsonRecord(random)));
const noise = randomBytes(random, 70_000);

/** xerial framing, as the Java client's SnappyOutputStream writes it. */
function xerial(data: Uint8Array, blockSize: number): Uint8Array {
  const header = new Uint8Array([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const parts: Uint8Array[] = [header];
  for (let at = 0; at < data.length; at += blockSize) {
    const block = snappyCompress(data.subarray(at, at + blockSize));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setInt32(0, block.length);
    parts.push(length, block);
  }
  return concat(...parts);
}

/** Python lz4.frame.compress(data, block_linked=True, 64 KiB blocks, content_checksum=True) of linkedData(). */
const LZ4_LINKED_FRAME = Buffer.from(
  'BCJNGERAXtMBAAD/uQAfPl18m7rZ+Rg3VnWUs9LyETBPbo2sy+sKKUhnhqXE5AMiQWB/nr3d/Bs6WXiXttb1FDNScZCvz+4NLEtqiajI5wYlRGOCocHg/x49XHuautn4FzZVdJOz0vEQL05tjKzL6gkoR2aFpcTjAiFAX36evdz7GjlYd5e21fQTMlFwkK/O7QwrSmmJqMfmBSRDYoKhwN/+HTxbe5q52PcWNVR0k7LR8A8uTW2Mq8rpCCdGZoWkw+IBID9ffp282/oZOFh3lrXU8xIxyAD/////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////IFDtDCtKaQoBAAAPeP//////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////6FAlRGOCoSwAAAAPyAD/////////////////////////////////////////////6lC11PMSMQAAAADnF5gN',
  'base64',
);

function linkedData(): Uint8Array {
  const chunk = Uint8Array.from({ length: 200 }, (_, i) => (i * 31 + (i >> 3)) & 0xff);
  const out = new Uint8Array(200 * 700);
  for (let at = 0; at < out.length; at += 200) out.set(chunk, at);
  return out;
}

describe.each(CODECS)('%s', (_name, type) => {
  it.each([
    ['empty', new Uint8Array(0)],
    ['one byte', new Uint8Array([7])],
    ['100 KiB of JSON', json],
    ['70 KB of noise', noise],
  ])('round-trips %s', (_label, data) => {
    const compressed = compress(type, data);
    expect(Buffer.from(decompress(type, compressed)).equals(Buffer.from(data))).toBe(true);
  });

  it('compresses JSON to well under half', () => {
    expect(compress(type, json).length).toBeLessThan(json.length / 2);
  });

  it('reads a view at an offset into a larger buffer', () => {
    const compressed = compress(type, json);
    const padded = concat(new Uint8Array(13).fill(0xee), compressed, new Uint8Array(5));
    const view = padded.subarray(13, 13 + compressed.length);
    expect(Buffer.from(decompress(type, view)).equals(Buffer.from(json))).toBe(true);
  });

  it('rejects garbage and truncated data with CORRUPT_MESSAGE', () => {
    expectError(() => decompress(type, randomBytes(random, 200)), 'CORRUPT_MESSAGE');
    const compressed = compress(type, json);
    expectError(() => decompress(type, compressed.subarray(0, compressed.length >> 1)), 'CORRUPT_MESSAGE');
  });

  it('stops a decompression bomb at maxBytes, and accepts exactly maxBytes', () => {
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const bomb = compress(type, zeros);
    expect(bomb.length).toBeLessThan(zeros.length / 20);
    expectError(
      () => decompress(type, bomb, 1024 * 1024),
      'CORRUPT_MESSAGE',
      /more than the 1048576-byte limit/,
    );
    expectError(() => decompress(type, bomb, zeros.length - 1), 'CORRUPT_MESSAGE', /limit/);
    expect(decompress(type, bomb, zeros.length).length).toBe(zeros.length);
  });
});

describe('codec edge cases', () => {
  it('passes uncompressed data through untouched', () => {
    expect(compress(CompressionType.None, json)).toBe(json);
    expect(decompress(CompressionType.None, json)).toBe(json);
  });

  it.each([5, 6, 7])('codec %d is UNSUPPORTED_COMPRESSION_TYPE', (type) => {
    expectError(() => compress(type as CompressionType, json), 'UNSUPPORTED_COMPRESSION_TYPE', /type \d/);
    expectError(() => decompress(type as CompressionType, json), 'UNSUPPORTED_COMPRESSION_TYPE');
  });

  it('has a generous default limit', () => {
    expect(DEFAULT_MAX_DECOMPRESSED_BYTES).toBe(64 * 1024 * 1024);
  });

  it('snappy reads the xerial framing of the Java client, one block or many', () => {
    for (const blockSize of [32 * 1024, 1000, json.length]) {
      const framed = xerial(json, blockSize);
      expect(Buffer.from(decompress(CompressionType.Snappy, framed)).equals(Buffer.from(json))).toBe(true);
    }
    expect(decompress(CompressionType.Snappy, xerial(new Uint8Array(0), 1)).length).toBe(0);
  });

  it('snappy rejects broken xerial framing and bounds it', () => {
    const framed = xerial(json, 4096);
    expectError(
      () => decompress(CompressionType.Snappy, framed.subarray(0, framed.length - 3)),
      'CORRUPT_MESSAGE',
      /overruns/,
    );
    expectError(
      () => decompress(CompressionType.Snappy, concat(framed, new Uint8Array([0, 0]))),
      'CORRUPT_MESSAGE',
      /truncated/,
    );
    expectError(() => decompress(CompressionType.Snappy, framed, 10_000), 'CORRUPT_MESSAGE', /limit/);
  });

  it('lz4 reads linked blocks (librdkafka, lz4.frame defaults), in one call and block by block', () => {
    const expected = Buffer.from(linkedData());
    expect(Buffer.from(decompress(CompressionType.Lz4, LZ4_LINKED_FRAME)).equals(expected)).toBe(true);
    // A limit below the frame's worst case forces the bounded block-by-block path.
    const bounded = decompress(CompressionType.Lz4, LZ4_LINKED_FRAME, expected.length);
    expect(Buffer.from(bounded).equals(expected)).toBe(true);
    expectError(
      () => decompress(CompressionType.Lz4, LZ4_LINKED_FRAME, expected.length - 1),
      'CORRUPT_MESSAGE',
      /limit/,
    );
  });

  it('lz4 bounded path agrees on independent blocks', () => {
    const data = concat(json, noise);
    const frame = compress(CompressionType.Lz4, data);
    expect(Buffer.from(decompress(CompressionType.Lz4, frame, data.length)).equals(Buffer.from(data))).toBe(
      true,
    );
  });

  it('lz4 rejects a bad magic, a missing end mark, a truncated block and a bad content checksum', () => {
    const frame = compress(CompressionType.Lz4, json);
    expectError(
      () => decompress(CompressionType.Lz4, concat(new Uint8Array([1]), frame.subarray(1))),
      'CORRUPT_MESSAGE',
      /magic/,
    );
    expectError(
      () => decompress(CompressionType.Lz4, frame.subarray(0, frame.length - 4)),
      'CORRUPT_MESSAGE',
      /end mark/,
    );
    expectError(
      () => decompress(CompressionType.Lz4, frame.subarray(0, 200)),
      'CORRUPT_MESSAGE',
      /truncated/,
    );
    // The python frame carries a content checksum; flip a literal byte of its first block.
    const flipped = Uint8Array.from(LZ4_LINKED_FRAME);
    flipped[20]! ^= 0xff;
    expectError(() => decompress(CompressionType.Lz4, flipped), 'CORRUPT_MESSAGE', /lz4 data is corrupt/);
  });

  it('zstd streams frames without a declared content size, as the Java client writes them', () => {
    const cctx = new zstdBinding.CCtx();
    cctx.setParameter(zstdBinding.CParameter.contentSizeFlag, 0);
    const out = Buffer.alloc(zstdBinding.compressBound(json.length));
    const frame = out.subarray(0, cctx.compress2(out, json));
    expect(zstdBinding.getFrameContentSize(frame)).toBeNull();
    expect(Buffer.from(decompress(CompressionType.Zstd, frame)).equals(Buffer.from(json))).toBe(true);
    expect(decompress(CompressionType.Zstd, frame, json.length).length).toBe(json.length);
    expectError(() => decompress(CompressionType.Zstd, frame, json.length - 1), 'CORRUPT_MESSAGE', /limit/);
    expectError(
      () => decompress(CompressionType.Zstd, frame.subarray(0, frame.length - 5)),
      'CORRUPT_MESSAGE',
    );
    // Two frames back to back decode as their concatenation.
    const two = concat(frame, compress(CompressionType.Zstd, noise));
    expect(decompress(CompressionType.Zstd, two).length).toBe(json.length + noise.length);
  });

  it('gzip reads concatenated members', () => {
    const two = concat(compress(CompressionType.Gzip, json), compress(CompressionType.Gzip, noise));
    expect(Buffer.from(decompress(CompressionType.Gzip, two)).equals(Buffer.from(concat(json, noise)))).toBe(
      true,
    );
  });
});
