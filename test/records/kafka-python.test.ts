/**
 * @module
 * Cross-check against an independent implementation: kafka-python builds batches we decode, and reads
 * batches we encode (CRC, header, every record). Needs Debian's python3-kafka and the codec modules;
 * this suite fails, never skips, when they are missing.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ATTR_TRANSACTIONAL,
  CompressionType,
  checkBatch,
  TimestampType,
} from '../../src/records/batch-header.ts';
import '../../src/records/compression.ts';
import { murmur2 } from '../../src/records/murmur2.ts';
import {
  decodeRecordBatch,
  encodeRecordBatch,
  type RecordInput,
  validateRecords,
} from '../../src/records/record-batch.ts';

const SCRIPT = fileURLToPath(new URL('./kafka_python_batches.py', import.meta.url));
const INSTALL_HINT =
  'apt-get install -y python3-kafka python3-snappy python3-lz4 python3-zstandard ' +
  '(or point FRESHET_PYTHON at a python3 that can `import kafka, snappy, lz4, zstandard`)';

type B64 = string | null;

interface ExpectedRecord {
  offset: number;
  timestamp: number;
  key: B64;
  value: B64;
  headers: [string, B64][];
}

interface BuiltCase {
  name: string;
  compression: CompressionType;
  transactional: boolean;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  batch: string;
  records: ExpectedRecord[];
}

interface ReadBatch {
  crcOk: boolean;
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  compressionType: number;
  timestampType: number;
  isTransactional: boolean;
  isControl: boolean;
  records: (ExpectedRecord & { timestampType: number })[];
}

let python = '';

/** The first interpreter that has kafka-python and the codecs: $FRESHET_PYTHON, Debian's, then PATH's. */
function findPython(): string {
  const candidates = [process.env.FRESHET_PYTHON, '/usr/bin/python3', 'python3'].filter(
    (c): c is string => !!c,
  );
  const tried: string[] = [];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import kafka, snappy, lz4.frame, zstandard'], {
      encoding: 'utf8',
    });
    if (probe.status === 0) return candidate;
    tried.push(`${candidate}: ${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}`);
  }
  throw new Error(
    `kafka-python cross-check needs kafka-python and its codecs. Run: ${INSTALL_HINT}\n${tried.join('\n')}`,
  );
}

function runPython<T>(command: string, input?: unknown): T {
  const result = spawnSync(python, [SCRIPT, command], {
    input: input === undefined ? '' : JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`${SCRIPT} ${command} failed: ${result.stderr || result.error}`);
  return JSON.parse(result.stdout) as T;
}

const fromB64 = (text: B64): Uint8Array | null =>
  text === null ? null : new Uint8Array(Buffer.from(text, 'base64'));
const toB64 = (bytes: Uint8Array | null | undefined): B64 =>
  bytes == null ? null : Buffer.from(bytes).toString('base64');
const utf8 = (s: string) => new TextEncoder().encode(s);

beforeAll(() => {
  python = findPython();
});

describe('kafka-python builds, Freshet decodes', () => {
  let cases: BuiltCase[] = [];
  beforeAll(() => {
    cases = runPython<{ cases: BuiltCase[] }>('build').cases;
  });

  it('covers every codec, raw and xerial snappy, independent and linked lz4', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'none',
      'gzip',
      'snappy-xerial',
      'lz4',
      'zstd',
      'zstd-transactional',
      'single-record',
      'snappy-raw',
      'lz4-linked',
    ]);
  });

  it('decodes every field of every batch', () => {
    for (const c of cases) {
      const bytes = fromB64(c.batch)!;
      const header = checkBatch(bytes);
      // kafka-python falls back to no compression when it does not help: make sure it did compress.
      expect(header.attributes & 0x07, c.name).toBe(c.compression);
      expect((header.attributes & ATTR_TRANSACTIONAL) !== 0, c.name).toBe(c.transactional);
      validateRecords(bytes, 0, header);
      const batch = decodeRecordBatch(bytes);
      expect(batch.header).toMatchObject({
        baseOffset: 0,
        sizeInBytes: bytes.length,
        recordCount: c.records.length,
        lastOffsetDelta: c.records.length - 1,
        producerId: c.producerId,
        producerEpoch: c.producerEpoch,
        baseSequence: c.baseSequence,
        baseTimestamp: c.records[0]!.timestamp,
        maxTimestamp: Math.max(...c.records.map((r) => r.timestamp)),
      });
      expect(
        batch.records.map((r) => ({
          offset: r.offset,
          timestamp: r.timestamp,
          key: toB64(r.key),
          value: toB64(r.value),
          headers: r.headers.map((h) => [h.key, toB64(h.value)]),
        })),
        c.name,
      ).toEqual(c.records);
    }
  });
});

describe('Freshet encodes, kafka-python reads', () => {
  const now = 1_700_000_123_456;
  const records: RecordInput[] = Array.from({ length: 40 }, (_, i) => ({
    key: i % 9 === 3 ? null : i % 9 === 4 ? new Uint8Array(0) : utf8(`key-${i}`),
    value: i % 11 === 5 ? null : utf8(JSON.stringify({ i, body: 'lorem ipsum dolor '.repeat(1 + (i % 5)) })),
    headers:
      i % 3 === 0
        ? []
        : [
            { key: 'h', value: utf8(`v${i}`) },
            { key: 'ключ', value: null },
          ],
    timestamp: i === 7 ? now - 60_000 : now + i,
  }));
  const codecs = [
    CompressionType.None,
    CompressionType.Gzip,
    CompressionType.Snappy,
    CompressionType.Lz4,
    CompressionType.Zstd,
  ];

  it('reads back every codec with a valid CRC and identical records', () => {
    const batches = codecs.map((compression) =>
      encodeRecordBatch(records, {
        compression,
        baseOffset: 1000,
        producerId: 77,
        producerEpoch: 3,
        baseSequence: 5,
        partitionLeaderEpoch: 9,
        transactional: compression === CompressionType.Zstd,
        now,
      }),
    );
    const read = runPython<{ batches: ReadBatch[] }>('read', { batches: batches.map(toB64) }).batches;
    expect(read).toHaveLength(codecs.length);
    read.forEach((batch, i) => {
      expect(batch).toMatchObject({
        crcOk: true,
        baseOffset: 1000,
        batchLength: batches[i]!.length - 12,
        partitionLeaderEpoch: 9,
        magic: 2,
        compressionType: codecs[i],
        timestampType: TimestampType.CreateTime,
        isTransactional: codecs[i] === CompressionType.Zstd,
        isControl: false,
        lastOffsetDelta: records.length - 1,
        firstTimestamp: now,
        maxTimestamp: now + records.length - 1,
        producerId: 77,
        producerEpoch: 3,
        baseSequence: 5,
        recordCount: records.length,
      });
      expect(batch.records).toEqual(
        records.map((r, offset) => ({
          offset: 1000 + offset,
          timestamp: r.timestamp,
          timestampType: TimestampType.CreateTime,
          key: toB64(r.key),
          value: toB64(r.value),
          headers: (r.headers ?? []).map((h) => [h.key, toB64(h.value)]),
        })),
      );
    });
  });

  it('agrees on LogAppendTime: every record reads as maxTimestamp', () => {
    const batch = encodeRecordBatch(records.slice(0, 5), { timestampType: TimestampType.LogAppendTime, now });
    const [read] = runPython<{ batches: ReadBatch[] }>('read', { batches: [toB64(batch)] }).batches;
    expect(read!.crcOk).toBe(true);
    expect(read!.timestampType).toBe(TimestampType.LogAppendTime);
    expect(read!.records.map((r) => r.timestamp)).toEqual([now, now, now, now, now]);
    expect(decodeRecordBatch(batch).records.map((r) => r.timestamp)).toEqual([now, now, now, now, now]);
  });
});

describe('murmur2 agrees with kafka-python', () => {
  it('on random keys of every length 0..64', () => {
    const keys: Uint8Array[] = [];
    for (let length = 0; length <= 64; length++) {
      for (let n = 0; n < 4; n++)
        keys.push(Uint8Array.from({ length }, () => Math.floor(Math.random() * 256)));
    }
    const { hashes } = runPython<{ hashes: number[] }>('murmur2', { keys: keys.map(toB64) });
    expect(keys.map((k) => murmur2(k) >>> 0)).toEqual(hashes);
  });
});
