import { applicationFee, balanceTransaction, capturedCharge, connectTransfer, payout, topup } from './support/billing-events';
import { movements } from './support/ledger';
import { admin, deliverTwiceAndWait, testAdminKey } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { stripeEvent } from './support/stripe-events';

/**
 * With a Stripe key: balance transactions are fetched from Stripe, and the month's close is
 * compared with the balance transactions Stripe lists for it (stripe-mock behind a recorder that
 * answers the transactions a test sets).
 */

const environment = useServiceWithRecordedStripe();

/** Unix seconds of a moment in June 2025, a month no other test books in. */
const june = (day: number) => Date.UTC(2025, 5, day, 12) / 1000;

const adminBase = () => environment.service.api?.adminUrl ?? environment.service.url;

async function closeOfJune2025(accept = 'application/json') {
  const response = await fetch(`${adminBase()}/admin/reports/close?month=2025-06`, {
    headers: { authorization: `Bearer ${testAdminKey}`, accept },
  });
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

beforeAll(async () => {
  const charge = { ...capturedCharge({ amount: 10_000, invoice: null }), id: 'ch_test_june_close', balance_transaction: 'txn_test_june_charge', created: june(10) };
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: charge.id, amount: 10_000, fee: 320, created: june(10) }), id: 'txn_test_june_charge' });
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: 'po_test_june', amount: -6_000, fee: 0, type: 'payout', created: june(20) }), id: 'txn_test_june_payout' });
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: 'adj_test_june', amount: -1_500, fee: 0, type: 'adjustment', created: june(25) }), id: 'txn_test_june_adjustment' });
  // A Connect platform's: a fee earned on a connected account's charge, and a destination charge passed on.
  const fee = { ...applicationFee({ amount: 300, balanceTransaction: 'txn_test_june_fee' }), id: 'fee_test_june', created: june(15) };
  const passedOn = { ...connectTransfer({ amount: 7_000, balanceTransaction: 'txn_test_june_transfer' }), id: 'tr_test_june', created: june(16) };
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: fee.id, amount: 300, fee: 0, type: 'application_fee', created: june(15) }), id: 'txn_test_june_fee' });
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: passedOn.id, amount: -7_000, fee: 0, type: 'transfer', created: june(16) }), id: 'txn_test_june_transfer' });

  // A top-up from the bank, and one reversed within the month (Stripe lists its reversal apart).
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: 'tu_test_june', amount: 2_500, fee: 0, type: 'topup', created: june(18) }), id: 'txn_test_june_topup' });
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: 'tu_test_june_back', amount: 1_000, fee: 0, type: 'topup', created: june(19) }), id: 'txn_test_june_topup_back' });
  environment.stripe.setBalanceTransaction({ ...balanceTransaction({ source: 'tu_test_june_back', amount: -1_000, fee: 0, type: 'topup_reversal', created: june(22) }), id: 'txn_test_june_topup_reversal' });

  await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', charge, { created: june(10) }));
  await deliverTwiceAndWait(environment.service, stripeEvent('topup.succeeded', topup('tu_test_june', 2_500, 'succeeded'), { created: june(18) }));
  await deliverTwiceAndWait(environment.service, stripeEvent('topup.succeeded', topup('tu_test_june_back', 1_000, 'succeeded'), { created: june(19) }));
  await deliverTwiceAndWait(environment.service, stripeEvent('topup.reversed', topup('tu_test_june_back', 1_000, 'reversed'), { created: june(22) }));
  await deliverTwiceAndWait(environment.service, stripeEvent('payout.paid', payout('po_test_june', 6_000, 'paid'), { created: june(20) }));
  await deliverTwiceAndWait(environment.service, stripeEvent('application_fee.created', fee, { created: june(15) }));
  await deliverTwiceAndWait(environment.service, stripeEvent('transfer.created', passedOn, { created: june(16) }));
  const connectedSale = { ...capturedCharge({ amount: 4_000, invoice: null }), id: 'ch_test_june_connected', balance_transaction: null, created: june(12) };
  await deliverTwiceAndWait(environment.service, stripeEvent('charge.succeeded', connectedSale, { created: june(12), account: 'acct_testJune' }));
});

async function journalOfJune2025(query = '') {
  const response = await fetch(`${adminBase()}/admin/ledger/journal?from=2025-06-01&to=2025-06-30${query}`, { headers: { authorization: `Bearer ${testAdminKey}` } });
  return { status: response.status, file: response.headers.get('content-disposition'), rows: (await response.text()).trim().split('\n').map((row) => row.split(',')) };
}

test('when a charge names its balance transaction by id and a key is set, then Stripe is asked for it and its fee is booked', async () => {
  expect(environment.stripe.calls).toContain('GET /v1/balance_transactions/txn_test_june_charge');
  expect(await movements(environment.service, 'ch_test_june_close')).toEqual({ revenue: -10_000, stripe_balance: 9_680, stripe_fees: 320 });
});

test('when the month is closed, then it totals revenue, fees, payouts, top-ups, application fees and transfers per currency', async () => {
  const { status, text } = await closeOfJune2025();

  expect(status).toBe(200);
  const report = JSON.parse(text);
  expect(report.month).toBe('2025-06');
  expect(report.totals).toEqual([{ currency: 'usd', revenue: 10_000, tax: 0, refunds: 0, disputes: 0, bad_debt: 0, fees: 320, payouts: 6_000, topups: 2_500, application_fees: 300, transfers: 7_000, platform_fees: 0, balance_adjustments: 0 }]);
});

test('when the month is compared with Stripe\'s balance transactions, then only what the books cannot explain is listed', async () => {
  const report = JSON.parse((await closeOfJune2025()).text);

  expect(report.stripe_comparison).toEqual({
    checked: true,
    stripe_transactions: 8,
    booked_transactions: 3,
    differences: [
      { balance_transaction: 'txn_test_june_adjustment', source: 'adj_test_june', type: 'adjustment', currency: 'usd', kind: 'not_in_ledger', stripe: { amount: -1_500, fee: 0 }, ledger: null },
    ],
  });
});

test('when the close is asked for as CSV, then it carries the totals and each difference in major units', async () => {
  const { status, type, text } = await closeOfJune2025('text/csv');

  expect(status).toBe(200);
  expect(type).toContain('text/csv');
  const rows = text.trim().split('\n');
  expect(rows[0]).toBe('section,currency,item,amount,detail');
  expect(rows).toContain('total,USD,revenue,100.00,');
  expect(rows).toContain('total,USD,fees,3.20,');
  expect(rows).toContain('total,USD,topups,25.00,');
  expect(rows).toContain('difference,USD,not_in_ledger,-15.00,adjustment txn_test_june_adjustment (adj_test_june)');
});

test('when the journal of the month is exported, then every line is a row an accounting tool imports and each currency balances', async () => {
  const { status, rows: [header, ...rows] } = await journalOfJune2025();

  expect(status).toBe(200);
  expect(header).toEqual(['date', 'reference', 'account', 'debit', 'credit', 'currency', 'memo']);
  expect(rows).toContainEqual(['2025-06-10', 'charge:ch_test_june_close:sale', 'revenue', '', '100.00', 'USD', 'Charge ch_test_june_close outside invoices']);
  expect(rows).toContainEqual(['2025-06-20', 'payout:po_test_june:paid', 'bank', '60.00', '', 'USD', 'Payout po_test_june paid']);
  const cents = (value: string) => Math.round(Number(value || 0) * 100);
  expect(rows.reduce((sum, row) => sum + cents(row[3]), 0)).toBe(rows.reduce((sum, row) => sum + cents(row[4]), 0));
});

test('when the journal is exported without an account, then it holds the platform\'s books only, and ?account= gives a connected account\'s alone', async () => {
  const platform = await journalOfJune2025();
  const connected = await journalOfJune2025('&account=acct_testJune');

  expect(platform.rows.some((row) => row[1].includes('ch_test_june_connected'))).toBe(false);
  expect(connected.status).toBe(200);
  expect(connected.file).toContain('journal-acct_testJune-2025-06-01-2025-06-30.csv');
  expect(connected.rows.slice(1).map((row) => row.slice(1, 5))).toEqual([
    ['charge:ch_test_june_connected:sale', 'stripe_balance', '40.00', ''],
    ['charge:ch_test_june_connected:sale', 'revenue', '', '40.00'],
  ]);
});

test.each([
  ['/reports/close?month=2025-13', 'month must be a month like 2026-11.'],
  ['/reports/close', 'month must be a month like 2026-11.'],
  ['/ledger/journal?from=2025-06-01', 'to must be a day like 2026-11-30.'],
  ['/ledger/journal?from=2025-06-31&to=2025-07-01', 'from must be a day like 2026-11-30.'],
  ['/ledger/journal?from=2025-06-10&to=2025-06-01', 'to must not be before from.'],
])('when %s is asked for, then it answers 400 saying what is wrong', async (path, message) => {
  const { status, body } = await admin(environment.service, path);

  expect(status).toBe(400);
  expect(body.error).toEqual({ code: 'invalid_parameter', message });
});
