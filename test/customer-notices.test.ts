import { connectedAccount, paidInvoice } from './support/billing-events';
import { deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent, stripeObject } from './support/stripe-events';
import { until } from './support/until';

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
  await deliverTwiceAndWait(service, stripeEvent('customer.created', stripeObject('customer', { id: 'cus_notice', email: 'notice@example.com' })));
});

afterAll(async () => {
  await service?.stop();
});

/** Subjects of the mails the customer got since `before`, once the outbox had time to send any duplicate. */
async function subjectsSince(before: number): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 200));
  return service.smtp.to('notice@example.com').slice(before).map((mail) => mail.subject ?? '');
}

const received = () => service.smtp.to('notice@example.com').length;

/** An upcoming invoice has no id yet. */
const withoutId = ({ id: _none, ...invoice }: Record<string, any>) => invoice;

describe('customer notices, each sent once', () => {
  test('when a trial will end, then the customer gets a reminder', async () => {
    const before = received();
    const subscription = stripeObject('subscription', { id: 'sub_trial', customer: 'cus_notice', status: 'trialing', trial_end: 1_800_000_000 });

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.trial_will_end', subscription));

    expect(await subjectsSince(before)).toEqual(['Your trial ends soon']);
  });

  test('when a subscription is deleted, then it is canceled and the customer gets a cancellation email', async () => {
    const before = received();
    const subscription = stripeObject('subscription', { id: 'sub_cancel', customer: 'cus_notice', status: 'canceled', ended_at: 1_800_000_000 });

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.deleted', subscription));

    expect(await subjectsSince(before)).toEqual(['Your subscription has been canceled']);
    const { rows } = await service.database.db.query(`SELECT status FROM subscriptions WHERE id = 'sub_cancel'`);
    expect(rows).toEqual([{ status: 'canceled' }]);
  });

  test('when an invoice is upcoming, then the customer gets a renewal notice with the amount', async () => {
    const before = received();
    const { id: _none, ...upcoming } = paidInvoice({ status: 'draft', subtotal: 1_900, customerEmail: 'notice@example.com' });

    await deliverTwiceAndWait(service, stripeEvent('invoice.upcoming', { ...upcoming, next_payment_attempt: 1_800_000_000 }));

    const subjects = await subjectsSince(before);
    expect(subjects).toEqual(['Your subscription renews on 2027-01-15']);
    expect(service.smtp.to('notice@example.com').at(-1)?.text).toContain('$19.00');
  });

  test('when a payment needs authentication, then the customer gets the confirmation link', async () => {
    const before = received();
    const invoice: Record<string, any> = { ...paidInvoice({ status: 'open', subtotal: 2_500, customerEmail: 'notice@example.com' }), amount_due: 2_500 };

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_action_required', invoice));

    expect(await subjectsSince(before)).toEqual(['Please confirm your payment of $25.00']);
    expect(service.smtp.to('notice@example.com').at(-1)?.text).toContain(invoice.hosted_invoice_url);
  });

  test("when a payment's confirmation request arrives after the invoice's payment, delivered twice at once, then the customer is not asked to confirm a paid invoice", async () => {
    const invoice: Record<string, any> = paidInvoice({ subtotal: 2_700, customerEmail: 'notice@example.com' });
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));
    const before = received();

    const late = stripeEvent('invoice.payment_action_required', { ...invoice, status: 'open', amount_paid: 0, amount_remaining: 2_700, amount_due: 2_700 });
    await deliverTwiceAndWait(service, late);

    expect(await subjectsSince(before)).toEqual([]);
    const { rows } = await service.database.db.query('SELECT key FROM email_outbox WHERE event_id = $1', [late.id]);
    expect(rows).toEqual([]);
  });

  test("when the invoice is paid while its confirmation request waits for the mail server, then the request is not sent and no email of it is left waiting", async () => {
    const address = 'confirm-later@example.com';
    const invoice: Record<string, any> = paidInvoice({ subtotal: 2_900, customerEmail: address });
    const request = stripeEvent('invoice.payment_action_required', { ...invoice, status: 'open', amount_paid: 0, amount_remaining: 2_900, amount_due: 2_900 });
    service.smtp.defer(address);
    const deferredBefore = service.smtp.deferrals();
    await Promise.all([deliver(service.url, request), deliver(service.url, request)]);
    await until(async () => service.smtp.deferrals() > deferredBefore, 20_000);

    // The receipt waits for the mail server too; the payment is recorded before it.
    const paid = stripeEvent('invoice.paid', invoice);
    await Promise.all([deliver(service.url, paid), deliver(service.url, paid)]);
    await until(async () => (await service.database.db.query('SELECT 1 FROM payments WHERE invoice_id = $1', [invoice.id])).rowCount === 1, 20_000);
    service.smtp.undefer(address);

    expect([await eventStatusWhenDone(service, request.id), await eventStatusWhenDone(service, paid.id)]).toEqual(['processed', 'processed']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(service.smtp.to(address).map((mail) => mail.subject)).toEqual([expect.stringMatching(/^Your receipt/)]);
    const { rows } = await service.database.db.query('SELECT key FROM email_outbox WHERE event_id = $1', [request.id]);
    expect(rows).toEqual([]);
  });

  test("when a payment's confirmation request arrives after the invoice was voided, delivered twice at once, then the customer is not asked to pay a void invoice", async () => {
    const invoice: Record<string, any> = { ...paidInvoice({ status: 'open', subtotal: 3_100, customerEmail: 'notice@example.com' }), amount_due: 3_100 };
    await deliverTwiceAndWait(service, stripeEvent('invoice.voided', { ...invoice, status: 'void' }));
    const before = received();

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_action_required', invoice));

    expect(await subjectsSince(before)).toEqual([]);
  });

  test("when a payment's confirmation request arrives after the invoice was written off and then voided, delivered twice at once, then the customer is not asked to pay a void invoice", async () => {
    const invoice: Record<string, any> = { ...paidInvoice({ status: 'open', subtotal: 3_300, customerEmail: 'notice@example.com' }), amount_due: 3_300 };
    await deliverTwiceAndWait(service, stripeEvent('invoice.marked_uncollectible', { ...invoice, status: 'uncollectible' }));
    await deliverTwiceAndWait(service, stripeEvent('invoice.voided', { ...invoice, status: 'void' }));
    const before = received();

    await deliverTwiceAndWait(service, stripeEvent('invoice.payment_action_required', invoice));

    expect(await subjectsSince(before)).toEqual([]);
  });

  test.each([
    ['a renewal notice', (subscription: string) => stripeEvent('invoice.upcoming', { ...withoutId(paidInvoice({ status: 'draft', subtotal: 1_900, customerEmail: 'notice@example.com', subscriptionId: subscription })), next_payment_attempt: 1_800_000_000 })],
    ['a trial reminder', (subscription: string) => stripeEvent('customer.subscription.trial_will_end', stripeObject('subscription', { id: subscription, customer: 'cus_notice', status: 'trialing', trial_end: 1_800_000_000 }))],
  ])('when %s arrives after the subscription was deleted, delivered twice at once, then the customer is not told of a subscription that ended', async (_, late) => {
    const subscription = `sub_ended_${Date.now()}`;
    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.deleted', stripeObject('subscription', { id: subscription, customer: 'cus_notice', status: 'canceled', ended_at: 1_800_000_000 })));
    const before = received();

    await deliverTwiceAndWait(service, late(subscription));

    expect(await subjectsSince(before)).toEqual([]);
  });

  test('when a card is about to expire, then the customer is asked to update it', async () => {
    const before = received();
    const card = stripeObject('card', { id: 'card_expiring', customer: 'cus_notice', brand: 'Visa', last4: '4242', exp_month: 12, exp_year: 2026 });

    await deliverTwiceAndWait(service, stripeEvent('customer.source.expiring', card));

    expect(await subjectsSince(before)).toEqual(['Your card is about to expire']);
    expect(service.smtp.to('notice@example.com').at(-1)?.text).toContain('Visa ending 4242 expires at the end of 12/2026');
  });

  test('when a connected account\'s customer gets a notice, then it is signed with the account\'s name, not the platform\'s', async () => {
    await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_notices', 'Harbour Books Ltd'), { account: 'acct_notices' }));
    const before = received();
    const subscription = stripeObject('subscription', { id: 'sub_connected_trial', customer: 'cus_notice', status: 'trialing', trial_end: 1_800_000_000 });

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.trial_will_end', subscription, { account: 'acct_notices' }));

    expect(await subjectsSince(before)).toEqual(['Your trial ends soon']);
    const text = service.smtp.to('notice@example.com').at(-1)?.text ?? '';
    expect(text).toContain('Harbour Books Ltd');
    expect(text).not.toContain('Example Inc.');
  });

  test.each([
    ['on_behalf_of', { on_behalf_of: 'acct_noticesPresented' }],
    ['an issuer of type account', { invoice_settings: { issuer: { type: 'account', account: 'acct_noticesPresented' } } }],
  ])('when the platform\'s subscription is presented as a connected account (%s), then its notice is signed with the account\'s name', async (_, presented) => {
    await deliverTwiceAndWait(service, stripeEvent('account.updated', connectedAccount('acct_noticesPresented', 'Quayside Press Ltd'), { account: 'acct_noticesPresented' }));
    const before = received();
    const subscription = stripeObject('subscription', { id: `sub_presented_${Date.now()}`, customer: 'cus_notice', status: 'trialing', trial_end: 1_800_000_000, ...presented });

    await deliverTwiceAndWait(service, stripeEvent('customer.subscription.trial_will_end', subscription));

    expect(await subjectsSince(before)).toEqual(['Your trial ends soon']);
    const text = service.smtp.to('notice@example.com').at(-1)?.text ?? '';
    expect(text).toContain('Quayside Press Ltd');
    expect(text).not.toContain('Example Inc.');
  });

  test('when the customer is updated, then email, name, phone and address follow, and an older update does not undo it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const updated = stripeObject('customer', {
      id: 'cus_update',
      email: 'new@example.org',
      name: 'Newer Name',
      phone: '+15555550123',
      address: { city: 'Berlin', country: 'DE', line1: 'Street 1', line2: null, postal_code: '10115', state: null },
    });
    await deliverTwiceAndWait(service, stripeEvent('customer.updated', updated, { created: now - 10 }));

    await deliverTwiceAndWait(service, stripeEvent('customer.updated', { ...updated, email: 'old@example.org' }, { created: now - 20 }));

    const { rows } = await service.database.db.query(`SELECT email, name, phone, address->>'city' AS city FROM customers WHERE id = 'cus_update'`);
    expect(rows).toEqual([{ email: 'new@example.org', name: 'Newer Name', phone: '+15555550123', city: 'Berlin' }]);
  });

  test('when the customer is deleted, then the row is marked deleted and later notices find no recipient', async () => {
    const later = Math.floor(Date.now() / 1000) + 1;
    await deliverTwiceAndWait(service, 
      stripeEvent('customer.deleted', stripeObject('customer', { id: 'cus_notice', email: 'notice@example.com' }), { created: later }),
    );
    const before = received();

    await deliverTwiceAndWait(service, 
      stripeEvent('customer.source.expiring', stripeObject('card', { id: 'card_after', customer: 'cus_notice', exp_month: 1, exp_year: 2027 })),
    );

    const { rows } = await service.database.db.query(`SELECT deleted FROM customers WHERE id = 'cus_notice'`);
    expect(rows).toEqual([{ deleted: true }]);
    expect(await subjectsSince(before)).toEqual([]);
  });
});
