import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTR_CONTROL,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  CompressionType,
  checkBatch,
  compressionOf,
  setBaseOffset,
  TimestampType,
} from '../../src/records/batch-header.ts';
import '../../src/records/compression.ts';
import {
  type DecodedRecord,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeRecordBatch,
  type RecordInput,
  validateRecords,
} from '../../src/records/record-batch.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { concat, jsonRecord, seededRandom, utf8 } from './fixtures.ts';

const CODECS = [
  CompressionType.None,
  CompressionType.Gzip,
  CompressionType.Snappy,
  CompressionType.Lz4,
  CompressionType.Zstd,
];
const NOW = 1_700_000_000_000;

/** Plain data for toEqual: Buffers and Uint8Arrays compare alike, nulls stay nulls. */
function plain(record: DecodedRecord | RecordInput) {
  const bytes = (b: Uint8Array | null | undefined) => (b == null ? null : Array.from(b));
  return {
    key: bytes(record.key),
    value: bytes(record.value),
    headers: (record.headers ?? []).map((h) => ({ key: h.key, value: bytes(h.value) })),
  };
}

const random = seededRandom(7);
const SAMPLE: RecordInput[] = [
  { key: utf8('user-1'), value: jsonRecord(random, 300), timestamp: NOW },
  { key: null, value: null, timestamp: NOW + 5 }, // tombstone without key
  { key: new Uint8Array(0), value: new Uint8Array(0), timestamp: NOW - 10_000 }, // empty, not null
  {
    value: utf8('with headers'),
    headers: [
      { key: 'trace', value: utf8('abc') },
      { key: 'null', value: null },
      { key: '', value: new Uint8Array(0) },
      { key: 'ünïcødé 🎉', value: new Uint8Array([0, 255]) },
    ],
  },
  { key: utf8('big'), value: jsonRecord(random, 70_000), timestamp: NOW + 2 ** 40 }, // a > int32 delta
];

describe('encodeRecordBatch / decodeRecordBatch', () => {
  it.each(CODECS)('round-trips keys, nulls, empties and headers with codec %d', (compression) => {
    const batch = encodeRecordBatch(SAMPLE, { compression, now: NOW + 1 });
    const header = checkBatch(batch);
    expect(compressionOf(header.attributes)).toBe(compression);
    validateRecords(batch, 0, header);
    const decoded = decodeRecordBatch(batch);
    expect(decoded.header).toEqual(header);
    expect(decoded.records.map(plain)).toEqual(SAMPLE.map(plain));
    expect(decoded.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(decoded.records.map((r) => r.timestamp)).toEqual([
      NOW,
      NOW + 5,
      NOW - 10_000,
      NOW + 1,
      NOW + 2 ** 40,
    ]);
    for (const r of decoded.records) {
      if (r.value) expect(Object.getPrototypeOf(r.value)).toBe(Uint8Array.prototype);
    }
  });

  it('fills the header from the options, with Kafka defaults otherwise', () => {
    const defaults = decodeRecordBatch(encodeRecordBatch([{ value: utf8('x') }], { now: NOW })).header;
    expect(defaults).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      magic: 2,
      attributes: 0,
      lastOffsetDelta: 0,
      baseTimestamp: NOW,
      maxTimestamp: NOW,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      recordCount: 1,
    });
    const batch = encodeRecordBatch(SAMPLE.slice(0, 3), {
      baseOffset: 2 ** 40,
      producerId: 2 ** 45 + 3,
      producerEpoch: 12,
      baseSequence: 2 ** 31 - 3,
      partitionLeaderEpoch: 8,
      transactional: true,
      isControl: true,
      compression: CompressionType.Zstd,
      now: NOW,
    });
    const { header, records } = decodeRecordBatch(batch);
    expect(header).toMatchObject({
      baseOffset: 2 ** 40,
      producerId: 2 ** 45 + 3,
      producerEpoch: 12,
      baseSequence: 2 ** 31 - 3,
      partitionLeaderEpoch: 8,
      attributes: CompressionType.Zstd | ATTR_TRANSACTIONAL | ATTR_CONTROL,
      lastOffsetDelta: 2,
      recordCount: 3,
      baseTimestamp: NOW,
      maxTimestamp: NOW + 5,
      sizeInBytes: batch.length,
    });
    expect(records.map((r) => r.offset)).toEqual([2 ** 40, 2 ** 40 + 1, 2 ** 40 + 2]);
  });

  it('gives records without a timestamp the batch now', () => {
    const { records } = decodeRecordBatch(encodeRecordBatch([{ value: null }, { value: null }], { now: 42 }));
    expect(records.map((r) => r.timestamp)).toEqual([42, 42]);
  });

  it.each(CODECS)('LogAppendTime (codec %d): every record reads as maxTimestamp = now', (compression) => {
    const batch = encodeRecordBatch(SAMPLE, {
      compression,
      timestampType: TimestampType.LogAppendTime,
      now: NOW + 99,
    });
    const { header, records } = decodeRecordBatch(batch);
    expect(header.attributes & 0x08).toBe(0x08);
    expect(header.maxTimestamp).toBe(NOW + 99);
    expect(records.map((r) => r.timestamp)).toEqual(SAMPLE.map(() => NOW + 99));
  });

  it('decodes absolute offsets after the log assigns a baseOffset in place', () => {
    const batch = encodeRecordBatch(SAMPLE);
    setBaseOffset(batch, 0, 5000);
    expect(decodeRecordBatch(batch).records.map((r) => r.offset)).toEqual([5000, 5001, 5002, 5003, 5004]);
  });

  it('returns keys and values of an uncompressed batch as views, not copies', () => {
    const batch = encodeRecordBatch(SAMPLE);
    const { records } = decodeRecordBatch(batch);
    expect(records[0]!.key!.buffer).toBe(batch.buffer);
    expect(records[0]!.value!.buffer).toBe(batch.buffer);
    expect(records[3]!.headers[0]!.value!.buffer).toBe(batch.buffer);
  });

  it('decodes a batch at an offset into a larger buffer', () => {
    const batch = encodeRecordBatch(SAMPLE, { compression: CompressionType.Gzip });
    const padded = concat(new Uint8Array(17), batch, new Uint8Array(9));
    expect(decodeRecordBatch(padded, 17).records.map(plain)).toEqual(SAMPLE.map(plain));
  });

  it('skips the CRC only when asked', () => {
    const batch = encodeRecordBatch([{ value: utf8('hello') }]);
    batch[batch.length - 2]! ^= 0x20; // the value's last byte (the header count follows): 'hello' -> 'hellO'
    expect(() => decodeRecordBatch(batch)).toThrow(/CRC mismatch/);
    expect(
      new TextDecoder().decode(decodeRecordBatch(batch, 0, { verifyCrc: false }).records[0]!.value!),
    ).toBe('hellO');
  });

  it('refuses to encode an empty batch, a bad timestamp or a bad codec', () => {
    expect(() => encodeRecordBatch([])).toThrow(BrokerError);
    for (const timestamp of [1.5, Number.NaN, 2 ** 60]) {
      expect(() => encodeRecordBatch([{ value: null, timestamp }])).toThrow(/not an integer epoch ms/);
    }
    expect(() => encodeRecordBatch([{ value: null }], { compression: 6 as CompressionType })).toThrow(
      /unsupported compression type 6/,
    );
  });

  it('is deterministic: equal input, equal bytes', () => {
    for (const compression of CODECS) {
      const a = encodeRecordBatch(SAMPLE, { compression, now: NOW });
      const b = encodeRecordBatch(SAMPLE, { compression, now: NOW });
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    }
  });

  it('sizes an uncompressed batch exactly: header + the records, nothing spare', () => {
    const batch = encodeRecordBatch(
      [{ key: utf8('k'), value: utf8('v'), headers: [{ key: 'h', value: null }] }],
      {
        now: NOW,
      },
    );
    // length 1 + attributes 1 + ts 1 + offset 1 + key 2 + value 2 + headers 1 + (key 2 + value 1)
    expect(batch.length).toBe(BATCH_HEADER_SIZE + 12);
  });
});

describe('decodeRecordBatches', () => {
  const batches = CODECS.map((compression, i) =>
    encodeRecordBatch(SAMPLE.slice(0, 3), { compression, baseOffset: i * 3, now: NOW }),
  );
  const all = concat(...batches);

  it('decodes a concatenation in order', () => {
    const decoded = decodeRecordBatches(all);
    expect(decoded).toHaveLength(CODECS.length);
    expect(decoded.flatMap((b) => b.records.map((r) => r.offset))).toEqual([...Array(15).keys()]);
  });

  it('ignores a partial trailing batch, wherever it is cut', () => {
    const lastStart = all.length - batches.at(-1)!.length;
    for (const cut of [lastStart + 1, lastStart + 11, lastStart + 12, lastStart + 61, all.length - 1]) {
      expect(decodeRecordBatches(all.subarray(0, cut))).toHaveLength(CODECS.length - 1);
    }
    expect(decodeRecordBatches(new Uint8Array(0))).toEqual([]);
  });

  it('still rejects a corrupt complete batch', () => {
    const broken = Uint8Array.from(all);
    broken[batches[0]!.length + 30]! ^= 1;
    expect(() => decodeRecordBatches(broken)).toThrow(/CRC mismatch/);
  });
});

describe('property: random records round-trip through every codec', () => {
  const bytes = fc.option(fc.uint8Array({ maxLength: 300 }), { nil: null });
  const record: fc.Arbitrary<RecordInput> = fc.record(
    {
      key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
      value: bytes,
      headers: fc.array(fc.record({ key: fc.string({ unit: 'grapheme', maxLength: 12 }), value: bytes }), {
        maxLength: 4,
      }),
      timestamp: fc.integer({ min: 0, max: 2 ** 50 }),
    },
    { requiredKeys: ['value'] },
  );

  it('decode(encode(records)) = records', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(...CODECS),
        fc.integer({ min: 0, max: 2 ** 48 }),
        (records, compression, baseOffset) => {
          const batch = encodeRecordBatch(records, { compression, baseOffset, now: NOW });
          const header = checkBatch(batch);
          validateRecords(batch, 0, header);
          const decoded = decodeRecordBatch(batch);
          expect(decoded.records.map(plain)).toEqual(records.map(plain));
          expect(decoded.records.map((r) => r.offset)).toEqual(records.map((_, i) => baseOffset + i));
          expect(decoded.records.map((r) => r.timestamp)).toEqual(records.map((r) => r.timestamp ?? NOW));
          expect(header.maxTimestamp).toBe(Math.max(...records.map((r) => r.timestamp ?? NOW)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
