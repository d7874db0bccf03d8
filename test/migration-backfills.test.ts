import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { migrate, migrationsDir } from '../src/platform/db';
import { insertEvent } from '../src/store/events';
import { applicationFee, disputeWithFunds } from './support/billing-events';
import { createTestDatabase, type TestDatabase } from './support/database';
import { stripeEvent } from './support/stripe-events';

/**
 * Tables filled, when they are created, from the payloads of the events still kept:
 * `dispute_charges` (entries booked before it are under the dispute's id only; naming
 * their charges lets the books of the invoices they took money from show them) and `disputes`
 * (each dispute's latest state, from which the digest reminds of those still to answer) and
 * `application_fees` (what the platform refunded of each fee, which a connected account's charge
 * booked later gives back).
 */

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

test('when disputes were stored before the table that names their charges, then migrating fills it from their payloads', async () => {
  // Back to the schema before 019, whatever migrations came after it.
  const fromDisputeCharges = readdirSync(migrationsDir).filter((name) => name >= '019_dispute-charges.sql').length;
  await runner({ databaseUrl: database.url, dir: migrationsDir, direction: 'down', migrationsTable: 'schema_migrations', count: fromDisputeCharges, log: () => {} });
  const byId = stripeEvent('charge.dispute.created', { ...disputeWithFunds('dp_before_table', 1_000, 'needs_response', []), charge: 'ch_plain_id' });
  const expanded = stripeEvent('charge.dispute.closed', { ...disputeWithFunds('dp_expanded', 1_000, 'lost', []), charge: { id: 'ch_expanded', object: 'charge' } });
  const again = stripeEvent('charge.dispute.closed', { ...disputeWithFunds('dp_before_table', 1_000, 'lost', []), charge: 'ch_plain_id' });
  for (const event of [byId, expanded, again]) await insertEvent(database.db, event);

  await migrate(database.url);

  const { rows } = await database.db.query('SELECT dispute_id, charge_id FROM dispute_charges ORDER BY dispute_id');
  expect(rows).toEqual([
    { dispute_id: 'dp_before_table', charge_id: 'ch_plain_id' },
    { dispute_id: 'dp_expanded', charge_id: 'ch_expanded' },
  ]);
});

test('when disputes were stored before the table that keeps their state, then migrating keeps each as its newest event left it, so the digest reminds of those still to answer', async () => {
  const fromDisputes = readdirSync(migrationsDir).filter((name) => name >= '030_disputes.sql').length;
  await runner({ databaseUrl: database.url, dir: migrationsDir, direction: 'down', migrationsTable: 'schema_migrations', count: fromDisputes, log: () => {} });
  const due = { due_by: Date.UTC(2030, 2, 1) / 1000 };
  const opened = stripeEvent('charge.dispute.created', { ...disputeWithFunds('dp_waiting_before', 2_000, 'needs_response', []), charge: 'ch_waiting', evidence_details: due }, { created: 1_800_000_000 });
  const answeredFirst = stripeEvent('charge.dispute.created', { ...disputeWithFunds('dp_answered_before', 700, 'needs_response', []), charge: 'ch_answered', evidence_details: due }, { created: 1_800_000_000 });
  const answered = stripeEvent('charge.dispute.updated', { ...disputeWithFunds('dp_answered_before', 700, 'under_review', []), charge: 'ch_answered', evidence_details: due }, { created: 1_800_000_100 });
  for (const event of [answered, opened, answeredFirst]) await insertEvent(database.db, event);

  await migrate(database.url);

  const { rows } = await database.db.query("SELECT id, charge_id, amount::int AS amount, status, due_by FROM disputes WHERE id LIKE '%_before' ORDER BY id");
  expect(rows).toEqual([
    { id: 'dp_answered_before', charge_id: 'ch_answered', amount: 700, status: 'under_review', due_by: new Date(Date.UTC(2030, 2, 1)) },
    { id: 'dp_waiting_before', charge_id: 'ch_waiting', amount: 2_000, status: 'needs_response', due_by: new Date(Date.UTC(2030, 2, 1)) },
  ]);
});

test('when application fees were refunded before the table that keeps them, then migrating keeps each fee\'s newest refund and its payer', async () => {
  const fromFees = readdirSync(migrationsDir).filter((name) => name >= '031_application-fees.sql').length;
  await runner({ databaseUrl: database.url, dir: migrationsDir, direction: 'down', migrationsTable: 'schema_migrations', count: fromFees, log: () => {} });
  const fee = { ...applicationFee({ amount: 150, returned: [100, 20] }), id: 'fee_before_table', charge: 'ch_fee_before' };
  const older = stripeEvent('application_fee.refunded', { ...fee, amount_refunded: 100 }, { created: 1_800_000_000 });
  const newer = stripeEvent('application_fee.refunded', fee, { created: 1_800_000_100 });
  for (const event of [newer, older]) await insertEvent(database.db, event);

  await migrate(database.url);

  const { rows } = await database.db.query("SELECT id, payer_account, charge_id, currency, amount_refunded::int AS amount_refunded FROM application_fees WHERE id = 'fee_before_table'");
  expect(rows).toEqual([{ id: 'fee_before_table', payer_account: 'acct_testSeller', charge_id: 'ch_fee_before', currency: 'usd', amount_refunded: 120 }]);
});
