/**
 * @module
 * The brokers' internal routes, msgpack in and out, served only by a broker in a cluster (main.ts passes
 * the handlers; elsewhere 404):
 * - `POST /v1/internal/replica-fetch`: followers fetch from their leader (src/cluster/replica-protocol.ts);
 *   its answer is framed by the replication layer (msgpack header, then raw record bytes).
 * - `POST /v1/internal/group-call`: a group call `{method, request}` forwarded to the group coordinator
 *   (src/cluster/cluster-groups.ts); answers `{ok: result}` or `{error: {code, message}}`, always 200, so a
 *   BrokerError crosses brokers with its Kafka name.
 * - `POST /v1/internal/led-offsets`: `{topic}` → the log start and high watermark of the partitions of the
 *   topic this broker leads (another broker describing the topic asks the leaders).
 * Internal: not part of the public API (docs/http-api.md), and like the rest of the API not authenticated.
 */
import { Hono } from 'hono';
import { BrokerError } from '../../shared/errors.ts';
import { packInternal as pack, unpackInternal as unpack } from '../../shared/internal-msgpack.ts';

/** Internal requests are lists of partitions and offsets, or one group call: small. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export type InternalHandler = (request: unknown) => Promise<unknown>;

export interface InternalHandlers {
  replicaFetch?: InternalHandler | undefined;
  groupCall?: InternalHandler | undefined;
  ledOffsets?: InternalHandler | undefined;
}

function readMsgpack(body: ArrayBuffer): unknown {
  if (body.byteLength > MAX_REQUEST_BYTES) {
    throw new BrokerError('INVALID_REQUEST', `an internal request is at most ${MAX_REQUEST_BYTES} bytes`);
  }
  try {
    return unpack(new Uint8Array(body));
  } catch (err) {
    throw new BrokerError('INVALID_REQUEST', `not a msgpack request: ${(err as Error).message}`);
  }
}

function msgpack(value: unknown): ArrayBuffer {
  const bytes = pack(value);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
}

export function replicationRoutes(handlers: InternalHandlers): Hono {
  const app = new Hono();
  const { replicaFetch, groupCall, ledOffsets } = handlers;
  if (ledOffsets) {
    app.post('/v1/internal/led-offsets', async (c) => {
      const answer = await ledOffsets(readMsgpack(await c.req.arrayBuffer()));
      return c.body(msgpack(answer), 200, { 'content-type': 'application/msgpack' });
    });
  }
  if (replicaFetch) {
    app.post('/v1/internal/replica-fetch', async (c) => {
      const answer = await replicaFetch(readMsgpack(await c.req.arrayBuffer()));
      // Already framed by the replication layer (replica-protocol.ts): sent as it is.
      const body = (
        answer instanceof Uint8Array ? answer : new Uint8Array(msgpack(answer))
      ) as Uint8Array<ArrayBuffer>;
      const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
      return c.body(whole ? body.buffer : body.slice().buffer, 200, {
        'content-type': 'application/octet-stream',
      });
    });
  }
  if (groupCall) {
    app.post('/v1/internal/group-call', async (c) => {
      let answer: unknown;
      try {
        answer = { ok: await groupCall(readMsgpack(await c.req.arrayBuffer())) };
      } catch (err) {
        if (!(err instanceof BrokerError)) throw err;
        answer = { error: { code: err.code, message: err.message } };
      }
      return c.body(msgpack(answer), 200, { 'content-type': 'application/msgpack' });
    });
  }
  return app;
}
