import { admin, type TestService } from './service';

/**
 * Net movement (debit − credit) per account over the entries about one reference; zero accounts
 * left out. In one currency when given, else all together.
 */
export async function movements(service: TestService, reference: string, currency?: string): Promise<Record<string, number>> {
  const { rows } = await service.database.db.query(
    `SELECT l.account, sum(l.debit - l.credit)::int AS net
       FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id
      WHERE e.reference = $1 AND ($2::text IS NULL OR l.currency = $2)
      GROUP BY l.account HAVING sum(l.debit - l.credit) <> 0`,
    [reference, currency ?? null],
  );
  return Object.fromEntries(rows.map((r) => [r.account, r.net]));
}

/** The trial balance through the admin API: debits equal credits in every currency. */
export async function expectBalanced(service: TestService): Promise<void> {
  const { body } = await admin(service, '/ledger/balance');
  expect(body.balanced).toBe(true);
  for (const total of body.totals) expect(total.debit).toBe(total.credit);
}
