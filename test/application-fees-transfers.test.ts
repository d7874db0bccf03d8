import { applicationFee, balanceTransaction, capturedCharge, connectTransfer } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { admin, deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';

/**
 * A Connect platform's own money from its connected accounts' sales, without a Stripe key: the
 * application fees it earns on their charges and the transfers it passes on to them, each less
 * what went back, in the platform's books.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

/** The books (connected account, or null for the platform's) of every entry about a reference. */
async function booksOf(reference: string): Promise<(string | null)[]> {
  const { rows } = await service.database.db.query('SELECT DISTINCT account FROM ledger_entries WHERE reference = $1', [reference]);
  return rows.map((row) => row.account);
}

/** A connected account's direct charge of $100.00 whose balance transaction carries the platform's application fee. */
function directChargeWithFee(fee: number): Record<string, any> {
  const charge: Record<string, any> = { ...capturedCharge({ amount: 10_000, invoice: null }) };
  charge.balance_transaction = {
    ...balanceTransaction({ source: charge.id, amount: 10_000, fee: 320 + fee }),
    fee_details: [
      { amount: 320, currency: 'usd', type: 'stripe_fee', description: 'Stripe processing fees' },
      { amount: fee, currency: 'usd', type: 'application_fee', description: 'Platform fee' },
    ],
  };
  return charge;
}

/** A fee refunded in parts, as its event after the first refund carried it. */
function asFirstRefundLeftIt(fee: Record<string, any>): Record<string, any> {
  const [first] = fee.refunds.data;
  return { ...fee, amount_refunded: first.amount, refunds: { ...fee.refunds, data: [first] } };
}

describe('application fees', () => {
  test('when a connected account pays the platform an application fee, then the platform\'s books hold it once as income in its Stripe balance', async () => {
    const fee = applicationFee({ amount: 150, balanceTransaction: 'txn_test_fee_named' });

    await deliverTwiceAndWait(service, stripeEvent('application_fee.created', fee));

    expect(await movements(service, fee.id)).toEqual({ stripe_balance: 150, application_fees: -150 });
    expect(await booksOf(fee.id)).toEqual([null]);
    // Stripe keeps no fee on an application fee: without a key nothing waits for its transaction.
    const waiting = await admin(service, '/ledger/awaiting-fees');
    expect(waiting.body.data.map((wait: { source_id: string }) => wait.source_id)).not.toContain(fee.id);
    await expectBalanced(service);
  });

  test('when a fee is refunded in two parts and the events arrive at once and newest first, then what went back is booked once, up to the latest amount', async () => {
    const refundedTwice = applicationFee({ amount: 300, returned: [100, 50] });
    const refundedOnce = asFirstRefundLeftIt(refundedTwice);
    const created = { ...refundedTwice, amount_refunded: 0, refunded: false, refunds: { ...refundedTwice.refunds, data: [] } };

    await Promise.all([
      deliverTwiceAndWait(service, stripeEvent('application_fee.created', created)),
      deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refundedTwice)),
    ]);
    await deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refundedOnce));

    expect(await movements(service, refundedTwice.id)).toEqual({ stripe_balance: 150, application_fees: -150 });
    await expectBalanced(service);
  });

  test('when the platform refunds part of the fee a connected account paid on its direct charge, then the account\'s books take it off its platform fees once, and a fee its books never took moves nothing there', async () => {
    const charge = directChargeWithFee(150);
    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge, { account: 'acct_testSeller' }));
    const refunded = { ...applicationFee({ amount: 150, returned: [100] }), charge: charge.id };
    const unbooked = applicationFee({ amount: 90, returned: [90] });

    await Promise.all([
      deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refunded)),
      deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', unbooked)),
    ]);

    expect(await movements(service, charge.id)).toEqual({ revenue: -10_000, stripe_balance: 9_630, stripe_fees: 320, platform_fees: 50 });
    expect(await booksOf(charge.id)).toEqual(['acct_testSeller']);
    expect(await movements(service, unbooked.charge)).toEqual({});
    await expectBalanced(service);
  });

  test('when the platform\'s refund of a fee arrives before the connected account\'s charge, then booking the charge gives it back once', async () => {
    const charge = directChargeWithFee(150);
    const refunded = { ...applicationFee({ amount: 150, returned: [100] }), charge: charge.id };

    await deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refunded));
    expect(await movements(service, charge.id)).toEqual({});
    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge, { account: 'acct_testSeller' }));

    expect(await movements(service, charge.id)).toEqual({ revenue: -10_000, stripe_balance: 9_630, stripe_fees: 320, platform_fees: 50 });
    await expectBalanced(service);
  });

  test('when a fee refunded in two parts and its account\'s charge all arrive at once, then the account\'s books give back the whole refund once', async () => {
    const charge = directChargeWithFee(150);
    const refundedTwice: Record<string, any> = { ...applicationFee({ amount: 150, returned: [100, 30] }), charge: charge.id };
    const refundedOnce = asFirstRefundLeftIt(refundedTwice);

    await Promise.all([
      deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refundedOnce)),
      deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refundedTwice)),
      deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge, { account: 'acct_testSeller' })),
    ]);

    expect(await movements(service, charge.id)).toEqual({ revenue: -10_000, stripe_balance: 9_660, stripe_fees: 320, platform_fees: 20 });
    await expectBalanced(service);
  });

  test('when two refunds of a fee share a second and the smaller one\'s event sorts last, then the charge booked after them gives back the larger', async () => {
    const charge = directChargeWithFee(150);
    const refundedTwice: Record<string, any> = { ...applicationFee({ amount: 150, returned: [100, 30] }), charge: charge.id };
    const refundedOnce = asFirstRefundLeftIt(refundedTwice);
    const second = Math.floor(Date.now() / 1000);
    const suffix = Date.now().toString(36);

    await deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refundedTwice, { id: `evt_test_a_${suffix}`, created: second }));
    await deliverTwiceAndWait(service, stripeEvent('application_fee.refunded', refundedOnce, { id: `evt_test_z_${suffix}`, created: second }));
    await deliverTwiceAndWait(service, stripeEvent('charge.succeeded', charge, { account: 'acct_testSeller' }));

    expect(await movements(service, charge.id)).toEqual({ revenue: -10_000, stripe_balance: 9_660, stripe_fees: 320, platform_fees: 20 });
  });

  test('when a fee\'s balance transaction settled it in another currency, then the conversion is booked as for a charge', async () => {
    const fee = applicationFee({ amount: 200, currency: 'eur', balanceTransaction: { object: 'balance_transaction', id: `txn_test_fee_fx_${Date.now()}`, type: 'application_fee', amount: 216, fee: 0, net: 216, currency: 'usd', exchange_rate: 1.08, created: Math.floor(Date.now() / 1000) } });

    await deliverTwiceAndWait(service, stripeEvent('application_fee.created', fee));

    expect(await movements(service, fee.id, 'eur')).toEqual({ application_fees: -200, fx_conversion: 200 });
    expect(await movements(service, fee.id, 'usd')).toEqual({ stripe_balance: 216, fx_conversion: -216 });
  });
});

describe('transfers to connected accounts', () => {
  test('when the platform passes a charge on to a connected account and part of it comes back, then its books show what it passed on net of the reversal', async () => {
    const reversed = connectTransfer({ amount: 8_000, returned: [3_000] });
    const sent: Record<string, any> = { ...reversed, amount_reversed: 0, reversed: false, reversals: { ...reversed.reversals, data: [] } };

    await deliverTwiceAndWait(service, stripeEvent('transfer.created', sent));
    expect(await movements(service, sent.id)).toEqual({ connected_account_transfers: 8_000, stripe_balance: -8_000 });

    await deliverTwiceAndWait(service, stripeEvent('transfer.reversed', reversed));

    expect(await movements(service, sent.id)).toEqual({ connected_account_transfers: 5_000, stripe_balance: -5_000 });
    expect(await booksOf(sent.id)).toEqual([null]);
    await expectBalanced(service);
  });

  test('when a reversal arrives before the transfer\'s creation, then both are booked from it and the late creation and an update book nothing more', async () => {
    const reversed = connectTransfer({ amount: 2_000, returned: [2_000] });
    const sent: Record<string, any> = { ...reversed, amount_reversed: 0, reversed: false, reversals: { ...reversed.reversals, data: [] } };

    await deliverTwiceAndWait(service, stripeEvent('transfer.reversed', reversed));
    await Promise.all([
      deliverTwiceAndWait(service, stripeEvent('transfer.created', sent)),
      deliverTwiceAndWait(service, stripeEvent('transfer.updated', { ...reversed, description: 'renamed' })),
    ]);

    expect(await movements(service, sent.id)).toEqual({});
    const { rows } = await service.database.db.query('SELECT source_key FROM ledger_entries WHERE reference = $1 ORDER BY id', [sent.id]);
    expect(rows.map((row) => row.source_key)).toEqual([`transfer:${sent.id}:sent`, `transfer:${sent.id}:reversed-to:2000`]);
  });

  test('when a transfer\'s amount is not a whole number of minor units, then the event fails saying so and nothing is booked', async () => {
    const transfer: Record<string, any> = { ...connectTransfer({ amount: 1_000 }), amount: '10.00' };
    const event = stripeEvent('transfer.created', transfer);

    await deliver(service.url, event);

    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const { body } = await admin(service, `/events/${event.id}`);
    expect(body.last_error).toContain('not a transfer with a currency and whole amounts');
    expect(await movements(service, transfer.id)).toEqual({});
  });
});
