/**
 * @module
 * `POST /v1/internal/replica-fetch`: how followers fetch from their leader (src/cluster/replica-protocol.ts),
 * msgpack in and out. Only a broker in a cluster serves it (main.ts passes the handler); elsewhere 404.
 * Internal: not part of the public API (docs/http-api.md), and like the rest of the API not authenticated.
 */
import { Hono } from 'hono';
import { pack, unpack } from 'msgpackr';
import { BrokerError } from '../../shared/errors.ts';

/** A follower's request is a list of partitions and offsets: small. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export type ReplicaFetchHandler = (request: unknown) => Promise<unknown>;

export function replicationRoutes(handler: ReplicaFetchHandler | undefined): Hono {
  const app = new Hono();
  if (!handler) return app;
  app.post('/v1/internal/replica-fetch', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > MAX_REQUEST_BYTES) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `a replica fetch request is at most ${MAX_REQUEST_BYTES} bytes`,
      );
    }
    let request: unknown;
    try {
      request = unpack(body);
    } catch (err) {
      throw new BrokerError(
        'INVALID_REQUEST',
        `not a msgpack replica fetch request: ${(err as Error).message}`,
      );
    }
    const answer = pack(await handler(request));
    return c.body(new Uint8Array(answer), 200, { 'content-type': 'application/msgpack' });
  });
  return app;
}
