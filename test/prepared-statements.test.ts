import { withTransaction, type Db } from '../src/platform/db';
import { getEvent, insertEvent, loadEventPayload } from '../src/store/events';
import { singleConnectionPools } from './support/database';
import { stripeEvent, stripeObject } from './support/stripe-events';

const pools = singleConnectionPools();
const oneConnection = (preparedStatements = true) => pools.oneConnection({ preparedStatements });

/** A query without parameters is never prepared, so it lists the session's statements without adding one. */
async function preparedTexts(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time');
  return rows.map((row) => row.statement);
}

test('when a statement with parameters runs twice on one connection, then PostgreSQL prepared it once', async () => {
  const db = oneConnection();
  const text = 'SELECT $1::int + 1 AS next';

  const first = await db.query(text, [1]);
  const second = await db.query(text, [41]);

  expect([first.rows[0].next, second.rows[0].next]).toEqual([2, 42]);
  expect(await preparedTexts(db)).toEqual([text]);
});

test('when a transaction runs statements with parameters, then they are prepared on its connection too', async () => {
  const db = oneConnection();
  const text = 'SELECT $1::text AS echoed';

  await withTransaction(db, (client) => client.query(text, ['inside']));

  expect(await preparedTexts(db)).toEqual([text]);
});

test('when prepared statements are off (DATABASE_PREPARED_STATEMENTS=false), then nothing is prepared', async () => {
  const db = oneConnection(false);

  await db.query('SELECT $1::int AS one', [1]);

  expect(await preparedTexts(db)).toEqual([]);
});

test('when a migration adds a column while the event queries are prepared, then they go on returning the same rows', async () => {
  const db = oneConnection();
  const event = stripeEvent('customer.created', stripeObject('customer'));
  await insertEvent(db, event);
  await getEvent(db, event.id);
  await loadEventPayload(db, event.id);

  await db.query('ALTER TABLE stripe_events ADD COLUMN added_by_a_later_release text');
  await insertEvent(db, event);
  const again = await getEvent(db, event.id);
  const payload = await loadEventPayload(db, event.id);

  expect(again?.id).toBe(event.id);
  expect(payload.id).toBe(event.id);
});
