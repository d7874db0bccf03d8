import { randomBytes } from 'node:crypto';
import { capturedCharge, chargeWithRefunds, paidInvoice } from './support/billing-events';
import { createTestDatabase, type TestDatabase } from './support/database';
import { expectBalanced, movements } from './support/ledger';
import { admin, deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { startStripeRecorder, type StripeRecorder } from './support/stripe-recorder';
import { stripeEvent } from './support/stripe-events';
import { until } from './support/until';

/**
 * Charges received while no key was set, whose payloads do not say whether they pay an invoice,
 * are listed as not booked. Once a key is set, `POST /admin/ledger/charges-not-booked/place` asks
 * Stripe about each: one with no invoice payment is booked as a sale, one with an invoice payment
 * is linked to its invoice (its refunds take the invoice's tax share), one Stripe will not answer
 * for stays listed with the reason.
 */

let database: TestDatabase;
let keyless: TestService;
let stripe: StripeRecorder;

beforeAll(async () => {
  database = await createTestDatabase();
  keyless = await startTestService({ database });
  stripe = await startStripeRecorder(process.env.TEST_STRIPE_API_BASE!);
});

afterAll(async () => {
  await keyless?.stop();
  await stripe?.stop();
  await database?.drop();
});

const run = () => randomBytes(4).toString('hex');
const listed = async (service: TestService) => (await admin(service, '/ledger/charges-not-booked')).body.data.map((row: { charge_id: string }) => row.charge_id);
/** A charge whose payload does not say whether it pays an invoice (no `invoice` field). */
const unplacedCharge = (amount: number): Record<string, any> => ({ ...capturedCharge({ amount }), id: `ch_place_${run()}`, created: Math.floor(Date.now() / 1000) });

/** The service again on the same database, with a key: as after an operator set STRIPE_SECRET_KEY and restarted. */
async function withKey<T>(act: (service: TestService) => Promise<T>, options: { worker?: boolean; overrides?: Record<string, string> } = {}): Promise<T> {
  const keyed = await startTestService({ database, worker: options.worker, overrides: { STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_API_BASE: stripe.url, ...options.overrides } });
  try {
    return await act(keyed);
  } finally {
    await keyed.stop();
  }
}

test('when no key is set, then placing is refused with what to set, and the charges stay listed', async () => {
  const charge = unplacedCharge(1_300);
  await deliverTwiceAndWait(keyless, stripeEvent('charge.succeeded', charge));

  const { status, body } = await admin(keyless, '/ledger/charges-not-booked/place', { method: 'POST' });

  expect(status).toBe(409);
  expect(body.error.code).toBe('not_configured');
  expect(body.error.message).toContain('STRIPE_SECRET_KEY');
  expect(await listed(keyless)).toContain(charge.id);
  expect(await movements(keyless, charge.id)).toEqual({});
});

test('when a key is set and placing is asked twice at once, then a sale is booked once, an invoice\'s charge is linked and its refund takes the tax share, and a refused one stays listed', async () => {
  // Arrange, without a key: a one-off sale; the charge of a $100 + $20 tax invoice, refunded $30;
  // a connected account's charge whose account has since disconnected.
  const sale = unplacedCharge(4_200);
  const { payments: _left_out, ...invoice } = paidInvoice({ subtotal: 10_000, tax: 2_000 });
  const invoiceCharge = unplacedCharge(12_000);
  const { refunds: _not_listed, ...refunded } = chargeWithRefunds(invoiceCharge.id, 12_000, [{ id: `re_place_${run()}`, amount: 3_000 }]);
  const account = `acct_place_${run()}`;
  const refusedCharge = unplacedCharge(800);
  for (const event of [
    stripeEvent('charge.succeeded', sale),
    stripeEvent('invoice.paid', invoice),
    stripeEvent('charge.succeeded', invoiceCharge),
    stripeEvent('charge.refunded', { ...refunded, payment_intent: invoiceCharge.payment_intent }),
    stripeEvent('charge.succeeded', refusedCharge, { account }),
  ]) {
    await deliverTwiceAndWait(keyless, event);
  }
  expect(await listed(keyless)).toEqual(expect.arrayContaining([sale.id, invoiceCharge.id, refusedCharge.id]));
  expect(await movements(keyless, invoiceCharge.id)).toEqual({ refunds: 3_000, stripe_balance: -3_000 });
  stripe.setInvoicePayment(invoice.id, invoiceCharge.payment_intent);
  stripe.disconnect(account);

  const answers = await withKey(async (keyed) => {
    const both = await Promise.all([1, 2].map(() => admin(keyed, '/ledger/charges-not-booked/place', { method: 'POST' })));

    // Assert while the keyed service runs: its admin API reads the books.
    expect(await movements(keyed, sale.id)).toEqual({ revenue: -4_200, stripe_balance: 4_200 });
    expect(await movements(keyed, invoiceCharge.id)).toEqual({ refunds: 2_500, tax_payable: 500, stripe_balance: -3_000 });
    expect((await admin(keyed, `/invoices/${invoice.id}/ledger`)).body.position).toMatchObject({ paid: 12_000, refunded: 3_000 });
    expect(await movements(keyed, refusedCharge.id)).toEqual({});
    expect(await listed(keyed)).toEqual([refusedCharge.id]);
    await expectBalanced(keyed);
    const run = await keyed.temporal.workflow.getHandle(both[0].body.workflow_id, both[0].body.run_id).describe();
    expect(await run.staticSummary()).toMatch(/^place charges not booked · \d+ listed$/);
    return both;
  });

  for (const { status, body } of answers) {
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'done', still_listed: 1 });
    expect(body.workflow_id).toMatch(/^place-charges-not-booked-/);
    const outcomes = Object.fromEntries(body.placements.map((p: { charge: string }) => [p.charge, p]));
    expect(outcomes[refusedCharge.id]).toMatchObject({ outcome: 'left', reason: expect.stringContaining('Stripe refused') });
  }
  // The second request joined the first's run, or started one after it: each charge was placed once, by one run.
  const runs = new Map(answers.map(({ body }) => [body.run_id, body.placements as { charge: string; outcome: string }[]]));
  const placedBy = (chargeId: string) => [...runs.values()].flat().filter((p) => p.charge === chargeId && p.outcome !== 'already_placed');
  expect(placedBy(sale.id)).toEqual([{ charge: sale.id, outcome: 'sale' }]);
  expect(placedBy(invoiceCharge.id)).toEqual([{ charge: invoiceCharge.id, outcome: 'invoice_payment', invoice: invoice.id }]);
});

test('when the placing run takes longer than the answer waits, then 202 names the run, which goes on and places the charges', async () => {
  const charge = unplacedCharge(600);
  await deliverTwiceAndWait(keyless, stripeEvent('charge.succeeded', charge));
  const overrides = { TEMPORAL_TASK_QUEUE: `test-placing-${run()}` };

  // No worker polls the task queue yet: the run cannot end while the answer waits.
  const { status, body } = await withKey((apiOnly) => admin(apiOnly, '/ledger/charges-not-booked/place', { method: 'POST' }), { worker: false, overrides });

  expect(status).toBe(202);
  expect(body).toMatchObject({ status: 'running', workflow_id: `place-charges-not-booked-${overrides.TEMPORAL_TASK_QUEUE}` });
  await withKey(async (keyed) => {
    const result = await keyed.temporal.workflow.getHandle(body.workflow_id, body.run_id).result();
    expect(result.placements).toContainEqual({ charge: charge.id, outcome: 'sale' });
    expect(await movements(keyed, charge.id)).toEqual({ revenue: -600, stripe_balance: 600 });
  }, { overrides });
});

test('when Stripe\'s invoice payment leaves out the payment intent it was asked about, then the charge is still linked by it, and off the list', async () => {
  const charge = unplacedCharge(700);
  await deliverTwiceAndWait(keyless, stripeEvent('charge.succeeded', charge));

  // stripe-mock answers its one fixture, whose payment names no payment intent.
  const { body } = await withKey((keyed) => admin(keyed, '/ledger/charges-not-booked/place', { method: 'POST' }), { overrides: { STRIPE_API_BASE: process.env.TEST_STRIPE_API_BASE! } });

  expect(body.placements).toContainEqual({ charge: charge.id, outcome: 'invoice_payment', invoice: 'invoice' });
  expect(await listed(keyless)).not.toContain(charge.id);
});

test('when the placing run is ended by an operator while the answer waits, then 500 placing_failed says so, and nothing is placed', async () => {
  const charge = unplacedCharge(900);
  await deliverTwiceAndWait(keyless, stripeEvent('charge.succeeded', charge));
  const overrides = { TEMPORAL_TASK_QUEUE: `test-placing-${run()}` };

  const { status, body } = await withKey(async (apiOnly) => {
    const answer = admin(apiOnly, '/ledger/charges-not-booked/place', { method: 'POST' });
    const workflowId = `place-charges-not-booked-${overrides.TEMPORAL_TASK_QUEUE}`;
    await until(async () => (await apiOnly.temporal.workflow.getHandle(workflowId).describe().then(() => true, () => false)));
    await apiOnly.temporal.workflow.getHandle(workflowId).terminate('an operator ended it');
    return answer;
  }, { worker: false, overrides });

  expect(status).toBe(500);
  expect(body.error).toMatchObject({ code: 'placing_failed', message: expect.stringContaining('see it in the Web UI') });
  expect(await listed(keyless)).toContain(charge.id);
});
