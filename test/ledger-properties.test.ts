import fc from 'fast-check';
import { capturedCharge, chargeWithRefunds, creditNote, disputeWithFunds, invoicePayment, paidInvoice, refund } from './support/billing-events';
import { expectBalanced, movements } from './support/ledger';
import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';
import { until } from './support/until';
import type { StripeEvent } from '../src/platform/stripe-event';

/**
 * Random billing histories for several invoices, their events delivered in a random order (one
 * after another, or all at once), end in the books a model computes from the histories alone.
 */

let service: TestService;

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

const scenarios = [
  'open',
  'paid',
  'uncollectible',
  'paid after uncollectible',
  'voided',
  'voided after uncollectible',
  'credited before payment',
  'credited to balance after payment',
  'partly refunded',
  'dispute lost',
  'dispute won',
  'paid after a failed attempt',
  'written off after a failed attempt',
  'voided after a failed attempt',
  'overpaid',
  'overpaid after uncollectible',
  'paid partly outside Stripe',
  'paid in parts',
  'written off after a part was paid',
  'paid after a part was paid and written off',
  'a part paid, the rest credited',
  'refunded in two parts',
  'credited by a refund after payment',
  'partly refunded, the rest disputed and lost',
  'refunded in two parts, the first refund failed',
  'credited to balance, the credit note voided',
  'credited out of band after payment',
  'credited before payment, the credit note voided',
  'partly refunded, the rest disputed and won',
  'a part paid, a credit note for more than the rest',
  'paid in parts after a failed attempt',
  'a part paid after a failed attempt, the rest written off',
  'an untaxed line refunded by a credit note, then the rest refunded',
  'a negative total credited to the balance',
  'an untaxed line credited to the balance, then partly refunded',
  'an untaxed line credited to the balance, partly refunded, the credit note voided',
  'partly refunded, its charge named only by the invoice payment',
  'paid by a charge first booked as a sale, partly refunded',
] as const;
type Scenario = (typeof scenarios)[number];

interface InvoiceSpec {
  scenario: Scenario;
  subtotal: number;
  taxPercent: number;
  /** Credit in the customer's balance before the invoice. */
  credit: number;
  /** Per mille of what is due that a credit note or refund takes (or that was overpaid, or paid outside Stripe). */
  part: number;
}

const invoiceSpec = fc.record({
  scenario: fc.constantFrom(...scenarios),
  subtotal: fc.integer({ min: 100, max: 50_000 }),
  taxPercent: fc.constantFrom(0, 7, 20),
  credit: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 60_000 })),
  part: fc.integer({ min: 1, max: 1_000 }),
});

/** The figures of an invoice, as Stripe computes them. */
function figures(spec: InvoiceSpec) {
  const tax = Math.round((spec.subtotal * spec.taxPercent) / 100);
  const total = spec.subtotal + tax;
  // Only a paid invoice can be settled by credit alone: the others need something still due.
  const applied = Math.min(spec.credit, spec.scenario === 'paid' ? total : total - 1);
  const due = total - applied;
  const part = Math.max(1, Math.floor((due * spec.part) / 1_000));
  // A part paid leaves something still due (none when only 1 is due).
  const partPaid = Math.min(part, due - 1);
  // A refund in two, the second none when the whole refund is 1.
  const firstRefund = Math.ceil(part / 2);
  // A credit note credits after payment no more than was paid.
  const beyondRest = Math.min(part, partPaid);
  const mixedTax = Math.round((tax * (due - partPaid + beyondRest)) / total);
  // An invoice of a taxed line and an untaxed one (the lines' tax rates differ), both in `subtotal`.
  const untaxedLine = Math.min(partPaid, spec.subtotal - 1);
  return { tax, total, applied, due, part, partTax: Math.round((tax * part) / total), partPaid, restTax: Math.round((tax * (due - partPaid)) / total), firstRefund, beyondRest, mixedTax, untaxedLine };
}

/** Stripe's events for one invoice's history, in Stripe's order. */
function historyOf(spec: InvoiceSpec, n: number): { invoiceId: string; chargeId: string; disputeId: string; events: StripeEvent[] } {
  const { tax, applied, due, part, partTax, partPaid, firstRefund, beyondRest, mixedTax, restTax, untaxedLine } = figures(spec);
  const run = `${Date.now().toString(36)}_${n}`;
  const chargeId = `ch_prop_${run}`;
  const disputeId = `dp_prop_${run}`;
  const base = paidInvoice({ id: `in_prop_${run}`, subtotal: spec.subtotal, tax, chargeId });
  const balances = { starting_balance: -spec.credit, ending_balance: -(spec.credit - applied), amount_due: due };
  const open = { ...base, ...balances, status: 'open', amount_paid: 0, amount_remaining: due };
  const paid = (amount: number, parts: { amount_overpaid?: number; amount_paid_off_stripe?: number } = {}) =>
    stripeEvent('invoice.paid', { ...base, ...balances, amount_paid: amount, amount_remaining: 0, ...parts });
  const finalized = stripeEvent('invoice.finalized', open);
  const uncollectible = stripeEvent('invoice.marked_uncollectible', { ...open, status: 'uncollectible' });
  // A payment of part of it: the invoice stays open, owing the rest.
  const partlyPaid = { ...open, amount_paid: partPaid, amount_remaining: due - partPaid };
  const partSucceeded = stripeEvent('invoice.payment_succeeded', partlyPaid);
  const uncollectibleAfterPart = stripeEvent('invoice.marked_uncollectible', { ...partlyPaid, status: 'uncollectible' });
  const voided = stripeEvent('invoice.voided', { ...open, status: 'void', amount_remaining: 0 });
  // A failed attempt books nothing, and starts dunning (unless the invoice is settled already).
  const failed = stripeEvent('invoice.payment_failed', { ...open, attempted: true, attempt_count: 1 });
  const dispute = (status: string, funds: number[]) => disputeWithFunds(disputeId, due, status, funds);
  const refunded = (...amounts: number[]) =>
    stripeEvent('charge.refunded', chargeWithRefunds(chargeId, due, amounts.filter((amount) => amount > 0).map((amount, n) => ({ id: `re_prop_${run}_${n}`, amount }))));
  // What a refund left of the charge is disputed, on that charge (the refund none when only 1 was paid).
  const rest = due - partPaid;
  const disputeOfRest = (status: string, funds: number[]) => disputeWithFunds(disputeId, rest, status, funds, chargeId);
  const restDisputed = [
    finalized,
    paid(due),
    ...(partPaid > 0 ? [refunded(partPaid)] : []),
    stripeEvent('charge.dispute.created', disputeOfRest('needs_response', [])),
    stripeEvent('charge.dispute.funds_withdrawn', disputeOfRest('needs_response', [-rest])),
  ];
  const refundingNote = creditNote({ invoiceId: base.id, amount: part, tax: partTax, to: 'refund' });
  const balanceNote = creditNote({ invoiceId: base.id, amount: part, tax: partTax, to: 'balance' });
  const invoiceNote = creditNote({ invoiceId: base.id, amount: part, tax: partTax, to: 'invoice' });
  const mixed = due - partPaid + beyondRest;
  const mixedNote = {
    ...creditNote({ invoiceId: base.id, amount: mixed, tax: mixedTax, to: 'balance' }),
    type: 'mixed',
    pre_payment_amount: due - partPaid,
    post_payment_amount: beyondRest,
  };
  const untaxedLineNote = { ...creditNote({ invoiceId: base.id, amount: untaxedLine, to: 'refund' }), refunds: [{ refund: `re_prop_${run}_0`, amount_refunded: untaxedLine, type: 'refund' }] };
  // A downgrade's proration: the invoice credits the customer, and Stripe puts it on the balance.
  const negative = paidInvoice({ id: `in_prop_${run}`, subtotal: -spec.subtotal, tax: -tax, chargeId });
  const credited = { ...negative, starting_balance: -spec.credit, ending_balance: -spec.credit + negative.total, amount_due: 0, amount_paid: 0, amount_remaining: 0 };
  const untaxedLineCredit = creditNote({ invoiceId: base.id, amount: untaxedLine, to: 'balance' });
  const untaxedLineCredited = [finalized, paid(due), stripeEvent('credit_note.created', untaxedLineCredit), refunded(part)];
  // Newer API versions without a key: the invoice lists no payments, the charge no refunds, and
  // only \`invoice_payment.paid\` says which payment intent paid the invoice.
  const { payments: _left_out, ...unlisted } = base;
  const paymentIntentId = `pi_prop_${run}`;
  const { refunds: _not_listed, ...refundedCharge } = chargeWithRefunds(chargeId, due, [{ id: `re_prop_${run}`, amount: part }]);
  const namedByInvoicePayment = [
    stripeEvent('invoice.finalized', { ...unlisted, ...balances, status: 'open', amount_paid: 0, amount_remaining: due }),
    stripeEvent('invoice.paid', { ...unlisted, ...balances, amount_paid: due, amount_remaining: 0 }),
    stripeEvent('charge.refunded', { ...refundedCharge, payment_intent: paymentIntentId }),
    stripeEvent('invoice_payment.paid', invoicePayment({ invoiceId: base.id, paymentIntentId, amount: due })),
  ];
  // Its payment intent attached to the invoice after it succeeded: its payload said it paid none.
  const soldFirst = { ...capturedCharge({ amount: due, invoice: null, paymentIntent: `pi_for_${chargeId}` }), id: chargeId };
  const events: Record<Scenario, StripeEvent[]> = {
    open: [finalized],
    paid: [finalized, paid(due)],
    uncollectible: [finalized, uncollectible],
    'paid after uncollectible': [finalized, uncollectible, paid(due)],
    voided: [finalized, voided],
    'voided after uncollectible': [finalized, uncollectible, voided],
    'credited before payment': [
      finalized,
      stripeEvent('credit_note.created', creditNote({ invoiceId: base.id, amount: part, tax: partTax, to: 'invoice' })),
      paid(due - part),
    ],
    'credited to balance after payment': [
      finalized,
      paid(due),
      stripeEvent('credit_note.created', creditNote({ invoiceId: base.id, amount: part, tax: partTax, to: 'balance' })),
    ],
    'partly refunded': [finalized, paid(due), stripeEvent('charge.refunded', chargeWithRefunds(chargeId, due, [{ id: `re_prop_${run}`, amount: part }]))],
    'dispute lost': [
      finalized,
      paid(due),
      stripeEvent('charge.dispute.created', dispute('needs_response', [])),
      stripeEvent('charge.dispute.funds_withdrawn', dispute('needs_response', [-due])),
      stripeEvent('charge.dispute.closed', dispute('lost', [-due])),
    ],
    'dispute won': [
      finalized,
      paid(due),
      stripeEvent('charge.dispute.created', dispute('needs_response', [])),
      stripeEvent('charge.dispute.funds_reinstated', dispute('won', [-due, due])),
      stripeEvent('charge.dispute.closed', dispute('won', [-due, due])),
    ],
    'paid after a failed attempt': [finalized, failed, paid(due)],
    'written off after a failed attempt': [finalized, failed, uncollectible],
    'voided after a failed attempt': [finalized, failed, voided],
    overpaid: [finalized, paid(due + part, { amount_overpaid: part })],
    'overpaid after uncollectible': [finalized, uncollectible, paid(due + part, { amount_overpaid: part })],
    'paid partly outside Stripe': [finalized, paid(due, { amount_paid_off_stripe: part })],
    'paid in parts': [finalized, partSucceeded, paid(due)],
    'written off after a part was paid': [finalized, partSucceeded, uncollectibleAfterPart],
    'paid after a part was paid and written off': [finalized, partSucceeded, uncollectibleAfterPart, paid(due)],
    // The credit note takes what was still due, which settles the invoice with the part paid.
    'a part paid, the rest credited': [
      finalized,
      partSucceeded,
      stripeEvent('credit_note.created', creditNote({ invoiceId: base.id, amount: due - partPaid, tax: restTax, to: 'invoice' })),
      paid(partPaid),
    ],
    // Stripe lists every refund of the charge so far in each event, which may arrive in any order.
    'refunded in two parts': [finalized, paid(due), refunded(firstRefund), refunded(firstRefund, part - firstRefund)],
    // The credit note's refund is the charge's refund too: booked once, by the refund.
    'credited by a refund after payment': [
      finalized,
      paid(due),
      stripeEvent('credit_note.created', refundingNote),
      stripeEvent('charge.refunded', chargeWithRefunds(chargeId, due, [{ id: refundingNote.refunds[0].refund, amount: part }])),
    ],
    'partly refunded, the rest disputed and lost': [...restDisputed, stripeEvent('charge.dispute.closed', disputeOfRest('lost', [-rest]))],
    'credited to balance, the credit note voided': [
      finalized,
      paid(due),
      stripeEvent('credit_note.created', balanceNote),
      stripeEvent('credit_note.voided', { ...balanceNote, status: 'void' }),
    ],
    'credited out of band after payment': [
      finalized,
      paid(due),
      stripeEvent('credit_note.created', creditNote({ invoiceId: base.id, amount: part, tax: partTax, to: 'out_of_band' })),
    ],
    // Voiding the note puts the amount back on the invoice, which is then paid in full.
    'credited before payment, the credit note voided': [
      finalized,
      stripeEvent('credit_note.created', invoiceNote),
      stripeEvent('credit_note.voided', { ...invoiceNote, status: 'void' }),
      paid(due),
    ],
    'partly refunded, the rest disputed and won': [
      ...restDisputed,
      stripeEvent('charge.dispute.funds_reinstated', disputeOfRest('won', [-rest, rest])),
      stripeEvent('charge.dispute.closed', disputeOfRest('won', [-rest, rest])),
    ],
    // A mixed note: what was still due comes off the invoice, the rest (of what was paid) goes to the balance.
    'a part paid, a credit note for more than the rest': [
      finalized,
      partSucceeded,
      stripeEvent('credit_note.created', mixedNote),
      paid(partPaid),
    ],
    'paid in parts after a failed attempt': [finalized, failed, partSucceeded, paid(due)],
    'a part paid after a failed attempt, the rest written off': [finalized, failed, partSucceeded, uncollectibleAfterPart],
    // A failed refund's money comes back; the tax share is that of what stays refunded, in any order.
    'refunded in two parts, the first refund failed': [
      finalized,
      paid(due),
      refunded(firstRefund, part - firstRefund),
      stripeEvent('charge.refund.updated', refund(`re_prop_${run}_0`, chargeId, firstRefund, 'failed')),
    ],
    'a negative total credited to the balance': [stripeEvent('invoice.finalized', { ...credited, status: 'open' }), stripeEvent('invoice.paid', credited)],
    // The note's refund takes the note's tax (none); the rest of the charge refunded takes the tax of what the note left.
    // A refund outside the note takes the tax of what the note left, while the note stands.
    'an untaxed line credited to the balance, then partly refunded': untaxedLineCredited,
    'an untaxed line credited to the balance, partly refunded, the credit note voided': [
      ...untaxedLineCredited,
      stripeEvent('credit_note.voided', { ...untaxedLineCredit, status: 'void' }),
    ],
    'partly refunded, its charge named only by the invoice payment': namedByInvoicePayment,
    'paid by a charge first booked as a sale, partly refunded': [
      finalized,
      stripeEvent('charge.succeeded', soldFirst),
      paid(due),
      stripeEvent('charge.refunded', chargeWithRefunds(chargeId, due, [{ id: `re_prop_${run}`, amount: part }])),
    ],
    'an untaxed line refunded by a credit note, then the rest refunded': [
      finalized,
      paid(due),
      stripeEvent('credit_note.created', untaxedLineNote),
      refunded(untaxedLine),
      refunded(untaxedLine, due - untaxedLine),
    ],
  };
  return { invoiceId: base.id, chargeId, disputeId, events: events[spec.scenario] };
}

/** The net per account each reference should end with: the model, from the history alone. */
function expectedBooks(spec: InvoiceSpec): { invoice: Record<string, number>; charge: Record<string, number>; dispute: Record<string, number> } {
  const { tax, total, applied, due, part, partTax, partPaid, restTax, firstRefund, beyondRest, mixedTax, untaxedLine } = figures(spec);
  const issued = { revenue: -spec.subtotal, tax_payable: -tax, customer_balance: applied };
  const paid = { ...issued, stripe_balance: due };
  const credited = { revenue: -spec.subtotal + (part - partTax), tax_payable: -tax + partTax };
  const refundTaxOf = (refunded: number) => Math.floor((refunded * tax * 2 + total) / (2 * total));
  const refundTax = refundTaxOf(part);
  const refundedPart = { refunds: partPaid - refundTaxOf(partPaid), tax_payable: refundTaxOf(partPaid), stripe_balance: -partPaid };
  const none = {};
  switch (spec.scenario) {
    case 'open':
      return { invoice: { ...issued, accounts_receivable: due }, charge: none, dispute: none };
    case 'paid':
    case 'paid after uncollectible':
    case 'paid after a failed attempt':
      return { invoice: paid, charge: none, dispute: none };
    case 'uncollectible':
    case 'written off after a failed attempt':
      return { invoice: { ...issued, bad_debt: due }, charge: none, dispute: none };
    case 'voided':
    case 'voided after uncollectible':
    case 'voided after a failed attempt':
      return { invoice: none, charge: none, dispute: none };
    case 'credited before payment':
      return { invoice: { ...paid, ...credited, stripe_balance: due - part }, charge: none, dispute: none };
    case 'credited to balance after payment':
      return { invoice: { ...paid, ...credited, customer_balance: applied - part }, charge: none, dispute: none };
    case 'partly refunded':
    case 'refunded in two parts':
    case 'credited by a refund after payment':
    case 'partly refunded, its charge named only by the invoice payment':
    case 'paid by a charge first booked as a sale, partly refunded':
      return { invoice: paid, charge: { refunds: part - refundTax, tax_payable: refundTax, stripe_balance: -part }, dispute: none };
    case 'dispute lost':
      return { invoice: paid, charge: none, dispute: { dispute_losses: due, stripe_balance: -due } };
    case 'an untaxed line credited to the balance, then partly refunded': {
      const leftTax = Math.min(tax, Math.floor((part * tax * 2 + (total - untaxedLine)) / (2 * (total - untaxedLine))));
      return {
        invoice: { ...paid, revenue: -spec.subtotal + untaxedLine, customer_balance: applied - untaxedLine },
        charge: { refunds: part - leftTax, tax_payable: leftTax, stripe_balance: -part },
        dispute: none,
      };
    }
    case 'an untaxed line credited to the balance, partly refunded, the credit note voided':
      return { invoice: paid, charge: { refunds: part - refundTax, tax_payable: refundTax, stripe_balance: -part }, dispute: none };
    case 'a negative total credited to the balance':
      return { invoice: { revenue: spec.subtotal, tax_payable: tax, customer_balance: -spec.subtotal - tax }, charge: none, dispute: none };
    case 'an untaxed line refunded by a credit note, then the rest refunded': {
      const taxed = total - untaxedLine;
      const restRefundTax = Math.floor(((due - untaxedLine) * tax * 2 + taxed) / (2 * taxed));
      return { invoice: paid, charge: { refunds: due - restRefundTax, tax_payable: restRefundTax, stripe_balance: -due }, dispute: none };
    }
    case 'dispute won':
      return { invoice: paid, charge: none, dispute: none };
    case 'overpaid':
    case 'overpaid after uncollectible':
      return { invoice: { ...paid, stripe_balance: due + part, customer_balance: applied - part }, charge: none, dispute: none };
    case 'paid partly outside Stripe':
      return { invoice: { ...paid, stripe_balance: due - part, out_of_band_payments: part }, charge: none, dispute: none };
    case 'paid in parts':
    case 'paid after a part was paid and written off':
      return { invoice: paid, charge: none, dispute: none };
    case 'paid in parts after a failed attempt':
      return { invoice: paid, charge: none, dispute: none };
    case 'a part paid after a failed attempt, the rest written off':
    case 'written off after a part was paid':
      return { invoice: { ...issued, stripe_balance: partPaid, bad_debt: due - partPaid }, charge: none, dispute: none };
    case 'refunded in two parts, the first refund failed': {
      const stays = part - firstRefund;
      return { invoice: paid, charge: { refunds: stays - refundTaxOf(stays), tax_payable: refundTaxOf(stays), stripe_balance: -stays }, dispute: none };
    }
    case 'a part paid, a credit note for more than the rest': {
      const mixed = due - partPaid + beyondRest;
      return {
        invoice: { ...issued, revenue: -spec.subtotal + (mixed - mixedTax), tax_payable: -tax + mixedTax, stripe_balance: partPaid, customer_balance: applied - beyondRest },
        charge: none,
        dispute: none,
      };
    }
    case 'credited to balance, the credit note voided':
    case 'credited before payment, the credit note voided':
      return { invoice: paid, charge: none, dispute: none };
    case 'credited out of band after payment':
      return { invoice: { ...paid, ...credited, out_of_band_payments: -part }, charge: none, dispute: none };
    case 'partly refunded, the rest disputed and won':
      return { invoice: paid, charge: refundedPart, dispute: none };
    case 'partly refunded, the rest disputed and lost':
      return { invoice: paid, charge: refundedPart, dispute: { dispute_losses: due - partPaid, stripe_balance: -(due - partPaid) } };
    case 'a part paid, the rest credited':
      return {
        invoice: { ...issued, revenue: -spec.subtotal + (due - partPaid - restTax), tax_payable: -tax + restTax, stripe_balance: partPaid },
        charge: none,
        dispute: none,
      };
  }
}

/** Where the dunning case of a history with a failed attempt ends (none when the failure came after the payment). */
const dunningEndsOf: Partial<Record<Scenario, (string | null)[]>> = {
  'paid after a failed attempt': ['recovered', null],
  'written off after a failed attempt': ['uncollectible'],
  'voided after a failed attempt': ['voided'],
  'paid in parts after a failed attempt': ['recovered', null],
  'a part paid after a failed attempt, the rest written off': ['uncollectible'],
};

async function dunningStatus(invoiceId: string): Promise<string | null> {
  const { rows } = await service.database.db.query('SELECT status FROM dunning_cases WHERE invoice_id = $1', [invoiceId]);
  return rows[0]?.status ?? null;
}

const withoutZeros = (books: Record<string, number>) => Object.fromEntries(Object.entries(books).filter(([, net]) => net !== 0));

/** Several invoice histories and an order to deliver all their events in. */
const billingRun = fc
  .array(invoiceSpec, { minLength: 1, maxLength: 6 })
  .chain((specs) => {
    const slots = specs.flatMap((spec, invoice) => historyOf(spec, invoice).events.map((_, step) => ({ invoice, step })));
    return fc.record({
      specs: fc.constant(specs),
      order: fc.shuffledSubarray(slots, { minLength: slots.length, maxLength: slots.length }),
      atOnce: fc.boolean(),
    });
  });

test('when random billing histories are delivered in any order, then every invoice, charge and dispute ends with the books the model computes, and the trial balance is zero', async () => {
  await fc.assert(
    fc.asyncProperty(billingRun, async ({ specs, order, atOnce }) => {
      const histories = specs.map((spec, n) => historyOf(spec, n));
      const events = order.map(({ invoice, step }) => histories[invoice].events[step]);

      if (atOnce) await Promise.all(events.map((event) => deliverTwiceAndWait(service, event)));
      else for (const event of events) await deliverTwiceAndWait(service, event);

      for (const [n, spec] of specs.entries()) {
        const expected = expectedBooks(spec);
        const history = histories[n];
        expect({ scenario: spec.scenario, books: await movements(service, history.invoiceId) }).toEqual({ scenario: spec.scenario, books: withoutZeros(expected.invoice) });
        expect(await movements(service, history.chargeId)).toEqual(withoutZeros(expected.charge));
        expect(await movements(service, history.disputeId)).toEqual(withoutZeros(expected.dispute));
        const ends = dunningEndsOf[spec.scenario];
        if (ends) {
          await until(async () => ends.includes(await dunningStatus(history.invoiceId)));
          expect({ scenario: spec.scenario, dunning: ends }).toEqual({ scenario: spec.scenario, dunning: expect.arrayContaining([await dunningStatus(history.invoiceId)]) });
        }
      }
      await expectBalanced(service);
    }),
    { numRuns: 6, endOnFailure: true },
  );
});
