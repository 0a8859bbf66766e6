/**
 * @module
 * Turns the log slices of a raw fetch into a response body. Under Bun, file slices become lazy
 * `Bun.file().slice()` Blobs that Bun.serve sends sendfile-style, never read into JS memory; elsewhere
 * (Node runs the tests) the ranges are read with node:fs. The only Bun-specific call of the HTTP layer.
 */
import { open } from 'node:fs/promises';
import type { RawFetchResult } from '../ipc/engine.ts';
import { BrokerError } from '../shared/errors.ts';

export type LogSlice = RawFetchResult['slices'][number];

interface BunFileSlicer {
  file(path: string): Blob;
}

/** The body for `slices`, in order: a Blob (Bun) or one Uint8Array (elsewhere). */
export async function sliceBody(slices: readonly LogSlice[]): Promise<Blob | Uint8Array> {
  const bun = (globalThis as { Bun?: BunFileSlicer }).Bun;
  if (bun !== undefined) {
    const parts = slices.map((slice) =>
      slice.kind === 'file'
        ? bun.file(slice.path).slice(slice.position, slice.position + slice.length)
        : (slice.bytes as Uint8Array<ArrayBuffer>),
    );
    // One slice is returned as it is: a file-backed Blob stays one Bun.serve can sendfile.
    if (parts.length === 1) return parts[0]!;
    return new Blob(parts);
  }
  return readSlices(slices);
}

async function readSlices(slices: readonly LogSlice[]): Promise<Uint8Array> {
  let total = 0;
  for (const slice of slices) total += slice.kind === 'file' ? slice.length : slice.bytes.byteLength;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const slice of slices) {
    if (slice.kind === 'bytes') {
      out.set(slice.bytes, pos);
      pos += slice.bytes.byteLength;
      continue;
    }
    await readRange(slice, out.subarray(pos, pos + slice.length));
    pos += slice.length;
  }
  return out;
}

async function readRange(slice: LogSlice & { kind: 'file' }, into: Uint8Array): Promise<void> {
  // The segment can shrink or vanish (retention, truncation) between the fetch and this read: a
  // retriable storage error, not a 500 with an errno.
  const gone = (why: string) =>
    new BrokerError(
      'KAFKA_STORAGE_ERROR',
      `log slice ${slice.path}@${slice.position}+${slice.length} ${why}`,
    );
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(slice.path, 'r');
  } catch (err) {
    throw gone(`cannot be opened: ${(err as Error).message}`);
  }
  try {
    let done = 0;
    while (done < slice.length) {
      const { bytesRead } = await handle.read(into, done, slice.length - done, slice.position + done);
      if (bytesRead === 0) throw gone('ends early');
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
