/**
 * @module
 * Offset lookup of one partition: `?at=earliest|latest|<epoch-ms>` (docs/http-api.md).
 */
import { Hono } from 'hono';
import type { OffsetSpec } from '../../ipc/engine.ts';
import { checkTopicName, parseInteger, parsePartition } from '../params.ts';
import { send } from '../respond.ts';
import type { RouteDeps } from '../route-deps.ts';

/** `at` defaults to latest, as Kafka's GetOffsetShell does. */
function parseAt(raw: string | undefined): OffsetSpec {
  if (raw === undefined || raw === 'latest') return 'latest';
  if (raw === 'earliest') return 'earliest';
  return { timestamp: parseInteger('at', raw, { min: 0 }) };
}

export function offsetRoutes(deps: RouteDeps): Hono {
  const { engine } = deps;
  const app = new Hono();

  app.get('/v1/topics/:topic/partitions/:partition/offsets', async (c) => {
    const topic = checkTopicName(c.req.param('topic'));
    const partition = parsePartition(c.req.param('partition'));
    const result = await engine.listOffset(topic, partition, parseAt(c.req.query('at')));
    // `timestamp` only when a record was found by time, never as null.
    return send(c, 200, result.timestamp === undefined ? { offset: result.offset } : result);
  });

  return app;
}
