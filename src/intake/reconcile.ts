import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import { WorkflowType } from '../../workflows/contracts';
import type { Config } from '../platform/config';
import type { Metrics } from '../platform/metrics';
import type { StripeEvent } from '../platform/stripe-event';
import type { Db } from '../platform/db';
import { asAccount } from '../platform/stripe-client';
import { connectedAccountsSince, deauthorizedAccounts } from '../store/events';
import { checkpointNames, readCheckpoint, writeCheckpoint } from '../store/reconcile-checkpoints';
import { acceptEvent, type IntakeDependencies } from './accept-event';

export interface ReconcileDependencies extends Omit<IntakeDependencies, 'metrics'> {
  config: IntakeDependencies['config'] & Pick<Config, 'RECONCILE_CONNECTED_ACCOUNTS'>;
  stripe: Stripe;
  log: Logger;
  /** What each run found: the process's metrics (the worker's for the hourly runs, the API's for the admin route). */
  metrics?: Pick<Metrics, 'reconcileEventsStarted' | 'reconcileFailedAccounts' | 'reconcileFinished'>;
}

export interface ReconcileResult {
  /** Events Stripe listed since the checkpoints (minus the overlap), the platform's and its connected accounts'. */
  listed: number;
  /** Of those, events that had no workflow yet and now have one. */
  started: string[];
  /** Unix seconds of the platform's newest event seen; its next run starts there. */
  checkpoint: number | null;
  /** Connected accounts whose listing failed this run (access revoked, Stripe away); the others went on. */
  failedAccounts: string[];
}

const checkpointName = 'stripe-events';
/** A connected account's own listing (Connect): its events are listed as that account. */
const accountCheckpointPrefix = 'stripe-events:';
/** How far the stored events were read for connected accounts not reconciled yet (their `seq`). */
const accountsSeenCheckpoint = 'connected-accounts-seen';
/** Events created just before the checkpoint may be listed late; read them again, cheaply skipped. */
const overlapSeconds = 3600;
/** Without a checkpoint, look back as far as Stripe itself retries a delivery. */
const firstLookbackSeconds = 3 * 24 * 3600;

/**
 * Lists events from Stripe's events API since the checkpoint and accepts every one that has no
 * workflow yet, exactly as a webhook delivery would. An endpoint outage longer than Stripe's
 * retry window therefore loses nothing. The checkpoint moves only after the whole listing went
 * through, so a run that fails half-way is repeated, not skipped. With Connect, the platform's
 * events API lists none of its connected accounts' events: each account the stored events name
 * is listed as that account, from a checkpoint of its own
 * (`RECONCILE_CONNECTED_ACCOUNTS=false` turns that off: one API call per account and run).
 */
export async function reconcileEvents(deps: ReconcileDependencies, now = Math.floor(Date.now() / 1000)): Promise<ReconcileResult> {
  const platform = await reconcileListing(deps, now, null);
  const results = [platform];
  const failedAccounts: string[] = [];
  if (deps.config.RECONCILE_CONNECTED_ACCOUNTS) {
    for (const account of await connectedAccountsToList(deps.db, now)) {
      // One account that revoked the platform's access must not keep the others from being read.
      try {
        results.push(await reconcileListing(deps, now, account));
      } catch (err) {
        failedAccounts.push(account);
        deps.log.warn({ account, err: { message: (err as Error).message } }, 'reconcile: could not list a connected account\'s events');
      }
    }
  }
  const result = { listed: sum(results.map((r) => r.listed)), started: results.flatMap((r) => r.started), checkpoint: platform.checkpoint, failedAccounts };
  deps.metrics?.reconcileEventsStarted.inc(result.started.length);
  deps.metrics?.reconcileFailedAccounts.set(failedAccounts.length);
  deps.metrics?.reconcileFinished.set(now);
  deps.log.info({ listed: result.listed, started: result.started.length, accounts: results.length - 1, failedAccounts: failedAccounts.length }, 'reconcile: done');
  return result;
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** One listing: the platform's events (`account` null) or a connected account's. */
async function reconcileListing(deps: ReconcileDependencies, now: number, account: string | null): Promise<Omit<ReconcileResult, 'failedAccounts'>> {
  const { db, stripe, log } = deps;
  const name = account ? `${accountCheckpointPrefix}${account}` : checkpointName;
  const previous = await readCheckpoint(db, name);
  const since = previous === null ? now - firstLookbackSeconds : previous - overlapSeconds;
  const started: string[] = [];
  let listed = 0;
  let newest = previous;
  for await (const listedEvent of stripe.events.list({ created: { gte: since }, limit: 100 }, asAccount(account))) {
    listed += 1;
    newest = Math.max(newest ?? 0, listedEvent.created);
    // A connected account's events, listed as that account, are its events as the Connect webhook sends them.
    const event = { ...listedEvent, account: listedEvent.account ?? account ?? undefined } as unknown as StripeEvent;
    // Known events come back as duplicates from the same single query that stores new ones.
    const accepted = await acceptEvent({ ...deps, metrics: undefined }, event);
    if (!accepted.duplicate) {
      started.push(event.id);
      log.info({ eventId: event.id, type: event.type, account }, 'reconcile: started a missed event');
    }
  }
  if (newest !== null) await writeCheckpoint(db, name, newest);
  return { listed, started, checkpoint: newest };
}

/**
 * The connected accounts to list: those listed before, and those that events stored since the
 * last run name for the first time, less those that disconnected. A new account gets its
 * checkpoint before the stored events are marked read, so that it is never forgotten; it is first
 * read as far back as Stripe retries.
 */
async function connectedAccountsToList(db: Db, now: number): Promise<string[]> {
  const seenUpTo = (await readCheckpoint(db, accountsSeenCheckpoint)) ?? 0;
  const { accounts, upToSeq } = await connectedAccountsSince(db, seenUpTo);
  const known = new Set((await checkpointNames(db, accountCheckpointPrefix)).map((name) => name.slice(accountCheckpointPrefix.length)));
  for (const account of accounts.filter((a) => !known.has(a))) {
    await writeCheckpoint(db, `${accountCheckpointPrefix}${account}`, now - firstLookbackSeconds + overlapSeconds);
    known.add(account);
  }
  if (upToSeq !== null) await writeCheckpoint(db, accountsSeenCheckpoint, upToSeq);
  // An account that disconnected from the platform cannot be listed; its checkpoint is kept for when it comes back.
  const deauthorized = await deauthorizedAccounts(db, [...known]);
  return [...known].filter((account) => !deauthorized.has(account)).sort();
}

export function reconcileScheduleId(taskQueue: string): string {
  return `stripe-reconcile-${taskQueue}`;
}

/** Hourly reconcile against Stripe's events API; created once, kept when it already exists. */
export async function ensureReconcileSchedule(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: reconcileScheduleId(taskQueue),
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: WorkflowType.reconcileStripeEvents, taskQueue, args: [] },
      policies: { overlap: 'SKIP' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

