import { Gauge } from 'prom-client';
import type { Db } from '../platform/db';
import type { Metrics } from '../platform/metrics';

const unfinishedStatuses = ['received', 'processing'] as const;
interface UnfinishedRow {
  status: (typeof unfinishedStatuses)[number];
  count: number;
  oldest_seconds: number;
}

/**
 * State read from PostgreSQL at scrape time, so every process that can reach the database
 * reports the same truth. While the database is away they keep their last value, so that
 * /metrics itself still answers (and `/readyz` tells what is wrong).
 */
export function addDatabaseGauges(metrics: Metrics, db: Db, ledgerCheckEveryMs: number): void {
  // Once per registry: the API and the worker share one in a single process.
  if (metrics.registry.getSingleMetric('stripe_dunning_active_cases')) return;
  new Gauge({
    name: 'stripe_dunning_active_cases',
    help: 'Unpaid invoices whose dunning is running',
    registers: [metrics.registry],
    async collect() {
      const rows = await rowsOrNothing<{ count: number }>(db, `SELECT count(*)::int AS count FROM dunning_cases WHERE status = 'open'`);
      if (rows) this.set(rows[0].count);
    },
  });
  // Accepted and not finished: during a billing run, how far the workers are behind; any other
  // time, an event whose run never began (the API died between store and start) or was
  // terminated, which nothing will finish unless someone looks. One query serves both gauges
  // of a scrape (prom-client collects them at the same time).
  let reading: Promise<UnfinishedRow[] | undefined> | undefined;
  const readUnfinished = () =>
    (reading ??= rowsOrNothing<UnfinishedRow>(
      db,
      `SELECT status, count(*)::int AS count, extract(epoch FROM now() - min(received_at))::float8 AS oldest_seconds
         FROM stripe_events WHERE status IN ('received', 'processing') GROUP BY status`,
    ).finally(() => (reading = undefined)));
  const unfinishedGauge = (name: string, help: string, valueOf: (row: UnfinishedRow | undefined) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['status'],
      registers: [metrics.registry],
      async collect() {
        const rows = await readUnfinished();
        if (!rows) return;
        for (const status of unfinishedStatuses) this.set({ status }, valueOf(rows.find((row) => row.status === status)));
      },
    });
  unfinishedGauge(
    'stripe_events_unfinished',
    'Accepted events not finished yet, by status (received: its run has not begun; processing: a run works on it)',
    (row) => row?.count ?? 0,
  );
  unfinishedGauge(
    'stripe_events_unfinished_oldest_seconds',
    'How long ago the oldest unfinished event of each status was accepted (0 when there is none)',
    (row) => (row ? Math.round(row.oldest_seconds) : 0),
  );
  // A sum over the whole ledger grows with it: it runs at most once per interval, however
  // often /metrics is scraped, and scrapes in between report the last result.
  let ledgerCheckedAt = -Infinity;
  new Gauge({
    name: 'stripe_ledger_imbalance',
    help: 'Debits minus credits over the whole ledger, per currency, in minor units (checked every few minutes); anything but 0 is a bug',
    labelNames: ['currency'],
    registers: [metrics.registry],
    async collect() {
      if (Date.now() - ledgerCheckedAt < ledgerCheckEveryMs) return;
      const rows = await rowsOrNothing<{ currency: string; imbalance: number }>(
        db,
        `SELECT currency, (sum(debit) - sum(credit))::float8 AS imbalance FROM ledger_lines GROUP BY currency`,
      );
      if (!rows) return;
      ledgerCheckedAt = Date.now();
      this.reset();
      for (const row of rows) this.set({ currency: row.currency }, row.imbalance);
    },
  });
}

async function rowsOrNothing<Row extends object>(db: Db, sql: string): Promise<Row[] | undefined> {
  try {
    return (await db.query<Row>(sql)).rows;
  } catch {
    return undefined;
  }
}
