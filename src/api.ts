import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import type { Logger } from 'pino';
import { createAdminRouter } from './admin';
import type { Config } from './config';
import type { Db } from './db';
import { errorResponses } from './http-errors';
import type { Metrics } from './metrics';
import { isTemporalReachable } from './temporal';
import { stripeWebhook } from './webhook';

export interface ApiDependencies {
  db: Db;
  temporal: Client;
  config: Config;
  log: Logger;
  metrics: Metrics;
}

export function createApi(deps: ApiDependencies): Koa {
  const router = new Router();

  router.post('/webhooks/stripe', stripeWebhook(deps));

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const [postgres, temporal] = await Promise.all([
      deps.db.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      isTemporalReachable(deps.temporal),
    ]);
    ctx.status = postgres && temporal ? 200 : 503;
    ctx.body = { status: postgres && temporal ? 'ready' : 'unavailable', postgres, temporal };
  });

  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });

  const admin = createAdminRouter(deps);

  const app = new Koa();
  // Behind a load balancer the client address comes from X-Forwarded-For.
  app.proxy = deps.config.TRUST_PROXY;
  app.use(errorResponses(deps.log));
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(admin.routes());
  app.use(admin.allowedMethods());
  return app;
}
