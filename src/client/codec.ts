/**
 * @module
 * The client's one msgpackr instance and byte helpers. Plain msgpack maps (no record extension), so any
 * msgpack implementation can read what the client sends; int64 comes back as a number (offsets are safe).
 * `msgpackr/pack` is msgpackr's portable build on every runtime: its main entry on Node, Bun and Deno loads
 * an optional native addon and reads an environment variable (a permission prompt on Deno).
 */
import { Packr } from 'msgpackr/pack';
import type { Bytes, Header, HeaderInput } from './types.ts';

const packr = new Packr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export const MSGPACK = 'application/msgpack';
export const RECORD_BATCH = 'application/vnd.kafka.recordbatch';

export function pack(value: unknown): Uint8Array {
  return packr.pack(dropUndefined(value));
}

export function unpack(bytes: Uint8Array): unknown {
  return bytes.length === 0 ? undefined : packr.unpack(bytes);
}

/**
 * msgpackr writes `undefined` as an extension other decoders reject: leave such properties out instead.
 * Only plain objects and arrays are walked; bytes and other values pass through.
 */
function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = dropUndefined(entry);
  return out;
}

/** Strings become their UTF-8 bytes; null and undefined become null. */
export function toBytes(value: Bytes | null | undefined): Uint8Array | null {
  if (value == null) return null;
  if (typeof value === 'string') return textEncoder.encode(value);
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`expected a Uint8Array, a string or null, got ${typeof value}`);
}

export function toHeaders(headers: HeaderInput[] | Record<string, Bytes | null> | undefined): Header[] {
  if (headers === undefined) return [];
  const list = Array.isArray(headers)
    ? headers
    : Object.entries(headers).map(([key, value]) => ({ key, value }));
  return list.map((header) => ({ key: String(header.key), value: toBytes(header.value) }));
}

/** Bytes as the broker sent them: bin normally, str accepted (as UTF-8), anything else is null. */
export function fromWireBytes(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) {
    // Node's Buffer is a Uint8Array subclass; hand callers the plain type on every runtime.
    return value.constructor === Uint8Array
      ? value
      : new Uint8Array(value.buffer, value.byteOffset, value.length);
  }
  if (typeof value === 'string') return textEncoder.encode(value);
  return null;
}

/** The bytes as UTF-8 text (invalid sequences become U+FFFD); null stays null. */
export function utf8(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : textDecoder.decode(bytes);
}
