import { balanceTransaction, capturedCharge, chargeWithRefunds, disputeWithFunds, payout, topup } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { admin, deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';

/**
 * Without a Stripe key: what reached the Stripe balance is booked from the balance transactions
 * payloads carry (a dispute lists its own; a charge names its by id until a payload carries it),
 * payouts move the balance to the bank, and top-ups bring money from the bank into it.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

const sale = (amount: number, currency = 'usd'): Record<string, any> => ({ ...capturedCharge({ amount, invoice: null }), currency });

describe('Stripe fees', () => {
  test('when a charge names its balance transaction only by id, then its fee waits, and a charge.updated carrying the transaction books the fee and ends the wait', async () => {
    const charge: Record<string, any> = { ...sale(10_000), balance_transaction: `txn_test_named_${Date.now()}` };
    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge));
    const waiting = await admin(service, '/ledger/awaiting-fees');
    expect(waiting.body.data).toContainEqual(expect.objectContaining({ source_id: charge.id, balance_transaction_id: charge.balance_transaction, amount: 10_000, currency: 'usd' }));

    const settled = balanceTransaction({ source: charge.id, amount: 10_000, fee: 320 });
    await deliverTwiceAndWait(service, stripeEvent('charge.updated', { ...charge, balance_transaction: settled }));

    expect(await movements(service, charge.id)).toEqual({ revenue: -10_000, stripe_balance: 9_680, stripe_fees: 320 });
    const after = await admin(service, '/ledger/awaiting-fees');
    expect(after.body.data.map((wait: { source_id: string }) => wait.source_id)).not.toContain(charge.id);
    await expectBalanced(service);
  });

  test('when two events carry the same balance transaction, then its fee is booked once', async () => {
    const charge = sale(4_000);
    const settled = balanceTransaction({ source: charge.id, amount: 4_000, fee: 146 });

    await Promise.all([
      deliverTwiceAndWait(service, stripeEvent('charge.succeeded', { ...charge, balance_transaction: settled })),
      deliverTwiceAndWait(service, stripeEvent('charge.updated', { ...charge, balance_transaction: settled })),
    ]);

    expect(await movements(service, charge.id)).toEqual({ revenue: -4_000, stripe_balance: 3_854, stripe_fees: 146 });
  });

  test('when a connected account\'s charge paid its platform an application fee, then its books keep that fee apart from Stripe\'s, and its close shows both', async () => {
    const created = Date.UTC(2025, 3, 8, 9) / 1000;
    const charge: Record<string, any> = { ...sale(10_000), created };
    const details = [
      { amount: 320, currency: 'usd', type: 'stripe_fee', description: 'Stripe processing fees' },
      { amount: 150, currency: 'usd', type: 'application_fee', description: 'Platform fee' },
    ];
    charge.balance_transaction = { ...balanceTransaction({ source: charge.id, amount: 10_000, fee: 470, created }), fee_details: details };

    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge, { account: 'acct_testFeeSplit', created }));

    expect(await movements(service, charge.id)).toEqual({ revenue: -10_000, stripe_balance: 9_530, stripe_fees: 320, platform_fees: 150 });
    const { body } = await admin(service, '/reports/close?month=2025-04&account=acct_testFeeSplit');
    expect(body.totals).toEqual([{ currency: 'usd', revenue: 10_000, tax: 0, refunds: 0, disputes: 0, bad_debt: 0, fees: 320, payouts: 0, topups: 0, application_fees: 0, transfers: 0, platform_fees: 150, balance_adjustments: 0 }]);
  });

  test('when a dispute lists its withdrawal with Stripe\'s dispute fee, then the fee is booked with the withdrawn funds', async () => {
    const disputeId = `dp_test_fee_${Date.now()}`;
    const opened = disputeWithFunds(disputeId, 5_000, 'needs_response', [-5_000]);
    opened.balance_transactions[0] = { ...opened.balance_transactions[0], fee: 1_500, net: -6_500 };

    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.funds_withdrawn', opened));

    expect(await movements(service, disputeId)).toEqual({ dispute_losses: 5_000, stripe_fees: 1_500, stripe_balance: -6_500 });
  });
});

describe('currency conversion', () => {
  test('when a charge presented in EUR settles in USD, then the EUR leaves the balance through the conversion account and the USD net stays', async () => {
    const charge = sale(10_000, 'eur');
    const settled = balanceTransaction({ source: charge.id, amount: 10_850, fee: 345, currency: 'usd', exchangeRate: 1.085 });

    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', { ...charge, balance_transaction: settled }));

    expect(await movements(service, charge.id, 'eur')).toEqual({ revenue: -10_000, fx_conversion: 10_000 });
    expect(await movements(service, charge.id, 'usd')).toEqual({ stripe_balance: 10_505, stripe_fees: 345, fx_conversion: -10_850 });
    const entries = await service.database.db.query("SELECT description FROM ledger_entries WHERE reference = $1 AND kind = 'currency_conversion'", [charge.id]);
    expect(entries.rows).toEqual([{ description: `${charge.id} settled from EUR in USD at 1.085 (${settled.id})` }]);
    await expectBalanced(service);
  });

  test('when a EUR refund of a USD-settled charge carries its balance transaction, then the refund leaves the USD balance at its own rate', async () => {
    const chargeId = `ch_test_fx_refund_${Date.now()}`;
    const charge: Record<string, any> = { ...chargeWithRefunds(chargeId, 10_000, [{ id: `re_${chargeId}`, amount: 2_000 }]), currency: 'eur', captured: false };
    charge.refunds.data[0] = { ...charge.refunds.data[0], currency: 'eur', balance_transaction: balanceTransaction({ source: `re_${chargeId}`, amount: -2_200, fee: 0, type: 'refund' }) };

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', charge));

    expect(await movements(service, chargeId, 'eur')).toEqual({ refunds: 2_000, fx_conversion: -2_000 });
    expect(await movements(service, chargeId, 'usd')).toEqual({ stripe_balance: -2_200, fx_conversion: 2_200 });
  });
});

describe('payouts', () => {
  const payoutId = (name: string) => `po_test_${name}_${Date.now()}`;

  test('when a payout goes in transit and is then paid, then the money is at the bank and left the Stripe balance once', async () => {
    const id = payoutId('paid');
    await deliverTwiceAndWait(service, stripeEvent('payout.created', payout(id, 25_000, 'in_transit')));
    expect(await movements(service, id)).toEqual({ payouts_in_transit: 25_000, stripe_balance: -25_000 });

    await deliverTwiceAndWait(service, stripeEvent('payout.paid', payout(id, 25_000, 'paid')));

    expect(await movements(service, id)).toEqual({ bank: 25_000, stripe_balance: -25_000 });
    await expectBalanced(service);
  });

  test('when a paid payout fails, then the money is back in the Stripe balance, and a late in-transit event moves nothing', async () => {
    const id = payoutId('failed');
    await deliverTwiceAndWait(service, stripeEvent('payout.paid', payout(id, 8_000, 'paid')));
    await deliverTwiceAndWait(service, stripeEvent('payout.failed', payout(id, 8_000, 'failed')));
    await deliverTwiceAndWait(service, stripeEvent('payout.created', payout(id, 8_000, 'in_transit')));

    expect(await movements(service, id)).toEqual({});
    const { rows } = await service.database.db.query("SELECT source_key FROM ledger_entries WHERE reference = $1 ORDER BY id", [id]);
    expect(rows.map((row) => row.source_key)).toEqual([`payout:${id}:paid`, `payout:${id}:failed`]);
  });

  test('when a payout is canceled before any other event arrives, then a late paid event books nothing at the bank', async () => {
    const id = payoutId('canceled');
    await deliverTwiceAndWait(service, stripeEvent('payout.canceled', payout(id, 3_000, 'canceled')));
    await deliverTwiceAndWait(service, stripeEvent('payout.paid', payout(id, 3_000, 'paid')));

    expect(await movements(service, id)).toEqual({});
  });

  test('when a payout event carries a status Stripe does not have, then the event fails naming it and nothing is booked', async () => {
    const id = payoutId('odd');
    const event = stripeEvent('payout.updated', payout(id, 1_000, 'teleported'));

    await deliver(service.url, event);

    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const { body } = await admin(service, `/events/${event.id}`);
    expect(body.last_error).toContain('not a payout with a currency, a whole amount and a known status');
    expect(await movements(service, id)).toEqual({});
  });
});

describe('top-ups', () => {
  const topupId = (name: string) => `tu_test_${name}_${Date.now()}`;
  const sourceKeys = async (id: string) =>
    (await service.database.db.query('SELECT source_key FROM ledger_entries WHERE reference = $1 ORDER BY id', [id])).rows.map((row) => row.source_key);

  test('when a top-up is created and succeeds, with both events delivered at once, then the money moved from the bank into the Stripe balance once', async () => {
    const id = topupId('succeeded');

    await Promise.all([
      deliverTwiceAndWait(service, stripeEvent('topup.created', topup(id, 20_000, 'pending'))),
      deliverTwiceAndWait(service, stripeEvent('topup.succeeded', topup(id, 20_000, 'succeeded'))),
    ]);

    expect(await movements(service, id)).toEqual({ stripe_balance: 20_000, bank: -20_000 });
    expect((await sourceKeys(id)).length).toBe(1);
    await expectBalanced(service);
  });

  test('when a succeeded top-up is reversed, then the money is back at the bank, and a late succeeded event moves nothing', async () => {
    const id = topupId('reversed');
    await deliverTwiceAndWait(service, stripeEvent('topup.succeeded', topup(id, 5_000, 'succeeded')));
    await deliverTwiceAndWait(service, stripeEvent('topup.reversed', topup(id, 5_000, 'reversed')));
    await deliverTwiceAndWait(service, stripeEvent('topup.succeeded', topup(id, 5_000, 'succeeded')));

    expect(await movements(service, id)).toEqual({});
    expect(await sourceKeys(id)).toEqual([`topup:${id}:succeeded`, `topup:${id}:reversed`]);
  });

  test('when a top-up fails before any other event arrives, then nothing is booked, not even by a late created event', async () => {
    const id = topupId('failed');
    await deliverTwiceAndWait(service, stripeEvent('topup.failed', topup(id, 7_000, 'failed')));
    await deliverTwiceAndWait(service, stripeEvent('topup.created', topup(id, 7_000, 'pending')));

    expect(await movements(service, id)).toEqual({});
  });

  test('when a month has a payout and a top-up, then its close shows each on its own line', async () => {
    const created = Date.UTC(2025, 4, 12, 9) / 1000;
    await deliverTwiceAndWait(service, stripeEvent('payout.paid', payout(topupId('po_may'), 9_000, 'paid'), { created }));
    await deliverTwiceAndWait(service, stripeEvent('topup.succeeded', topup(topupId('may'), 4_000, 'succeeded'), { created }));

    const { body } = await admin(service, '/reports/close?month=2025-05');

    expect(body.totals).toEqual([{ currency: 'usd', revenue: 0, tax: 0, refunds: 0, disputes: 0, bad_debt: 0, fees: 0, payouts: 9_000, topups: 4_000, application_fees: 0, transfers: 0, platform_fees: 0, balance_adjustments: 0 }]);
  });

  test('when a top-up event carries a negative amount, then the event fails naming it and nothing is booked', async () => {
    const id = topupId('negative');
    const event = stripeEvent('topup.succeeded', topup(id, -1_000, 'succeeded'));

    await deliver(service.url, event);

    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const { body } = await admin(service, `/events/${event.id}`);
    expect(body.last_error).toContain('not a top-up with a currency, a whole amount and a known status');
    expect(await movements(service, id)).toEqual({});
  });
});

describe('the close without a key', () => {
  test('when the month is closed without a Stripe key, then it says the comparison was not made and lists what waits for its fee', async () => {
    const created = Date.UTC(2025, 2, 14, 9) / 1000;
    const charge: Record<string, any> = { ...sale(2_500), balance_transaction: 'txn_test_march_named', created };
    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge, { created }));

    const { status, body } = await admin(service, '/reports/close?month=2025-03');

    expect(status).toBe(200);
    expect(body.totals).toEqual([{ currency: 'usd', revenue: 2_500, tax: 0, refunds: 0, disputes: 0, bad_debt: 0, fees: 0, payouts: 0, topups: 0, application_fees: 0, transfers: 0, platform_fees: 0, balance_adjustments: 0 }]);
    expect(body.stripe_comparison).toEqual({ checked: false, reason: "STRIPE_SECRET_KEY is not set: Stripe's balance transactions cannot be listed" });
    expect(body.awaiting_fees).toEqual([expect.objectContaining({ source_id: charge.id, balance_transaction_id: 'txn_test_march_named', amount: 2_500 })]);
  });
});
