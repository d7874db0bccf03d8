import { chargeWithRefunds, dispute, paidInvoice } from './support/billing-events';
import { expectBalanced as expectBalancedOf, movements as movementsOf } from './support/ledger';
import { deliverTwiceAndWait, eventStatusWhenDone, startTestService, type TestService } from './support/service';
import { deliver, stripeEvent } from './support/stripe-events';
import { post, transfer, type LedgerLine, type Posting } from '../src/store/ledger';

let service: TestService;

const movements = (reference: string) => movementsOf(service, reference);
const expectBalanced = () => expectBalancedOf(service);

beforeAll(async () => {
  service = await startTestService();
});

afterAll(async () => {
  await service?.stop();
});

/** A posting of the test's own, about `reference`. */
function testPosting(reference: string, lines: LedgerLine[]): Posting {
  return { sourceKey: `test:${reference}`, kind: 'test', reference, connectedAccount: null, description: reference, occurredAt: new Date(), lines };
}

/**
 * A charge of $100 refunded $1 at a time, `total` times: the charge after `count` of them, its
 * list holding the ten newest refunds, newest first, as Stripe embeds it.
 */
function chargeAfterRefunds(chargeId: string, total: number) {
  const refunds = Array.from({ length: total }, (_, index) => ({ id: `re_${chargeId}_${index + 1}`, amount: 100 }));
  return (count: number) => {
    const charge = chargeWithRefunds(chargeId, 10_000, refunds.slice(0, count));
    return { ...charge, refunds: { ...charge.refunds, data: charge.refunds.data.reverse().slice(0, 10), has_more: count > 10 } };
  };
}

describe('ledger postings', () => {
  test('when a charge is refunded partially and then fully, then each refund id is posted once', async () => {
    const partial = chargeWithRefunds('ch_refund_1', 10_000, [{ id: 're_a', amount: 3_000 }]);
    const full = chargeWithRefunds('ch_refund_1', 10_000, [
      { id: 're_a', amount: 3_000 },
      { id: 're_b', amount: 7_000 },
    ]);

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', partial));
    expect(await movements('ch_refund_1')).toEqual({ refunds: 3_000, stripe_balance: -3_000 });
    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', full));

    expect(await movements('ch_refund_1')).toEqual({ refunds: 10_000, stripe_balance: -10_000 });
    await expectBalanced();
  });

  test('when a charge has more refunds than its event lists (Stripe embeds the ten newest), then each new refund is still posted once', async () => {
    const after = chargeAfterRefunds('ch_refund_many', 12);

    for (let count = 1; count <= 12; count++) await deliverTwiceAndWait(service, stripeEvent('charge.refunded', after(count)));

    expect(await movements('ch_refund_many')).toEqual({ refunds: 1_200, stripe_balance: -1_200 });
    await expectBalanced();
  });

  test('when the newest event of a charge with more refunds than its list arrives first, then the unlisted refunds are booked from its total and their own events add nothing', async () => {
    const after = chargeAfterRefunds('ch_refund_late', 12);

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', after(12)));
    expect(await movements('ch_refund_late')).toEqual({ refunds: 1_200, stripe_balance: -1_200 });
    for (let count = 1; count <= 11; count++) await deliverTwiceAndWait(service, stripeEvent('charge.refunded', after(count)));

    expect(await movements('ch_refund_late')).toEqual({ refunds: 1_200, stripe_balance: -1_200 });
    await expectBalanced();
  });

  test('when a charge event carries no refund list (newer API versions), then the growth of amount_refunded is posted', async () => {
    const charge = (refunded: number) => ({ ...chargeWithRefunds('ch_refund_2', 5_000, []), amount_refunded: refunded, refunds: undefined });

    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', charge(1_000)));
    await deliverTwiceAndWait(service, stripeEvent('charge.refunded', charge(5_000)));

    expect(await movements('ch_refund_2')).toEqual({ refunds: 5_000, stripe_balance: -5_000 });
  });

  test('when two refund events of one charge without refund lists arrive at the same moment, then the refund is posted once in total', async () => {
    const charges = Array.from({ length: 8 }, (_, i) => `ch_refund_race_${i}`);
    const charge = (id: string, refunded: number) => ({ ...chargeWithRefunds(id, 5_000, []), amount_refunded: refunded, refunds: undefined });

    await Promise.all(
      charges.flatMap((id) => [
        deliverTwiceAndWait(service, stripeEvent('charge.refunded', charge(id, 3_000))),
        deliverTwiceAndWait(service, stripeEvent('charge.refunded', charge(id, 5_000))),
      ]),
    );

    for (const id of charges) expect(await movements(id)).toEqual({ refunds: 5_000, stripe_balance: -5_000 });
  });

  test.each(['list first', 'list last'] as const)(
    'when one refund arrives with and without the refund list (%s), then it is posted once',
    async (order) => {
      const id = `ch_refund_shapes_${order.replace(' ', '_')}`;
      const withList = chargeWithRefunds(id, 5_000, [{ id: `re_${order.replace(' ', '_')}`, amount: 5_000 }]);
      const withoutList = { ...withList, refunds: undefined };
      const events = [stripeEvent('charge.refunded', withList), stripeEvent('charge.refunded', withoutList)];

      for (const event of order === 'list first' ? events : events.reverse()) await deliverTwiceAndWait(service, event);

      expect(await movements(id)).toEqual({ refunds: 5_000, stripe_balance: -5_000 });
    },
  );

  test('when a dispute is created and then lost, then the loss stays', async () => {
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', dispute('dp_lost', 2_000, 'needs_response')));
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.closed', dispute('dp_lost', 2_000, 'lost')));

    expect(await movements('dp_lost')).toEqual({ dispute_losses: 2_000, stripe_balance: -2_000 });
    await expectBalanced();
  });

  test('when a dispute is created and then won, then the funds come back', async () => {
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.created', dispute('dp_won', 2_500, 'needs_response')));
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.closed', dispute('dp_won', 2_500, 'won')));

    expect(await movements('dp_won')).toEqual({});
    await expectBalanced();
  });

  test('when only the closing event of a lost dispute arrives, then the withdrawal is still booked', async () => {
    await deliverTwiceAndWait(service, stripeEvent('charge.dispute.closed', dispute('dp_late', 900, 'lost')));

    expect(await movements('dp_late')).toEqual({ dispute_losses: 900, stripe_balance: -900 });
  });

  test('when an open invoice is finalized and then marked uncollectible, then revenue is recognised once and the receivable becomes bad debt', async () => {
    const open = paidInvoice({ status: 'open', subtotal: 8_000, tax: 800 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.finalized', open));
    await deliverTwiceAndWait(service, stripeEvent('invoice.marked_uncollectible', { ...open, status: 'uncollectible' }));

    expect(await movements(open.id)).toEqual({
      revenue: -8_000,
      tax_payable: -800,
      bad_debt: 8_800,
    });
    await expectBalanced();
  });

  test('when an invoice is finalized and then paid, then revenue is recognised once and the receivable is settled', async () => {
    const invoice = paidInvoice({ subtotal: 4_000 });

    await deliverTwiceAndWait(service, stripeEvent('invoice.finalized', { ...invoice, status: 'open', amount_paid: 0, amount_remaining: 4_000 }));
    await deliverTwiceAndWait(service, stripeEvent('invoice.paid', invoice));

    expect(await movements(invoice.id)).toEqual({ revenue: -4_000, stripe_balance: 4_000 });
  });

  test('when an unbalanced entry is written directly, then the database refuses it', async () => {
    const client = await service.database.db.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query(
        `INSERT INTO ledger_entries (source_key, kind, reference, description, occurred_at)
         VALUES ('test:unbalanced', 'test', 'x', 'unbalanced', now()) RETURNING id`,
      );
      await client.query(`INSERT INTO ledger_lines (entry_id, account, currency, debit) VALUES ($1, 'revenue', 'usd', 100)`, [
        rows[0].id,
      ]);

      await expect(client.query('COMMIT')).rejects.toThrow(/does not balance/);
    } finally {
      client.release();
    }
  });

  test('when one entry is posted twice at once, then its entry and lines are stored once and one posting says already posted', async () => {
    const posting = testPosting('ref_posted_once', transfer('stripe_balance', 'revenue', 'usd', 2_500));

    const results = await Promise.all([post(service.database.db, posting), post(service.database.db, posting)]);

    expect(results.sort()).toEqual(['already_posted', 'posted']);
    expect(await movements('ref_posted_once')).toEqual({ revenue: -2_500, stripe_balance: 2_500 });
  });

  test('when an unbalanced entry is posted, then the database refuses it and neither the entry nor a line remains', async () => {
    const unbalanced = testPosting('ref_unbalanced_post', [{ account: 'revenue', currency: 'usd', debit: 100 }]);

    await expect(post(service.database.db, unbalanced)).rejects.toThrow(/does not balance/);

    const { rows } = await service.database.db.query(
      `SELECT (SELECT count(*) FROM ledger_entries WHERE source_key = $1)::int AS entries,
              (SELECT count(*) FROM ledger_lines l JOIN ledger_entries e ON e.id = l.entry_id WHERE e.source_key = $1)::int AS lines`,
      [unbalanced.sourceKey],
    );
    expect(rows[0]).toEqual({ entries: 0, lines: 0 });
  });

  test('when a posting carries a currency that is not a lowercase code or an amount that is not whole minor units, then it is refused as an invalid event and nothing is written', async () => {
    const postings = [
      testPosting('ref_odd_currency', transfer('stripe_balance', 'revenue', 'dollars', 100)),
      testPosting('ref_upper_currency', transfer('stripe_balance', 'revenue', 'USD', 100)),
      testPosting('ref_fractional', transfer('stripe_balance', 'revenue', 'usd', 1.5)),
    ];

    for (const posting of postings) {
      await expect(post(service.database.db, posting)).rejects.toMatchObject({ type: 'InvalidEvent', nonRetryable: true });
    }

    const { rows } = await service.database.db.query('SELECT count(*)::int AS entries FROM ledger_entries WHERE reference = ANY($1)', [postings.map((p) => p.reference)]);
    expect(rows[0].entries).toBe(0);
  });

  test('when a refund event carries a currency that is not a currency code, then the event fails naming it instead of being retried without end', async () => {
    const charge = { ...chargeWithRefunds('ch_odd_currency', 1_000, [{ id: 're_odd_currency', amount: 1_000 }]), currency: 'dollars' };
    const event = stripeEvent('charge.refunded', charge);

    await Promise.all([deliver(service.url, event), deliver(service.url, event)]);

    expect(await eventStatusWhenDone(service, event.id)).toBe('failed');
    const { rows } = await service.database.db.query('SELECT last_error FROM stripe_events WHERE id = $1', [event.id]);
    expect(rows[0].last_error).toContain('"currency":"dollars"');
    expect(await movements('ch_odd_currency')).toEqual({});
  });

  test('when a posted line is changed, then the database refuses it (append-only)', async () => {
    await expect(service.database.db.query('UPDATE ledger_lines SET debit = debit + 1')).rejects.toThrow(/append-only/);
  });
});
