import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { migrate, migrationsDir } from '../src/platform/db';
import { insertEvent } from '../src/store/events';
import { disputeWithFunds } from './support/billing-events';
import { createTestDatabase, type TestDatabase } from './support/database';
import { stripeEvent } from './support/stripe-events';

/**
 * Disputes booked before `dispute_charges` existed have their entries under the dispute's id
 * only; the migration names their charges from the payloads still kept, so the books of the
 * invoices they took money from show them too.
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
