import type { DunningStatus } from '../workflows/contracts';
import { connectedAccount, paidInvoice } from './support/billing-events';
import { movements } from './support/ledger';
import { deliverTwiceAndWait, eventStatusWhenDone, historyOf, startTestService, testAdminKey, workflowExists, type TestService } from './support/service';
import { until } from './support/until';
import { startStripeRecorder, type StripeRecorder } from './support/stripe-recorder';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';

jest.setTimeout(90_000);

let service: TestService;
let stripe: StripeRecorder;

beforeAll(async () => {
  stripe = await startStripeRecorder(process.env.TEST_STRIPE_API_BASE!);
  service = await startTestService({
    overrides: {
      DUNNING_SCHEDULE: '0s,3s,6s',
      DUNNING_FINAL_ACTION: 'mark_uncollectible',
      DUNNING_RETRY_PAYMENTS: 'true',
      DUNNING_FINAL_GRACE: '2s',
      PLAN_PRICES: 'pro=price_pro',
      PLAN_ENTITLEMENTS: 'pro=api|exports',
      FINANCE_EMAIL: 'finance@example.com',
      STRIPE_SECRET_KEY: 'sk_test_123',
      STRIPE_API_BASE: stripe.url,
    },
  });
});

afterAll(async () => {
  await service?.stop();
  await stripe?.stop();
});

function unpaid(customerEmail: string | null = 'grace@example.com') {
  return paidInvoice({ status: 'open', subtotal: 5_000, customerEmail });
}

const untilStage = (invoiceId: string, stage: string) =>
  until(async () => (await service.database.db.query('SELECT stage FROM dunning_cases WHERE invoice_id = $1', [invoiceId])).rows[0]?.stage === stage);

const dunningHandle = (invoiceId: string) => service.temporal.workflow.getHandle(`dunning-${invoiceId}`);

/**
 * The dunning's status. A query the engine gave up on before a worker took it (the cluster on a
 * busy CI machine, while the workflow's task runs) is asked again, as an operator would.
 */
async function dunningStatus(invoiceId: string): Promise<DunningStatus> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await dunningHandle(invoiceId).query<DunningStatus>('status');
    } catch (err) {
      const timedOut = /query timed out/.test(String((err as Error & { cause?: unknown }).cause ?? err));
      if (!timedOut || attempt === 3) throw err;
    }
  }
}
const noticeRows = async (invoiceId: string) =>
  (await service.database.db.query('SELECT key FROM email_outbox WHERE key LIKE $1', [`dunning:${invoiceId}:notice:%`])).rows;

describe('dunning', () => {
  test('when a payment fails and nothing is paid, then every notice goes out once, in order, and the final action is taken', async () => {
    const invoice = unpaid('grace@example.com');

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    const status = await dunningStatus(invoice.id);
    const outcome = await dunningHandle(invoice.id).result();

    expect(status.attempts).toBe(1);
    expect(outcome).toBe('exhausted');
    expect(service.smtp.to('grace@example.com').map((m) => m.subject)).toEqual([
      'Payment failed: $50.00 is due (reminder 1 of 3)',
      'Payment failed: $50.00 is due (reminder 2 of 3)',
      'Payment failed: $50.00 is due (reminder 3 of 3)',
    ]);
    const finance = service.smtp.to('finance@example.com').filter((m) => m.subject?.includes(invoice.id));
    expect(finance).toHaveLength(1);
    expect(finance[0].text).toContain('Final action: invoice marked uncollectible');
    expect(stripe.calls.filter((call) => call.includes(invoice.id))).toEqual([
      `POST /v1/invoices/${invoice.id}/pay`,
      `POST /v1/invoices/${invoice.id}/pay`,
      `POST /v1/invoices/${invoice.id}/pay`,
      `GET /v1/invoices/${invoice.id}`,
      `POST /v1/invoices/${invoice.id}/mark_uncollectible`,
    ]);
    const { rows } = await service.database.db.query('SELECT status FROM dunning_cases WHERE invoice_id = $1', [invoice.id]);
    expect(rows).toEqual([{ status: 'exhausted' }]);
    const subscription = await service.database.db.query(`SELECT status FROM subscriptions WHERE id = 'sub_test_1'`);
    expect(subscription.rows).toEqual([{ status: 'past_due' }]);
  });

  test('when a customer with no email gives one during dunning, delivered twice at once, then the notices after it go to that address once each', async () => {
    const customerId = `cus_no_email_${Date.now()}`;
    const created = Math.floor(Date.now() / 1000) - 60;
    await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: customerId, email: null }), { created }));
    const invoice: Record<string, any> = { ...unpaid(null), customer: customerId };

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await untilStage(invoice.id, 'notice 1/3');
    await deliverTwiceAndWait(service, stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email: 'gave-later@example.com' }), { created: created + 1 }));
    await dunningHandle(invoice.id).result();

    expect(service.smtp.to('gave-later@example.com').map((m) => m.subject)).toEqual([
      'Payment failed: $50.00 is due (reminder 2 of 3)',
      'Payment failed: $50.00 is due (reminder 3 of 3)',
    ]);
  });

  /** A dunning whose customer event, created `secondsAfterFinalization` after the invoice's finalization, gives `email` after the first notice. */
  async function dunningWithCustomerEvent(invoiceEmail: string, email: string, secondsAfterFinalization: number) {
    const customerId = `cus_${Date.now()}_${secondsAfterFinalization}`;
    const invoice: Record<string, any> = { ...unpaid(invoiceEmail), customer: customerId };
    const created = invoice.status_transitions.finalized_at + secondsAfterFinalization;

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await untilStage(invoice.id, 'notice 1/3');
    await deliverTwiceAndWait(service, stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email }), { created }));
    await dunningHandle(invoice.id).result();
  }

  test('when the customer changes their email during dunning, delivered twice at once, then the notices after it go to the new address once each', async () => {
    await dunningWithCustomerEvent('old-address@example.com', 'new-address@example.com', 30);

    expect(service.smtp.to('old-address@example.com').map((m) => m.subject)).toEqual(['Payment failed: $50.00 is due (reminder 1 of 3)']);
    expect(service.smtp.to('new-address@example.com').map((m) => m.subject)).toEqual([
      'Payment failed: $50.00 is due (reminder 2 of 3)',
      'Payment failed: $50.00 is due (reminder 3 of 3)',
    ]);
  });

  test('when a customer event older than the invoice arrives late during dunning, then the notices keep the invoice\'s address', async () => {
    await dunningWithCustomerEvent('current-address@example.com', 'former-address@example.com', -30);

    expect(service.smtp.to('current-address@example.com')).toHaveLength(3);
    expect(service.smtp.to('former-address@example.com')).toEqual([]);
  });

  test('when a payment fails, then the first notice goes out once from the first workflow task of its dunning, with no activity task for it', async () => {
    const invoice = unpaid('first-task@example.com');

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    // The first step is done once the dunning waits on its timer for the second notice.
    let history: Awaited<ReturnType<typeof historyOf>> = [];
    await until(async () => (history = await historyOf(service, `dunning-${invoice.id}`)).some((e) => e.timerStartedEventAttributes));

    const firstCompleted = history.findIndex((e) => e.workflowTaskCompletedEventAttributes);
    const nextScheduled = history.findIndex((e, index) => index > firstCompleted && e.workflowTaskScheduledEventAttributes);
    const firstTask = history.slice(firstCompleted, nextScheduled);
    // The notice is the task's one local activity; with DUNNING_RETRY_PAYMENTS the Stripe call
    // follows as a regular activity, and it is the only one.
    expect(firstTask.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
    expect(history.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? [])).toEqual(['retryInvoicePayment']);
    expect(service.smtp.to('first-task@example.com').map((m) => m.subject)).toEqual(['Payment failed: $50.00 is due (reminder 1 of 3)']);
    await dunningHandle(invoice.id).terminate('test done');
  });

  test('when dunning runs out without payment, then the subscription loses its entitlements', async () => {
    const subscription = stripeObject('subscription', { id: 'sub_test_revoked', customer: 'cus_test_revoked', status: 'active' });
    subscription.items.data[0].price.id = 'price_pro';
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription));
    const base = unpaid('margaret@example.com');
    const invoice: Record<string, any> = {
      ...base,
      customer: 'cus_test_revoked',
      parent: { ...base.parent, subscription_details: { subscription: 'sub_test_revoked' } },
    };
    const entitlements = async () =>
      (await service.database.db.query(`SELECT entitlement, active FROM entitlements WHERE subscription_id = 'sub_test_revoked' ORDER BY 1`)).rows;
    const before = await entitlements();

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    const during = await entitlements();
    await dunningHandle(invoice.id).result();

    expect(before).toEqual([{ entitlement: 'api', active: true }, { entitlement: 'exports', active: true }]);
    expect(during).toEqual(before); // past_due keeps access while dunning runs
    expect(await entitlements()).toEqual([{ entitlement: 'api', active: false }, { entitlement: 'exports', active: false }]);
  });

  test('when the dunning of two invoices of one subscription ran out, then paying one keeps access revoked and paying both restores it', async () => {
    const subscription = stripeObject('subscription', { id: 'sub_test_two_cases', customer: 'cus_test_two_cases', status: 'active' });
    subscription.items.data[0].price.id = 'price_pro';
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.created', subscription));
    const invoiceOf = (): Record<string, any> => {
      const base = unpaid('two.cases@example.com');
      return { ...base, customer: 'cus_test_two_cases', parent: { ...base.parent, subscription_details: { subscription: 'sub_test_two_cases' } } };
    };
    const [first, second] = [invoiceOf(), invoiceOf()];
    const hasAccess = async () =>
      (await service.database.db.query(`SELECT bool_and(active) AS active FROM entitlements WHERE subscription_id = 'sub_test_two_cases'`)).rows[0].active;
    await Promise.all([first, second].map((invoice) => deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice))));
    await Promise.all([first, second].map((invoice) => dunningHandle(invoice.id).result()));
    const revoked = await hasAccess();

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', { ...first, status: 'paid', amount_paid: first.total, amount_remaining: 0 }));
    const afterOne = await hasAccess();
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', { ...second, status: 'paid', amount_paid: second.total, amount_remaining: 0 }));

    expect(revoked).toBe(false);
    expect(afterOne).toBe(false);
    expect(await hasAccess()).toBe(true);
  });

  test('when a payment pays only part of the invoice after the first notice, then the dunning goes on, asking for what is still due, and the part is booked', async () => {
    const invoice = unpaid('part-paid@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await waitFor(() => service.smtp.to('part-paid@example.com').length === 1, 10_000);

    const partlyPaid = { ...invoice, amount_paid: 2_000, amount_remaining: 3_000 };
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_succeeded', partlyPaid));
    const outcome = await dunningHandle(invoice.id).result();

    expect(outcome).toBe('exhausted');
    expect(service.smtp.to('part-paid@example.com').map((m) => m.subject)).toEqual([
      'Payment failed: $50.00 is due (reminder 1 of 3)',
      'Payment failed: $30.00 is due (reminder 2 of 3)',
      'Payment failed: $30.00 is due (reminder 3 of 3)',
    ]);
    expect(await movements(service, invoice.id)).toMatchObject({ stripe_balance: 2_000 });
  });

  test('when the invoice is paid after the second notice, then the rest is cancelled and a recovery email goes out once', async () => {
    const invoice = unpaid('linus@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await waitFor(() => service.smtp.to('linus@example.com').length === 2, 10_000);

    const paid = paidInvoice({ id: invoice.id, subtotal: 5_000, customerEmail: 'linus@example.com' });
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', paid));
    const outcome = await dunningHandle(invoice.id).result();
    await new Promise((resolve) => setTimeout(resolve, 4_000));

    expect(outcome).toBe('recovered');
    const subjects = service.smtp.to('linus@example.com').map((m) => m.subject);
    expect(subjects.filter((s) => s?.startsWith('Payment failed'))).toHaveLength(2);
    expect(subjects.filter((s) => s === 'Payment received, thank you')).toHaveLength(1);
  });

  test('when the invoice is paid while the first notice waits for the mail server, then the notice is not sent and none is left waiting', async () => {
    const address = 'held-notice@example.com';
    const invoice = unpaid(address);
    service.smtp.defer(address);
    const deferredBefore = service.smtp.deferrals();
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await until(async () => service.smtp.deferrals() > deferredBefore, 20_000);

    // The receipt waits for the mail server too; the payment is recorded before it.
    const paid = stripeEvent('invoice.paid', paidInvoice({ id: invoice.id, subtotal: 5_000, customerEmail: address }));
    await Promise.all([deliver(service.url, paid), deliver(service.url, paid)]);
    await until(async () => (await service.database.db.query('SELECT 1 FROM payments WHERE invoice_id = $1', [invoice.id])).rowCount === 1, 20_000);
    // An attempt that found the case open just before the payment may still be talking to the
    // mail server; what it sends was decided before the payment. Let the mail server turn that
    // one away, or the next attempt withdraw the notice, before the server comes back.
    const deferredAtPayment = service.smtp.deferrals();
    await until(async () => service.smtp.deferrals() > deferredAtPayment || (await noticeRows(invoice.id)).length === 0, 20_000);
    service.smtp.undefer(address);
    const outcome = await dunningHandle(invoice.id).result();

    expect(outcome).toBe('recovered');
    expect(await eventStatusWhenDone(service, paid.id)).toBe('processed');
    expect(service.smtp.to(address).filter((mail) => mail.subject?.startsWith('Payment failed'))).toEqual([]);
    expect(await noticeRows(invoice.id)).toEqual([]);
  });

  test('when the payment event arrives during the grace period after the last notice, then no final action is taken', async () => {
    const invoice = unpaid('grace-paid@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await waitFor(() => service.smtp.to('grace-paid@example.com').length === 3, 15_000);

    const paid = paidInvoice({ id: invoice.id, subtotal: 5_000, customerEmail: 'grace-paid@example.com' });
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', paid));
    const outcome = await dunningHandle(invoice.id).result();

    expect(outcome).toBe('recovered');
    // The dunning did not look the invoice up; recording its payment asked what was paid outside Stripe.
    expect(stripe.calls.filter((call) => call.includes(invoice.id) && !call.endsWith('/pay'))).toEqual([`GET /v1/invoices/${invoice.id}?expand[]=amount_paid_off_stripe`]);
    await expectRecoveredWithoutFinalAction(invoice.id);
  });

  test('when Stripe already has the invoice paid but its event has not come by the end of the grace period, then no final action is taken', async () => {
    const invoice = unpaid('stripe-paid@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await waitFor(() => service.smtp.to('stripe-paid@example.com').length === 3, 15_000);

    stripe.markPaid(invoice.id);
    const outcome = await dunningHandle(invoice.id).result();

    expect(outcome).toBe('recovered');
    expect(stripe.calls.filter((call) => call.includes(invoice.id) && !call.endsWith('/pay'))).toEqual([`GET /v1/invoices/${invoice.id}`]);
    await expectRecoveredWithoutFinalAction(invoice.id);
  });

  test('when a connected account\'s invoice runs out of dunning, then its notices are signed with its name and every payment retry, the last look and the final action call Stripe as that account', async () => {
    await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_dunning', 'Lakeside Gym LLC'), { account: 'acct_dunning' }));
    const invoice = unpaid('connected-debtor@example.com');

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice, { account: 'acct_dunning' }));
    const outcome = await dunningHandle(invoice.id).result();

    expect(outcome).toBe('exhausted');
    const notices = service.smtp.to('connected-debtor@example.com');
    expect(notices).toHaveLength(3);
    for (const notice of notices) expect(notice.text).toContain('Lakeside Gym LLC');
    const calls = stripe.calls.map((call, i) => ({ call, account: stripe.accounts[i] })).filter(({ call }) => call.includes(invoice.id));
    expect(calls).toEqual([
      { call: `POST /v1/invoices/${invoice.id}/pay`, account: 'acct_dunning' },
      { call: `POST /v1/invoices/${invoice.id}/pay`, account: 'acct_dunning' },
      { call: `POST /v1/invoices/${invoice.id}/pay`, account: 'acct_dunning' },
      { call: `GET /v1/invoices/${invoice.id}`, account: 'acct_dunning' },
      { call: `POST /v1/invoices/${invoice.id}/mark_uncollectible`, account: 'acct_dunning' },
    ]);
  });

  test('when an invoice the customer pays by themselves goes past its due date, then one dunning chases it with overdue notices, never charges it, and takes the final action', async () => {
    const invoice: Record<string, any> = { ...unpaid('overdue@example.com'), collection_method: 'send_invoice', due_date: Math.floor(Date.now() / 1000) - 86_400 };

    await deliverTwiceAndWait(service, stripeEvent('invoice.overdue', invoice));
    const outcome = await dunningHandle(invoice.id).result();
    const status = await dunningStatus(invoice.id);

    expect(outcome).toBe('exhausted');
    expect(status.attempts).toBe(0);
    const notices = service.smtp.to('overdue@example.com');
    expect(notices.map((m) => m.subject)).toEqual([
      'Invoice overdue: $50.00 is due (reminder 1 of 3)',
      'Invoice overdue: $50.00 is due (reminder 2 of 3)',
      'Invoice overdue: $50.00 is due (reminder 3 of 3)',
    ]);
    expect(notices[0].text).toContain(`Please pay it here: ${invoice.hosted_invoice_url}`);
    expect(stripe.calls.filter((call) => call.includes(invoice.id))).toEqual([`GET /v1/invoices/${invoice.id}`, `POST /v1/invoices/${invoice.id}/mark_uncollectible`]);
    const { rows } = await service.database.db.query('SELECT opened_by, status FROM dunning_cases WHERE invoice_id = $1', [invoice.id]);
    expect(rows).toEqual([{ opened_by: 'overdue', status: 'exhausted' }]);
  });

  test('when an invoice in dunning for a failed payment also goes overdue, then the one dunning goes on as it was, retries included', async () => {
    const invoice = unpaid('failed-then-overdue@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));

    await deliverTwiceAndWait(service, stripeEvent('invoice.overdue', invoice));
    await dunningHandle(invoice.id).result();

    expect(service.smtp.to('failed-then-overdue@example.com').map((m) => m.subject)).toEqual([
      'Payment failed: $50.00 is due (reminder 1 of 3)',
      'Payment failed: $50.00 is due (reminder 2 of 3)',
      'Payment failed: $50.00 is due (reminder 3 of 3)',
    ]);
    expect(stripe.calls.filter((call) => call === `POST /v1/invoices/${invoice.id}/pay`)).toHaveLength(3);
  });

  test('when an overdue event arrives for an invoice already paid, then no dunning starts and nothing is sent', async () => {
    const paid = paidInvoice({ subtotal: 5_000, customerEmail: 'paid-before-overdue@example.com' });
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', paid));

    await deliverTwiceAndWait(service, stripeEvent('invoice.overdue', { ...paid, status: 'open' }));

    expect(await workflowExists(service.temporal, `dunning-${paid.id}`)).toBe(false);
    expect(service.smtp.to('paid-before-overdue@example.com').map((m) => m.subject)).not.toContainEqual(expect.stringContaining('overdue'));
  });

  test('when a connected account disconnects during its invoice\'s dunning, then the dunning still ends and finance is told the final action was refused, instead of it being retried for ever', async () => {
    const invoice = unpaid('gone-debtor@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice, { account: 'acct_gone' }));

    stripe.disconnect('acct_gone');
    const outcome = await dunningHandle(invoice.id).result();

    expect(outcome).toBe('exhausted');
    const finance = service.smtp.to('finance@example.com').filter((m) => m.subject?.includes(invoice.id));
    expect(finance).toHaveLength(1);
    expect(finance[0].text).toContain('mark_uncollectible not taken: Stripe refused it as acct_gone');
    const calls = stripe.calls.filter((call) => call.includes(invoice.id) && !call.endsWith('/pay'));
    expect(calls).toEqual([`GET /v1/invoices/${invoice.id}`, `POST /v1/invoices/${invoice.id}/mark_uncollectible`]);
    const { rows } = await service.database.db.query('SELECT status FROM dunning_cases WHERE invoice_id = $1', [invoice.id]);
    expect(rows).toEqual([{ status: 'exhausted' }]);
  });

  test('when the platform\'s invoice is presented as a connected account (on_behalf_of), then its notices are signed with the account\'s name and Stripe is called as the platform', async () => {
    await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_presented', 'Harbour Yoga Ltd'), { account: 'acct_presented' }));
    const invoice: Record<string, any> = { ...unpaid('presented-debtor@example.com'), on_behalf_of: 'acct_presented' };

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await dunningHandle(invoice.id).result();

    const notices = service.smtp.to('presented-debtor@example.com');
    expect(notices).toHaveLength(3);
    for (const notice of notices) expect(notice.text).toContain('Harbour Yoga Ltd');
    const accounts = stripe.accounts.filter((_, i) => stripe.calls[i].includes(invoice.id));
    expect(accounts.length).toBeGreaterThan(0);
    expect(new Set(accounts)).toEqual(new Set(['']));
  });

  test('when two failure events of one invoice arrive concurrently, then one workflow runs with one notice per step', async () => {
    const invoice = unpaid('ken@example.com');
    const first = stripeEvent('invoice.payment_failed', invoice);
    const second = stripeEvent('invoice.payment_failed', { ...invoice, attempt_count: 2 });

    await Promise.all([deliverTwiceAndWait(service, first), deliverTwiceAndWait(service, second)]);
    const status = await dunningStatus(invoice.id);
    await dunningHandle(invoice.id).result();

    expect(status.attempts).toBe(2);
    expect(service.smtp.to('ken@example.com').map((m) => m.subject)).toEqual([
      'Payment failed: $50.00 is due (reminder 1 of 3)',
      'Payment failed: $50.00 is due (reminder 2 of 3)',
      'Payment failed: $50.00 is due (reminder 3 of 3)',
    ]);
    const { rows } = await service.database.db.query('SELECT count(*)::int AS n FROM payment_failures WHERE invoice_id = $1', [invoice.id]);
    expect(rows).toEqual([{ n: 2 }]);
  });

  test('when a failure event arrives after the invoice was paid (out of order), then no workflow starts and nothing is sent', async () => {
    const paid = paidInvoice({ subtotal: 5_000, customerEmail: 'barbara@example.com' });
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', paid));
    const receipts = service.smtp.to('barbara@example.com').length;

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', { ...paid, status: 'open', amount_paid: 0 }));
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    expect(await workflowExists(service.temporal, `dunning-${paid.id}`)).toBe(false);
    expect(service.smtp.to('barbara@example.com')).toHaveLength(receipts);
  });

  test('when a customer has an open dunning case, then GET /admin/customers/:id shows it', async () => {
    const base = unpaid('hedy@example.com');
    const invoice: Record<string, any> = {
      ...base,
      customer: 'cus_test_dunned',
      parent: { ...base.parent, subscription_details: { subscription: 'sub_test_dunned' } },
    };
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await waitFor(() => service.smtp.to('hedy@example.com').length === 1, 10_000);

    const response = await fetch(`${service.url}/admin/customers/cus_test_dunned`, {
      headers: { authorization: `Bearer ${testAdminKey}` },
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: 'cus_test_dunned',
      subscriptions: [{ id: 'sub_test_dunned', status: 'past_due' }],
      dunning_cases: [
        { invoice_id: invoice.id, status: 'open', stage: 'notice 1/3', next_step_at: expect.any(String), amount: 5_000, currency: 'usd' },
      ],
    });
    await deliverTwiceAndWait(service, stripeEvent('invoice.voided', { ...invoice, status: 'void' }));
  });

  test('when the invoice is voided during dunning, then dunning ends quietly', async () => {
    const invoice = unpaid('edsger@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await waitFor(() => service.smtp.to('edsger@example.com').length === 1, 10_000);

    await deliverTwiceAndWait(service, stripeEvent('invoice.voided', { ...invoice, status: 'void' }));

    expect(await dunningHandle(invoice.id).result()).toBe('voided');
    expect(service.smtp.to('edsger@example.com')).toHaveLength(1);
  });

  test('when an invoice is paid without a failed payment, then it has no dunning case', async () => {
    const paid = paidInvoice({ subtotal: 1_200, customerEmail: 'no.case@example.com' });

    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', paid));

    const { rows } = await service.database.db.query('SELECT status FROM dunning_cases WHERE invoice_id = $1', [paid.id]);
    expect(rows).toEqual([]);
  });

  test('when a void closed the case without reaching the workflow (a void racing the failure), then dunning ends without a thank-you', async () => {
    const invoice = unpaid('ada.void@example.com');
    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice));
    await waitFor(() => service.smtp.to('ada.void@example.com').length === 1, 10_000);

    // What the void does when the failure's workflow has not started yet: it closes the case itself.
    await service.database.db.query(`UPDATE dunning_cases SET status = 'voided', ended_at = now() WHERE invoice_id = $1`, [invoice.id]);
    await dunningHandle(invoice.id).result();

    expect(service.smtp.to('ada.void@example.com').map((m) => m.subject)).not.toContain('Payment received, thank you');
  });

  test('when voids and failures of invoices arrive at the same moment, then nobody is thanked for a payment', async () => {
    const invoices = Array.from({ length: 4 }, (_, i) => unpaid(`race.${i}@example.com`));

    await Promise.all(
      invoices.flatMap((invoice) => [
        deliverTwiceAndWait(service, stripeEvent('invoice.payment_failed', invoice)),
        deliverTwiceAndWait(service, stripeEvent('invoice.voided', { ...invoice, status: 'void' })),
      ]),
    );
    for (const invoice of invoices) {
      if (await workflowExists(service.temporal, `dunning-${invoice.id}`)) await dunningHandle(invoice.id).result();
    }

    const subjects = invoices.flatMap((_, i) => service.smtp.to(`race.${i}@example.com`).map((m) => m.subject));
    expect(subjects).not.toContain('Payment received, thank you');
  });
});

/** Finance was not told dunning ended without payment, and the case says recovered. */
async function expectRecoveredWithoutFinalAction(invoiceId: string) {
  const finance = service.smtp.to('finance@example.com').filter((m) => m.subject?.includes(invoiceId));
  expect(finance.filter((m) => m.text?.includes('Final action'))).toEqual([]);
  const { rows } = await service.database.db.query('SELECT status FROM dunning_cases WHERE invoice_id = $1', [invoiceId]);
  expect(rows).toEqual([{ status: 'recovered' }]);
}

async function waitFor(condition: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
