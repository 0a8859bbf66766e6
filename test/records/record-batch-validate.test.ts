import { describe, expect, it } from 'vitest';
import {
  BATCH_HEADER_SIZE,
  CompressionType,
  checkBatch,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_RECORD_COUNT,
} from '../../src/records/batch-header.ts';
import { compress } from '../../src/records/compression.ts';
import { decodeRecordBatch, encodeRecordBatch, validateRecords } from '../../src/records/record-batch.ts';
import { BrokerError, type ErrorName } from '../../src/shared/errors.ts';
import { rawBatch, rawRecord, records, recrc, varint } from './batch-builder.ts';
import { concat, utf8 } from './fixtures.ts';

function validate(batch: Uint8Array, options?: Parameters<typeof validateRecords>[3]): void {
  validateRecords(batch, 0, checkBatch(batch), options);
}

function expectError(fn: () => unknown, code: ErrorName, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    expect({ code: (err as BrokerError).code, message: (err as BrokerError).message }).toEqual({
      code,
      message: expect.stringMatching(message),
    });
    return;
  }
  throw new Error(`expected ${code}`);
}

/** Sets recordCount and lastOffsetDelta of an encoded batch and re-checksums it. */
function recount(batch: Uint8Array, recordCount: number, lastOffsetDelta: number): Uint8Array {
  const copy = Uint8Array.from(batch);
  const dv = new DataView(copy.buffer);
  dv.setInt32(OFFSET_RECORD_COUNT, recordCount);
  dv.setInt32(OFFSET_LAST_OFFSET_DELTA, lastOffsetDelta);
  return recrc(copy);
}

const ok = () => rawBatch({ records: records(), recordCount: 3, lastOffsetDelta: 2 });

describe('validateRecords accepts', () => {
  it('well-formed batches of every codec', () => {
    validate(ok());
    for (const compression of [1, 2, 3, 4] as CompressionType[]) {
      validate(encodeRecordBatch([{ value: utf8('a') }, { key: utf8('k'), value: null }], { compression }));
      validate(
        rawBatch({
          records: compress(compression, records()),
          recordCount: 3,
          lastOffsetDelta: 2,
          attributes: compression,
        }),
      );
    }
  });

  it('a batch at an offset inside a larger buffer', () => {
    const buf = concat(new Uint8Array(5), ok(), new Uint8Array(3));
    validateRecords(buf, 5, checkBatch(buf, 5));
  });

  it('offset gaps, only when allowed (compacted batches)', () => {
    const compacted = rawBatch({ records: records([0, 2, 5]), recordCount: 3, lastOffsetDelta: 6 });
    validate(compacted, { allowOffsetGaps: true });
    expectError(() => validate(compacted), 'INVALID_RECORD', /count 3 does not match its offset range 0..6/);
  });
});

describe('validateRecords rejects', () => {
  it('a count raised above the records present', () => {
    expectError(() => validate(recount(ok(), 4, 3)), 'INVALID_RECORD', /declares 4 records but holds 3/);
  });

  it('a count lowered below the records present (bytes left over)', () => {
    expectError(
      () => validate(recount(ok(), 2, 1)),
      'CORRUPT_MESSAGE',
      /\d+ bytes left over after the 2 declared records/,
    );
  });

  it('a count that disagrees with lastOffsetDelta at produce time', () => {
    expectError(
      () => validate(recount(ok(), 2, 2)),
      'INVALID_RECORD',
      /count 2 does not match its offset range 0..2/,
    );
  });

  it('a truncated batch: the last record overruns', () => {
    const bytes = records();
    const batch = rawBatch({
      records: bytes.subarray(0, bytes.length - 1),
      recordCount: 3,
      lastOffsetDelta: 2,
    });
    expectError(() => validate(batch), 'CORRUPT_MESSAGE', /^record 2: length \d+ overruns the batch/);
  });

  it('trailing bytes after the last record', () => {
    const batch = rawBatch({
      records: concat(records(), new Uint8Array([0])),
      recordCount: 3,
      lastOffsetDelta: 2,
    });
    expectError(() => validate(batch), 'CORRUPT_MESSAGE', /1 bytes left over after the 3 declared records/);
  });

  it('offset deltas out of order, repeated or skipping', () => {
    for (const deltas of [
      [0, 5, 2],
      [0, 0, 1],
      [1, 2, 3],
      [0, 2, 1],
    ]) {
      const batch = rawBatch({ records: records(deltas), recordCount: 3, lastOffsetDelta: 2 });
      expectError(() => validate(batch), 'INVALID_RECORD', /offset delta \d+, expected \d/);
    }
    const decreasing = rawBatch({ records: records([0, 3, 2]), recordCount: 3, lastOffsetDelta: 5 });
    expectError(
      () => validate(decreasing, { allowOffsetGaps: true }),
      'INVALID_RECORD',
      /record 2: offset delta 2 does not increase/,
    );
    const beyond = rawBatch({ records: records([0, 1, 9]), recordCount: 3, lastOffsetDelta: 5 });
    expectError(
      () => validate(beyond, { allowOffsetGaps: true }),
      'INVALID_RECORD',
      /offset delta 9 does not increase within 0..5/,
    );
  });

  it('a record whose length disagrees with its fields', () => {
    const long = rawBatch({
      records: concat(rawRecord({ offsetDelta: 0, lengthSkew: 1 }), new Uint8Array([0])),
      recordCount: 1,
      lastOffsetDelta: 0,
    });
    expectError(
      () => validate(long),
      'CORRUPT_MESSAGE',
      /^record 0: length says \d+ bytes, its fields take \d+/,
    );
    const short = rawBatch({
      records: rawRecord({ offsetDelta: 0, lengthSkew: -1 }),
      recordCount: 1,
      lastOffsetDelta: 0,
    });
    expectError(() => validate(short), 'CORRUPT_MESSAGE', /^record 0: /);
  });

  it('malformed varints', () => {
    // A record length of six continuation bytes.
    const tooLong = rawBatch({
      records: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0]),
      recordCount: 1,
      lastOffsetDelta: 0,
    });
    expectError(() => validate(tooLong), 'CORRUPT_MESSAGE', /^record 0: varint is longer than 5 bytes/);
    // The header count's varint continues past the end of the record and the batch.
    const body = rawRecord({ offsetDelta: 0 });
    body[body.length - 1] = 0x80;
    const cut = rawBatch({ records: body, recordCount: 1, lastOffsetDelta: 0 });
    expectError(() => validate(cut), 'CORRUPT_MESSAGE', /^record 0: varint runs past the end/);
    // A timestamp delta beyond 2^53.
    const huge = rawRecord({ offsetDelta: 0 });
    const int64Max = new Uint8Array([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    const rest = huge.subarray(3); // from the offset delta on
    const hugeTs = concat(varint(1 + int64Max.length + rest.length), new Uint8Array([0]), int64Max, rest);
    expectError(
      () => validate(rawBatch({ records: hugeTs, recordCount: 1, lastOffsetDelta: 0 })),
      'CORRUPT_MESSAGE',
      /safe integer range/,
    );
  });

  it('bad key, value and header lengths', () => {
    const cases: [Parameters<typeof rawRecord>[0], ErrorName, RegExp][] = [
      [{ offsetDelta: 0, key: { rawLength: -2 } }, 'CORRUPT_MESSAGE', /key length is invalid/],
      [{ offsetDelta: 0, key: { rawLength: 50 } }, 'CORRUPT_MESSAGE', /record 0:/],
      [
        { offsetDelta: 0, headers: [[{ rawLength: -1 }, null]] },
        'INVALID_RECORD',
        /header key length -1 is negative/,
      ],
      [{ offsetDelta: 0, headers: [['h', utf8('x')]], lengthSkew: 0 }, 'NONE', /ok/],
    ];
    for (const [record, code, message] of cases) {
      const batch = rawBatch({ records: rawRecord(record), recordCount: 1, lastOffsetDelta: 0 });
      if (code === 'NONE') validate(batch);
      else expectError(() => validate(batch), code, message);
    }
    const negativeHeaders = rawBatch({
      records: concat(new Uint8Array([12, 0, 0, 0, 1, 1]), new Uint8Array([1])), // header count -1
      recordCount: 1,
      lastOffsetDelta: 0,
    });
    expectError(() => validate(negativeHeaders), 'CORRUPT_MESSAGE', /header count -1 is negative/);
  });

  it('the same faults inside a compressed batch', () => {
    for (const compression of [1, 2, 3, 4] as CompressionType[]) {
      const batch = encodeRecordBatch([{ value: utf8('a') }, { value: utf8('b') }, { value: utf8('c') }], {
        compression,
      });
      expectError(() => validate(recount(batch, 4, 3)), 'INVALID_RECORD', /declares 4 records but holds 3/);
      expectError(() => validate(recount(batch, 2, 1)), 'CORRUPT_MESSAGE', /left over/);
      const trailing = rawBatch({
        records: compress(compression, concat(records(), new Uint8Array([7, 7]))),
        recordCount: 3,
        lastOffsetDelta: 2,
        attributes: compression,
      });
      expectError(() => validate(trailing), 'CORRUPT_MESSAGE', /2 bytes left over/);
    }
  });

  it('corrupt compressed data, with a valid CRC', () => {
    for (const compression of [1, 2, 3, 4] as CompressionType[]) {
      const batch = encodeRecordBatch([{ value: utf8('a'.repeat(500)) }], { compression });
      batch.fill(0x55, BATCH_HEADER_SIZE + 4, BATCH_HEADER_SIZE + 12);
      recrc(batch);
      expectError(() => validate(batch), 'CORRUPT_MESSAGE', /data is corrupt|left over|overruns|record 0/);
    }
  });

  it('a batch that decompresses past maxDecompressedBytes', () => {
    const batch = encodeRecordBatch([{ value: new Uint8Array(1 << 20) }], {
      compression: CompressionType.Zstd,
    });
    expectError(
      () => validate(batch, { maxDecompressedBytes: 64 * 1024 }),
      'CORRUPT_MESSAGE',
      /65536-byte limit/,
    );
    validate(batch);
  });

  it('an unknown codec', () => {
    const batch = rawBatch({ records: records(), recordCount: 3, lastOffsetDelta: 2, attributes: 5 });
    expectError(() => validate(batch), 'UNSUPPORTED_COMPRESSION_TYPE', /compression type 5/);
  });
});

describe('decodeRecordBatch rejects the same structural faults', () => {
  it('count, leftovers, overruns and bad lengths', () => {
    expectError(
      () => decodeRecordBatch(recount(ok(), 4, 3)),
      'INVALID_RECORD',
      /declares 4 records but holds 3/,
    );
    expectError(() => decodeRecordBatch(recount(ok(), 2, 1)), 'CORRUPT_MESSAGE', /left over/);
    const bytes = records();
    const truncated = rawBatch({
      records: bytes.subarray(0, bytes.length - 1),
      recordCount: 3,
      lastOffsetDelta: 2,
    });
    expectError(() => decodeRecordBatch(truncated), 'CORRUPT_MESSAGE', /^record 2: /);
    const badKey = rawBatch({
      records: rawRecord({ offsetDelta: 0, key: { rawLength: -3 } }),
      recordCount: 1,
      lastOffsetDelta: 0,
    });
    expectError(() => decodeRecordBatch(badKey), 'CORRUPT_MESSAGE', /^record 0: key length -3 is invalid/);
  });

  it('but accepts offset gaps, as compaction leaves them', () => {
    const compacted = rawBatch({ records: records([0, 2, 5]), recordCount: 3, lastOffsetDelta: 6 });
    expect(decodeRecordBatch(compacted).records.map((r) => r.offset)).toEqual([0, 2, 5]);
  });
});
