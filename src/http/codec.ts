/**
 * @module
 * Bytes ↔ objects for the HTTP API (pure, no I/O): content negotiation, the one msgpackr instance, and the
 * JSON encodings of keys, values and header values (UTF-8 string, `{"base64":"..."}` or null), per
 * docs/http-api.md.
 */
import type { Options } from 'msgpackr';
// 'msgpackr/pack' is msgpackr in plain JS: the main entry loads the msgpackr-extract native addon from
// node_modules, which a compiled broker binary must not depend on (test/e2e/binary.test.ts).
import { Packr } from 'msgpackr/pack';
import { BrokerError } from '../shared/errors.ts';

export type BodyFormat = 'json' | 'msgpack' | 'recordbatch';
export type ResponseFormat = 'json' | 'msgpack';

export const JSON_TYPE = 'application/json';
export const MSGPACK_TYPE = 'application/msgpack';
export const RECORD_BATCH_TYPE = 'application/vnd.kafka.recordbatch';

/** Two settings msgpackr supports (unpack.js, pack.js) that its typings lack. */
interface FullPackrOptions extends Omit<Options, 'int64AsType'> {
  int64AsType?: Options['int64AsType'] | 'auto';
  skipValues?: unknown[];
}

/**
 * Plain maps in and out (`useRecords: false`), so any msgpack library can talk to us. 64-bit integers
 * decode as numbers when safe and BigInt otherwise ('auto'), so a Python client's int64 timestamp passes
 * and an unsafe one fails validation instead of being rounded. Undefined fields are left out, as in JSON.
 */
const PACKR_OPTIONS: FullPackrOptions = {
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  int64AsType: 'auto',
  skipValues: [undefined],
};
const packr = new Packr(PACKR_OPTIONS as Options);

const MSGPACK_TYPES = new Set([MSGPACK_TYPE, 'application/x-msgpack', 'application/vnd.msgpack']);
const OPEN_BRACE = 0x7b;

/** The media type of a Content-Type or Accept entry: lower case, without parameters. */
function mediaType(value: string): string {
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === JSON_TYPE || (type.startsWith('application/') && type.endsWith('+json'));
}

/**
 * How a request body is to be read. Anything that does not say JSON or RecordBatch is msgpack, except a
 * body starting with `{` that does not claim msgpack: that is JSON, so `curl -d '{...}'` (sent as
 * `application/x-www-form-urlencoded`) works.
 */
export function requestFormat(contentType: string | undefined, firstByte: number | undefined): BodyFormat {
  const type = contentType === undefined ? '' : mediaType(contentType);
  if (isJsonType(type)) return 'json';
  if (type === RECORD_BATCH_TYPE) return 'recordbatch';
  if (MSGPACK_TYPES.has(type)) return 'msgpack';
  return firstByte === OPEN_BRACE ? 'json' : 'msgpack';
}

/** True when the Accept header lists `type` (parameters and q-values are not weighed). */
export function accepts(accept: string | undefined, type: string): boolean {
  if (!accept) return false;
  return accept.split(',').some((entry) => mediaType(entry) === type);
}

/** msgpack when the request asked for it or sent it; JSON otherwise, so plain curl reads JSON. */
export function responseFormat(accept: string | undefined, contentType: string | undefined): ResponseFormat {
  if (accept?.split(',').some((entry) => MSGPACK_TYPES.has(mediaType(entry)))) return 'msgpack';
  if (contentType && MSGPACK_TYPES.has(mediaType(contentType))) return 'msgpack';
  return 'json';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** For record bytes: a leading BOM is data and must survive the round trip. */
const strictUtf8KeepBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const textEncoder = new TextEncoder();

/** Parses a JSON or msgpack body; malformed input is INVALID_REQUEST with the parser's reason. */
export function decodeBody(bytes: Uint8Array, format: 'json' | 'msgpack'): unknown {
  if (bytes.length === 0) throw new BrokerError('INVALID_REQUEST', 'the request body is empty');
  if (format === 'json') {
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      throw new BrokerError('INVALID_REQUEST', 'malformed JSON body: not valid UTF-8');
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new BrokerError('INVALID_REQUEST', `malformed JSON body: ${reason(err)}`);
    }
  }
  try {
    return packr.unpack(bytes);
  } catch (err) {
    throw new BrokerError('INVALID_REQUEST', `malformed msgpack body: ${reason(err)}`);
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Encodes a response body in msgpack (Uint8Array fields become bin). */
export function packBody(body: unknown): Uint8Array {
  return packr.pack(body);
}

/** The one object shape JSON uses for binary: exactly `{"base64": "..."}`. */
export interface Base64Bytes {
  base64: string;
}

// Standard or URL-safe alphabet, padding optional; Buffer decodes both.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

/**
 * A key, value or header value from a request: null, a UTF-8 string, bytes (msgpack bin) or, in JSON,
 * `{"base64": ...}`. Returns undefined when `value` is none of those, so the caller can name the field.
 */
export function bytesIn(value: unknown, format: 'json' | 'msgpack'): Uint8Array | null | undefined {
  if (value === null) return null;
  if (typeof value === 'string') return textEncoder.encode(value);
  if (format === 'msgpack') return value instanceof Uint8Array ? value : undefined;
  if (!isPlainObject(value)) return undefined;
  const keys = Object.keys(value);
  const encoded = value.base64;
  if (keys.length !== 1 || typeof encoded !== 'string') return undefined;
  if (!BASE64.test(encoded) || encoded.replace(/=+$/, '').length % 4 === 1) return undefined;
  const decoded = Buffer.from(encoded, 'base64');
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
}

/**
 * A key, value or header value for a response: bytes as they are in msgpack; in JSON a string when they
 * are valid UTF-8 (and `base64` is not forced), else `{"base64": ...}`.
 */
export function bytesOut(
  bytes: Uint8Array | null,
  format: ResponseFormat,
  base64: boolean,
): Uint8Array | string | Base64Bytes | null {
  if (bytes === null || format === 'msgpack') return bytes;
  if (!base64) {
    try {
      return strictUtf8KeepBom.decode(bytes);
    } catch {
      // Not UTF-8: fall through to base64.
    }
  }
  return { base64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}
