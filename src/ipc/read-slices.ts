/**
 * @module
 * Reads the slices an engine fetch returns (storage/partition-log.ts `LogSlice`) into one buffer: for the
 * Kafka door's fetch answers and a leader's answers to its followers. Segment files are read with node:fs
 * (Bun too).
 */
import { open } from 'node:fs/promises';
import { BrokerError } from '../shared/errors.ts';
import type { LogSlice } from '../storage/partition-log.ts';

/** The first `length` bytes of `slices`, in one buffer. */
export async function readSlices(slices: readonly LogSlice[], length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let position = 0;
  for (const slice of slices) {
    if (position >= length) break;
    if (slice.kind === 'bytes') {
      const n = Math.min(slice.bytes.length, length - position);
      out.set(slice.bytes.subarray(0, n), position);
      position += n;
      continue;
    }
    const n = Math.min(slice.length, length - position);
    await readRange(slice.path, slice.position, out.subarray(position, position + n));
    position += n;
  }
  return position === length ? out : out.subarray(0, position);
}

async function readRange(path: string, position: number, into: Uint8Array): Promise<void> {
  // The segment can shrink or vanish (retention, DeleteRecords) between the engine's answer and this read:
  // a retriable storage error for that partition; the reader asks again.
  const gone = (why: string) =>
    new BrokerError('KAFKA_STORAGE_ERROR', `log slice ${path}@${position}+${into.length} ${why}`);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw gone(`cannot be opened: ${(err as Error).message}`);
  }
  try {
    let done = 0;
    while (done < into.length) {
      const { bytesRead } = await handle.read(into, done, into.length - done, position + done);
      if (bytesRead === 0) throw gone('ends early');
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
