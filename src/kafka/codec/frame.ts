/**
 * @module
 * Request and response frames: the headers around a message body, and which header version goes with
 * which API version. A frame here is what follows the int32 size prefix; the socket layer cuts frames.
 *
 * - Request header v1 = api key, api version, correlation id, client id (an int16-length string even in
 *   v2); v2 adds a tagged-field section and is used when the request version is flexible. (v0, without a
 *   client id, belongs to ControlledShutdown v0 only.)
 * - Response header v0 = correlation id; v1 adds a tagged-field section for flexible versions, except
 *   that ApiVersions responses always use v0, so a client that does not yet know the broker can read them.
 *
 * `parseRequest` rejects trailing bytes after the body (INVALID_REQUEST): every byte of a request belongs
 * to a field of its version (unknown extensions travel in tagged fields, which are skipped), so leftovers
 * mean the client and Freshet disagree on the layout, and acting on such a request would be acting on a
 * misreading. The connection is closed instead, as for any unparseable request.
 */
import { BrokerError } from '../../shared/errors.ts';
import {
  REQUEST_DESCRIPTORS,
  RESPONSE_DESCRIPTORS,
  type RequestByApiKey,
  RequestHeader,
  type ResponseByApiKey,
  ResponseHeader,
} from '../generated/messages.ts';
import { inVersions, type MessageDescriptor } from './descriptor.ts';
import { decodeMessage, encodeMessage } from './message-codec.ts';
import { Reader } from './reader.ts';
import { Writer } from './writer.ts';

const API_VERSIONS_KEY = 18;
const CONTROLLED_SHUTDOWN_KEY = 7;

const requests = new Map<number, MessageDescriptor>(
  Object.values(REQUEST_DESCRIPTORS).map((d: MessageDescriptor) => [d.apiKey!, d]),
);
const responses = new Map<number, MessageDescriptor>(
  Object.values(RESPONSE_DESCRIPTORS).map((d: MessageDescriptor) => [d.apiKey!, d]),
);

/** The request descriptor of an API key, if Freshet has its schema. */
export function requestDescriptor(apiKey: number): MessageDescriptor | undefined {
  return requests.get(apiKey);
}

/** The response descriptor of an API key, if Freshet has its schema. */
export function responseDescriptor(apiKey: number): MessageDescriptor | undefined {
  return responses.get(apiKey);
}

/** The request header version a request of `apiKey` at `apiVersion` uses: 2 if flexible, else 1. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === CONTROLLED_SHUTDOWN_KEY && apiVersion === 0) return 0;
  const descriptor = requests.get(apiKey);
  return descriptor && inVersions(descriptor.flexibleVersions, apiVersion) ? 2 : 1;
}

/** The response header version: 1 if flexible, else 0; always 0 for ApiVersions. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  if (apiKey === API_VERSIONS_KEY) return 0;
  const descriptor = responses.get(apiKey);
  return descriptor && inVersions(descriptor.flexibleVersions, apiVersion) ? 1 : 0;
}

/** The fixed start of every request header, readable whatever the API and version. */
export interface RequestPeek {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
}

/**
 * Reads the api key, version and correlation id without validating anything else: enough to answer an
 * ApiVersions request of an unsupported version (v0 layout, error 35). Null when the frame is too short.
 */
export function peekRequestHeader(frame: Uint8Array): RequestPeek | null {
  if (frame.length < 8) return null;
  const view = new DataView(frame.buffer, frame.byteOffset, 8);
  return { apiKey: view.getInt16(0), apiVersion: view.getInt16(2), correlationId: view.getInt32(4) };
}

/** A decoded request; `apiKey` narrows `body`. */
export type ParsedRequest = {
  [K in keyof RequestByApiKey]: {
    apiKey: K;
    apiVersion: number;
    correlationId: number;
    header: RequestHeader;
    body: RequestByApiKey[K];
  };
}[keyof RequestByApiKey];

export interface ParseRequestOptions {
  /** Which versions are served (default: every version of the schema). Others throw UNSUPPORTED_VERSION. */
  isSupported?: (apiKey: number, apiVersion: number) => boolean;
}

/**
 * Decodes one request frame (header and body, without the size prefix). Throws a BrokerError:
 * INVALID_REQUEST for an unknown API key, a truncated or malformed frame or trailing bytes;
 * UNSUPPORTED_VERSION for a version not served (see `peekRequestHeader` for the ApiVersions answer).
 * Bytes and records in the result are views of `frame`.
 */
export function parseRequest(frame: Uint8Array, options: ParseRequestOptions = {}): ParsedRequest {
  const peek = peekRequestHeader(frame);
  if (!peek)
    throw new BrokerError(
      'INVALID_REQUEST',
      `a ${frame.length}-byte frame is too short for a request header`,
    );
  const { apiKey, apiVersion, correlationId } = peek;
  const descriptor = requests.get(apiKey);
  if (!descriptor) throw new BrokerError('INVALID_REQUEST', `unknown API key ${apiKey}`);
  const supported = options.isSupported
    ? options.isSupported(apiKey, apiVersion)
    : inVersions(descriptor.validVersions, apiVersion);
  if (!supported) {
    throw new BrokerError('UNSUPPORTED_VERSION', `${descriptor.name} v${apiVersion} is not supported`);
  }
  const reader = new Reader(frame);
  const header = decodeMessage(RequestHeader, requestHeaderVersion(apiKey, apiVersion), reader);
  const body = decodeMessage(descriptor, apiVersion, reader);
  if (reader.remaining !== 0) {
    throw new BrokerError(
      'INVALID_REQUEST',
      `${descriptor.name} v${apiVersion}: ${reader.remaining} trailing bytes after the body`,
    );
  }
  return { apiKey, apiVersion, correlationId, header, body } as ParsedRequest;
}

/** Writes the response header that goes with `apiKey` at `apiVersion` (v0, or v1 with an empty tag section). */
export function encodeResponseHeader(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  writer: Writer,
): void {
  encodeMessage(ResponseHeader, responseHeaderVersion(apiKey, apiVersion), { correlationId }, writer);
}

/**
 * Writes a whole response frame: int32 size, response header, body. Returns the writer; take the bytes
 * with `finish()` (chunks, record batches by reference) or `toBytes()`.
 */
export function encodeResponseFrame<K extends keyof ResponseByApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseByApiKey[K],
  writer: Writer = new Writer(),
): Writer {
  const descriptor = responses.get(apiKey) as MessageDescriptor<ResponseByApiKey[K]> | undefined;
  if (!descriptor) throw new BrokerError('UNKNOWN_SERVER_ERROR', `no response schema for API key ${apiKey}`);
  const sizeAt = writer.reserveInt32();
  encodeResponseHeader(apiKey, apiVersion, correlationId, writer);
  encodeMessage(descriptor, apiVersion, body, writer);
  writer.patchInt32(sizeAt, writer.length - sizeAt - 4);
  return writer;
}

/** Writes a whole request frame (int32 size, header, body): the client side, for tests and tools. */
export function encodeRequestFrame<K extends keyof RequestByApiKey>(
  header: { apiKey: K; apiVersion: number; correlationId: number; clientId: string | null },
  body: RequestByApiKey[K],
  writer: Writer = new Writer(),
): Writer {
  const descriptor = requests.get(header.apiKey) as MessageDescriptor<RequestByApiKey[K]> | undefined;
  if (!descriptor)
    throw new BrokerError('UNKNOWN_SERVER_ERROR', `no request schema for API key ${header.apiKey}`);
  const sizeAt = writer.reserveInt32();
  encodeMessage(
    RequestHeader,
    requestHeaderVersion(header.apiKey, header.apiVersion),
    {
      requestApiKey: header.apiKey,
      requestApiVersion: header.apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
    },
    writer,
  );
  encodeMessage(descriptor, header.apiVersion, body, writer);
  writer.patchInt32(sizeAt, writer.length - sizeAt - 4);
  return writer;
}
