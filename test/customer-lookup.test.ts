import { randomBytes } from 'node:crypto';
import type { ParsedMail } from 'mailparser';
import { creditNote, paidInvoice } from './support/billing-events';
import { deliverTwiceAndWait } from './support/service';
import { useServiceWithRecordedStripe } from './support/stripe-recorder';
import { stripeEvent, stripeObject } from './support/stripe-events';
import { until } from './support/until';

/**
 * With a Stripe key, a customer no event described (one from before the service listened) is
 * looked up from Stripe once when an email is to go to them (a credit note, a notice), so they get
 * it; customer events stay the authority over what was looked up. An invoice finalized without an
 * email (Stripe's copy of the customer's at that time) has its receipt and dunning notices sent
 * to the customer's address the same way.
 */

const environment = useServiceWithRecordedStripe();

const newCustomerId = () => `cus_before_${randomBytes(5).toString('hex')}`;
const unknownInvoiceId = () => `in_before_${randomBytes(5).toString('hex')}`;
const stripeCustomer = (id: string, email: string) => stripeObject('customer', { id, email, name: 'Grace Hopper', created: Math.floor(Date.now() / 1000) - 86_400 * 365 });
const lookups = (customerId: string) => environment.stripe.calls.filter((call) => call === `GET /v1/customers/${customerId}`);

/** The mails to an address, once the outbox had time to send any duplicate. */
async function mailsTo(address: string): Promise<ParsedMail[]> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  return environment.service.smtp.to(address);
}

async function outboxKeys(prefix: string): Promise<string[]> {
  const { rows } = await environment.service.database.db.query('SELECT key FROM email_outbox WHERE key LIKE $1 ORDER BY key', [`${prefix}:%`]);
  return rows.map((row) => row.key);
}

/** An invoice of the customer finalized before they had an email: it carries none. */
const invoiceWithoutEmail = (customerId: string, status = 'paid'): Record<string, any> => ({ ...paidInvoice({ customerEmail: null, status }), customer: customerId });

async function storedCustomer(customerId: string): Promise<{ email: string | null; name: string | null } | undefined> {
  const { rows } = await environment.service.database.db.query('SELECT email, name FROM customers WHERE id = $1', [customerId]);
  return rows[0];
}

test('when no event described the credit note\'s customer and Stripe knows their email, delivered twice at once, then the customer gets the credit note once and Stripe is asked once', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, stripeCustomer(customerId, 'grace@example.com'));
  const notes = [1_000, 2_000].map((amount) => creditNote({ invoiceId: unknownInvoiceId(), customerId, amount, to: 'balance' }));

  for (const note of notes) await deliverTwiceAndWait(environment.service, stripeEvent('credit_note.created', note));

  const mails = (await mailsTo('grace@example.com')).map((mail) => mail.subject);
  expect(mails).toEqual([`Your credit note from ${environment.service.config.SELLER_NAME}: $10.00`, `Your credit note from ${environment.service.config.SELLER_NAME}: $20.00`]);
  expect(await storedCustomer(customerId)).toEqual({ email: 'grace@example.com', name: 'Grace Hopper' });
  expect(lookups(customerId)).toHaveLength(1);
});

test('when Stripe does not know the customer, then only finance gets the credit note and nothing is remembered of the customer', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, null);
  const note = creditNote({ invoiceId: unknownInvoiceId(), customerId, amount: 500, to: 'balance' });

  await deliverTwiceAndWait(environment.service, stripeEvent('credit_note.created', note));

  expect(await outboxKeys(`credit_note:${note.id}`)).toEqual([`credit_note:${note.id}:document:finance`]);
  expect(lookups(customerId).length).toBeGreaterThan(0);
  expect(await storedCustomer(customerId)).toBeUndefined();
});

test('when Stripe answers that the customer was deleted, then only finance gets the credit note', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, { id: customerId, object: 'customer', deleted: true });
  const note = creditNote({ invoiceId: unknownInvoiceId(), customerId, amount: 600, to: 'balance' });

  await deliverTwiceAndWait(environment.service, stripeEvent('credit_note.created', note));

  expect(await outboxKeys(`credit_note:${note.id}`)).toEqual([`credit_note:${note.id}:document:finance`]);
  expect(await storedCustomer(customerId)).toBeUndefined();
});

test('when a customer event described the customer without an email, then Stripe is not asked and only finance gets the credit note', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, stripeCustomer(customerId, 'not-asked@example.com'));
  await deliverTwiceAndWait(environment.service, stripeEvent('customer.created', stripeObject('customer', { id: customerId, email: null })));
  const note = creditNote({ invoiceId: unknownInvoiceId(), customerId, amount: 700, to: 'balance' });

  await deliverTwiceAndWait(environment.service, stripeEvent('credit_note.created', note));

  expect(await outboxKeys(`credit_note:${note.id}`)).toEqual([`credit_note:${note.id}:document:finance`]);
  expect(lookups(customerId)).toEqual([]);
});

test('when a customer event arrives after the lookup, then its email replaces the looked-up one', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, stripeCustomer(customerId, 'old-address@example.com'));
  await deliverTwiceAndWait(environment.service, stripeEvent('credit_note.created', creditNote({ invoiceId: unknownInvoiceId(), customerId, amount: 800, to: 'balance' })));

  await deliverTwiceAndWait(environment.service, stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email: 'new-address@example.com', name: 'Grace Hopper' })));
  await deliverTwiceAndWait(environment.service, stripeEvent('credit_note.created', creditNote({ invoiceId: unknownInvoiceId(), customerId, amount: 900, to: 'balance' })));

  expect(await storedCustomer(customerId)).toEqual({ email: 'new-address@example.com', name: 'Grace Hopper' });
  expect((await mailsTo('new-address@example.com')).map((mail) => mail.subject)).toEqual([`Your credit note from ${environment.service.config.SELLER_NAME}: $9.00`]);
  expect(lookups(customerId)).toHaveLength(1);
});

test('when a trial ends soon for a customer no event described, delivered twice at once, then Stripe is asked once and the customer gets one reminder', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, stripeCustomer(customerId, 'trialing-before@example.com'));
  const subscription = stripeObject('subscription', { id: `sub_${customerId}`, customer: customerId, status: 'trialing', trial_end: 1_800_000_000 });

  await deliverTwiceAndWait(environment.service, stripeEvent('customer.subscription.trial_will_end', subscription));

  expect((await mailsTo('trialing-before@example.com')).map((mail) => mail.subject)).toEqual(['Your trial ends soon']);
  expect(lookups(customerId)).toHaveLength(1);
});

test('when an invoice without an email is paid by a customer an event described with one, delivered twice at once, then the customer gets the receipt once and Stripe is not asked', async () => {
  const customerId = newCustomerId();
  await deliverTwiceAndWait(environment.service, stripeEvent('customer.updated', stripeObject('customer', { id: customerId, email: 'added-later@example.com' })));
  const invoice = invoiceWithoutEmail(customerId);

  await Promise.all([stripeEvent('invoice.paid', invoice), stripeEvent('invoice.payment_succeeded', invoice)].map((event) => deliverTwiceAndWait(environment.service, event)));

  expect((await mailsTo('added-later@example.com')).map((mail) => mail.subject)).toEqual([`Your receipt from ${environment.service.config.SELLER_NAME}: $100.00`]);
  expect(lookups(customerId)).toEqual([]);
});

test('when an invoice without an email is paid by a customer no event described, then Stripe is asked and the customer gets the receipt', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, stripeCustomer(customerId, 'paid-before@example.com'));

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoiceWithoutEmail(customerId)));

  expect((await mailsTo('paid-before@example.com')).map((mail) => mail.subject)).toEqual([`Your receipt from ${environment.service.config.SELLER_NAME}: $100.00`]);
  expect(lookups(customerId)).toHaveLength(1);
});

test('when no email of the paying customer is known, then only finance gets the documents, told that the customer was not sent them', async () => {
  const customerId = newCustomerId();
  environment.stripe.setCustomer(customerId, null);
  const invoice = invoiceWithoutEmail(customerId);

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.paid', invoice));

  const [payment] = (await environment.service.database.db.query('SELECT id FROM payments WHERE invoice_id = $1', [invoice.id])).rows;
  expect(await outboxKeys(`payment:${payment.id}`)).toEqual([`payment:${payment.id}:documents:finance`]);
  const finance = (await mailsTo(environment.service.config.FINANCE_EMAIL)).filter((mail) => mail.text?.includes(invoice.id));
  expect(finance.map((mail) => mail.text?.match(/^Customer: .*$/m)?.[0])).toEqual([`Customer: ${customerId} (no email address known: the customer was not sent the documents)`]);
});

test('when a payment fails on an invoice without an email, delivered twice at once, then the first dunning notice goes to the customer\'s address once', async () => {
  const customerId = newCustomerId();
  await deliverTwiceAndWait(environment.service, stripeEvent('customer.created', stripeObject('customer', { id: customerId, email: 'dunned@example.com' })));
  const invoice = invoiceWithoutEmail(customerId, 'open');

  await deliverTwiceAndWait(environment.service, stripeEvent('invoice.payment_failed', invoice));
  await until(async () => environment.service.smtp.to('dunned@example.com').length > 0, 10_000);

  expect((await mailsTo('dunned@example.com')).map((mail) => mail.subject)).toEqual(['Payment failed: $100.00 is due (reminder 1 of 4)']);
});
