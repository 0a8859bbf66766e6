/**
 * @module
 * Shared helpers for the storage tests: building batches, materialising LogSlices, a manual clock, and
 * reading a whole log back.
 */
import fs from 'node:fs';
import { expect } from 'vitest';
import { readBatchHeader } from '../../src/records/batch-header.ts';
import { type DecodedRecord, encodeRecordBatch, type RecordInput } from '../../src/records/record-batch.ts';
import { BrokerError, type ErrorName } from '../../src/shared/errors.ts';
import type { LogSlice, PartitionLog } from '../../src/storage/partition-log.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : decoder.decode(bytes);
}

/** Encodes one RecordBatch v2 holding `records`, with every record's timestamp set to `timestamp`. */
export function batchOf(values: string[], timestamp: number): Uint8Array {
  return encodeRecordBatch(
    values.map((value) => ({ key: utf8(`k-${value}`), value: utf8(value), timestamp })),
    {},
  );
}

/** Encodes one RecordBatch v2 as given. */
export function encodeBatch(records: RecordInput[]): Uint8Array {
  return encodeRecordBatch(records, {});
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

/** The bytes a slice stands for; `file` slices are read from disk as a socket would send them. */
export function sliceBytes(slice: LogSlice): Uint8Array {
  if (slice.kind === 'bytes') return slice.bytes;
  const out = new Uint8Array(slice.length);
  const fd = fs.openSync(slice.path, 'r');
  try {
    let done = 0;
    while (done < slice.length) {
      const n = fs.readSync(fd, out, done, slice.length - done, slice.position + done);
      if (n === 0)
        throw new Error(`file slice ${slice.path}@${slice.position}+${slice.length} runs past the end`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return out;
}

export function slicesBytes(slices: LogSlice[]): Uint8Array {
  return concatBytes(slices.map(sliceBytes));
}

/** Splits concatenated batches into their headers (baseOffset, sizes, counts). */
export function batchHeaders(bytes: Uint8Array): ReturnType<typeof readBatchHeader>[] {
  const headers: ReturnType<typeof readBatchHeader>[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const header = readBatchHeader(bytes, pos);
    headers.push(header);
    pos += header.sizeInBytes;
  }
  return headers;
}

/** Every record from logStartOffset to logEndOffset, read in pieces of at most `maxBytes`. */
export async function readAll(log: PartitionLog, maxBytes = 1 << 20): Promise<DecodedRecord[]> {
  const records: DecodedRecord[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const result = await log.readRecords(offset, maxBytes);
    expect(result.nextOffset).toBeGreaterThan(offset);
    records.push(...result.records);
    offset = result.nextOffset;
  }
  return records;
}

/** Raw bytes of every stored batch from `fromOffset` to the end. */
export async function readAllBytes(log: PartitionLog, fromOffset = log.logStartOffset): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let offset = fromOffset;
  while (offset < log.logEndOffset) {
    const result = await log.read(offset, 1 << 20);
    parts.push(slicesBytes(result.slices));
    offset = result.nextOffset;
  }
  return concatBytes(parts);
}

/** A clock the test moves by hand. */
export interface ManualClock {
  (): number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  const clock = (() => now) as ManualClock;
  clock.set = (ms) => {
    now = ms;
  };
  clock.advance = (ms) => {
    now += ms;
  };
  return clock;
}

/** Asserts that `promise` rejects with a BrokerError whose code is one of `codes`; returns the error. */
export async function expectBrokerError(
  promise: Promise<unknown>,
  ...codes: ErrorName[]
): Promise<BrokerError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a rejection').toBeInstanceOf(BrokerError);
  const error = caught as BrokerError;
  expect(codes, error.message).toContain(error.code);
  return error;
}

export { seededRandom } from '../support/seeded-random.ts';
