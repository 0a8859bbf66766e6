/**
 * @module
 * How one broker calls another's internal routes (src/http/routes/replication.ts): a msgpack POST to the
 * HTTP address the broker registered in etcd, bounded in time. Used by followers (replica fetches), by
 * brokers forwarding group calls to the coordinator, and by topic descriptions asking leaders.
 */
import { packInternal } from '../shared/internal-msgpack.ts';

/** What a broker's address needs: its registration's host and HTTP port. */
export interface BrokerAddress {
  host: string;
  httpPort: number;
}

/** `http://host:port` (an IPv6 literal in brackets). */
export function brokerUrl(to: BrokerAddress): string {
  const host = to.host.includes(':') && !to.host.startsWith('[') ? `[${to.host}]` : to.host;
  return `http://${host}:${to.httpPort}`;
}

/** An answer as it came: its status and body bytes. */
export interface BrokerAnswer {
  ok: boolean;
  status: number;
  bytes: Uint8Array;
}

/**
 * POSTs `body` (of `contentType`) to `path` on broker `to`, asking for msgpack, and returns the answer
 * whatever its status. Rejects on a network error or after `timeoutMs`.
 */
export async function postToBroker(
  to: BrokerAddress,
  path: string,
  body: Uint8Array,
  contentType: string,
  timeoutMs: number,
): Promise<BrokerAnswer> {
  const response = await fetch(brokerUrl(to) + path, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/msgpack' },
    body: body as Uint8Array<ArrayBuffer>,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { ok: response.ok, status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
}

/**
 * POSTs `body` as msgpack to `path` on broker `to` and returns the answer's bytes. Rejects on a network
 * error, after `timeoutMs`, or on an answer that is not 2xx (with its first bytes in the message).
 */
export async function callBroker(
  to: BrokerAddress,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<Uint8Array> {
  const { ok, status, bytes } = await postToBroker(
    to,
    path,
    new Uint8Array(packInternal(body)),
    'application/msgpack',
    timeoutMs,
  );
  if (!ok) {
    throw new Error(`broker answered HTTP ${status}: ${new TextDecoder().decode(bytes.subarray(0, 300))}`);
  }
  return bytes;
}
