/**
 * @module
 * Liveness (`GET /healthz`) and Prometheus metrics (`GET /metrics`).
 */
import { Hono } from 'hono';
import { send } from '../respond.ts';
import type { RouteDeps } from '../route-deps.ts';

export function healthRoutes(deps: RouteDeps): Hono {
  const { engine, metrics } = deps;
  const app = new Hono();

  app.get('/healthz', (c) => send(c, 200, { status: 'ok' }));

  app.get(
    '/metrics',
    async () =>
      new Response(await metrics.scrape(engine), {
        status: 200,
        headers: { 'content-type': metrics.contentType },
      }),
  );

  return app;
}
