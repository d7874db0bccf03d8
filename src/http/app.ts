import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { createAdminRouter } from './admin';
import type { Config } from '../platform/config';
import { isDatabaseReachable, type Db } from '../platform/db';
import { errorResponses, requestContext } from './errors';
import type { Metrics } from '../platform/metrics';
import { isTemporalReachable } from '../platform/temporal-client';
import { stripeWebhook } from '../intake/webhook';
import { webhookHealth } from '../intake/webhook-health';

export interface ApiDependencies {
  db: Db;
  temporal: Client;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /** Undefined without STRIPE_SECRET_KEY; reconcile needs it. */
  stripe?: Stripe;
  /** Set by the process while it drains before stopping: /readyz then answers 503. */
  state?: { draining: boolean };
}

export function createApi(deps: ApiDependencies): Koa {
  const router = new Router();

  router.post('/webhooks/stripe', stripeWebhook(deps));

  router.get('/webhooks/health', async (ctx) => {
    const health = await webhookHealth(deps.db);
    // Monitors that only read status codes still see an unhealthy endpoint.
    ctx.status = health.status === 'unhealthy' ? 503 : 200;
    ctx.body = health;
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    if (deps.state?.draining) {
      ctx.status = 503;
      ctx.body = { status: 'draining' };
      return;
    }
    const [postgres, temporal] = await Promise.all([
      isDatabaseReachable(deps.db),
      isTemporalReachable(deps.temporal),
    ]);
    ctx.status = postgres && temporal ? 200 : 503;
    ctx.body = { status: postgres && temporal ? 'ready' : 'unavailable', postgres, temporal };
  });

  const app = newApp(deps);
  app.use(router.routes());
  app.use(router.allowedMethods());
  // With ADMIN_PORT the admin API and /metrics live on the internal listener only.
  if (deps.config.ADMIN_PORT === undefined) useInternalRoutes(app, deps);
  return app;
}

/** The internal listener (ADMIN_PORT): the admin API and /metrics, never exposed with the webhook. */
export function createInternalApi(deps: ApiDependencies): Koa {
  const app = newApp(deps);
  useInternalRoutes(app, deps);
  return app;
}

function useInternalRoutes(app: Koa, deps: ApiDependencies): void {
  const router = new Router();
  router.get('/metrics', async (ctx) => {
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  const admin = createAdminRouter(deps);
  app.use(router.routes());
  app.use(router.allowedMethods());
  app.use(admin.routes());
  app.use(admin.allowedMethods());
}

function newApp(deps: ApiDependencies): Koa {
  const app = new Koa();
  // Behind TRUST_PROXY proxies the client address is that many entries from the right of
  // X-Forwarded-For; what a client writes further left is never read.
  app.proxy = deps.config.TRUST_PROXY > 0;
  app.maxIpsCount = deps.config.TRUST_PROXY;
  app.use(requestContext(deps.log));
  app.use(errorResponses());
  return app;
}
