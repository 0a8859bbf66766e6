/**
 * @module
 * record-batch.ts without compression.ts, as the browser client uses it: uncompressed batches work,
 * compressed ones fail clearly. (This file must not import compression.ts; vitest isolates files.)
 */
import { describe, expect, it } from 'vitest';
import { CompressionType } from '../../src/records/batch-header.ts';
import { decodeRecordBatch, encodeRecordBatch, useCompression } from '../../src/records/record-batch.ts';
import { BrokerError } from '../../src/shared/errors.ts';
import { rawBatch, records } from './batch-builder.ts';
import { utf8 } from './fixtures.ts';

describe('record-batch without the server codecs', () => {
  it('encodes and decodes uncompressed batches', () => {
    const batch = encodeRecordBatch([{ key: utf8('k'), value: utf8('v') }]);
    expect(new TextDecoder().decode(decodeRecordBatch(batch).records[0]!.value!)).toBe('v');
  });

  it('names the missing codec module for compressed batches', () => {
    const encode = () => encodeRecordBatch([{ value: utf8('v') }], { compression: CompressionType.Gzip });
    expect(encode).toThrow(BrokerError);
    expect(encode).toThrow(/compression type 1 needs a codec: import src\/records\/compression.ts/);
    const compressed = rawBatch({ records: records(), recordCount: 3, lastOffsetDelta: 2, attributes: 4 });
    expect(() => decodeRecordBatch(compressed)).toThrow(/needs a codec/);
  });

  it('uses whatever codec is installed', () => {
    const identity = {
      compress: (_t: CompressionType, d: Uint8Array) => d,
      decompress: (_t: CompressionType, d: Uint8Array) => d,
    };
    useCompression(identity);
    const batch = encodeRecordBatch([{ value: utf8('v') }], { compression: CompressionType.Snappy });
    expect(decodeRecordBatch(batch).header.attributes & 7).toBe(CompressionType.Snappy);
  });
});
