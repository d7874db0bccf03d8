import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { Config } from '../src/platform/config';
import type { Db } from '../src/platform/db';
import type { Mailer } from '../src/platform/mailer';
import type { Metrics } from '../src/platform/metrics';

/** What the activities work with; the worker creates each once and passes them in. */
export interface ActivityDependencies {
  db: Db;
  mailer: Mailer;
  config: Config;
  /** Activities that start or signal other workflows (dunning) use it. */
  temporal: Client;
  /** Undefined without STRIPE_SECRET_KEY; features that need it log that they are skipped. */
  stripe?: Stripe;
  metrics: Metrics;
  /** For work outside one event (reconcile); per-event lines go through the activity logger. */
  log: Logger;
  /**
   * Accepts the events Stripe has that we do not, the way the webhook does (src/intake); the
   * worker passes it in so that activities do not depend on the intake side. Undefined without
   * STRIPE_SECRET_KEY.
   */
  reconcile?: () => Promise<{ listed: number; started: number; failedAccounts: number }>;
}
