import { describe, expect, it } from 'vitest';
import {
  BATCH_HEADER_SIZE,
  checkBatch,
  OFFSET_BATCH_LENGTH,
  OFFSET_CRC,
  OFFSET_MAGIC,
  readBatchHeader,
} from '../../src/records/batch-header.ts';
import { encodeRecordBatch } from '../../src/records/record-batch.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { rawBatch, records, recrc } from './batch-builder.ts';
import { utf8 } from './fixtures.ts';

const batch = () =>
  encodeRecordBatch([{ key: utf8('k'), value: utf8('value') }, { value: null }], { now: 1 });

function expectCorrupt(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe('CORRUPT_MESSAGE');
    expect((err as BrokerError).message).toMatch(message);
    return;
  }
  throw new Error('expected CORRUPT_MESSAGE');
}

describe('checkBatch', () => {
  it('accepts what encodeRecordBatch writes', () => {
    const b = batch();
    expect(checkBatch(b)).toMatchObject({ sizeInBytes: b.length, recordCount: 2, magic: 2 });
  });

  it('rejects a bad CRC: a flipped record byte or a flipped stored CRC', () => {
    const flippedRecord = batch();
    flippedRecord[BATCH_HEADER_SIZE + 3]! ^= 1;
    expectCorrupt(() => checkBatch(flippedRecord), /CRC mismatch/);
    const flippedCrc = batch();
    flippedCrc[OFFSET_CRC]! ^= 0x80;
    expectCorrupt(() => checkBatch(flippedCrc), /CRC mismatch/);
  });

  it('rejects a magic other than 2', () => {
    for (const magic of [0, 1, 3]) {
      const b = batch();
      b[OFFSET_MAGIC] = magic; // outside the CRC: only the magic check catches it
      expectCorrupt(() => checkBatch(b), new RegExp(`unsupported record batch magic ${magic}`));
    }
  });

  it('rejects a length below the header, beyond the buffer or beyond maxSize', () => {
    const b = batch();
    const dv = new DataView(b.buffer);
    dv.setInt32(OFFSET_BATCH_LENGTH, 10);
    expectCorrupt(() => checkBatch(b), /below the header size/);
    dv.setInt32(OFFSET_BATCH_LENGTH, b.length); // 12 more than present
    expectCorrupt(() => checkBatch(b), /truncated: header says \d+ bytes, \d+ present/);
    const ok = batch();
    expectCorrupt(() => checkBatch(ok, 0, ok.length - 1), /exceeds/);
    expectCorrupt(() => checkBatch(ok.subarray(0, 40)), /header truncated/);
    expectCorrupt(() => readBatchHeader(ok, ok.length - 60), /header truncated: 60 bytes/);
  });

  it('rejects a record count above the offset span, or negative', () => {
    expectCorrupt(
      () => checkBatch(rawBatch({ records: records(), recordCount: 3, lastOffsetDelta: 1 })),
      /exceeds its offset span 2/,
    );
    expectCorrupt(
      () => checkBatch(rawBatch({ records: records(), recordCount: -1, lastOffsetDelta: 2 })),
      /negative/,
    );
  });

  it('checks the CRC over attributes..end only (baseOffset and leader epoch may change)', () => {
    const b = batch();
    b[0] = 9;
    b[13] = 9;
    expect(() => checkBatch(b)).not.toThrow();
    b[OFFSET_MAGIC + 5]! ^= 1; // attributes: inside the CRC
    expectCorrupt(() => checkBatch(b), /CRC mismatch/);
    expect(() => checkBatch(recrc(b))).not.toThrow();
  });
});
