/**
 * @module
 * Turns the log slices of a raw fetch into a response body. Under Bun, file slices become lazy
 * `Bun.file().slice()` Blobs, never read whole into JS memory; elsewhere (Node runs the tests) the ranges
 * are read with node:fs. The only Bun-specific call of the HTTP layer.
 */
import { open } from 'node:fs/promises';
import type { RawFetchResult } from '../ipc/engine.ts';
import { BrokerError } from '../shared/errors.ts';

export type LogSlice = RawFetchResult['slices'][number];

interface BunFileSlicer {
  file(path: string): Blob;
}

/**
 * The body for `slices`, in order. Under Bun: one slice as it is (a file-backed Blob Bun.serve sends
 * sendfile-style), several as a stream. Elsewhere: one Uint8Array read with node:fs.
 */
export async function sliceBody(
  slices: readonly LogSlice[],
): Promise<Blob | Uint8Array | ReadableStream<Uint8Array>> {
  const bun = (globalThis as { Bun?: BunFileSlicer }).Bun;
  if (bun === undefined) return readSlices(slices);
  const parts = slices.map((slice) =>
    slice.kind === 'file'
      ? bun.file(slice.path).slice(slice.position, slice.position + slice.length)
      : slice.bytes,
  );
  if (parts.length === 1) return parts[0]!;
  // `new Blob([fileBlob, ...])` would do, but Bun drops the contents of file-backed parts (Bun 1.4), so
  // file slices are streamed one after the other: no sendfile, but never more than a chunk in memory.
  if (parts.every((part) => part instanceof Uint8Array)) return new Blob(parts as Uint8Array<ArrayBuffer>[]);
  return streamParts(parts);
}

function streamParts(parts: Array<Blob | Uint8Array>): ReadableStream<Uint8Array> {
  let index = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          if (reader !== null) {
            const { done, value } = await reader.read();
            if (!done) {
              controller.enqueue(value);
              return;
            }
            reader = null;
          }
          const part = parts[index++];
          if (part === undefined) {
            controller.close();
            return;
          }
          if (part instanceof Uint8Array) {
            controller.enqueue(part);
            return;
          }
          reader = part.stream().getReader();
        }
      },
      cancel(reason) {
        return reader?.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
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
