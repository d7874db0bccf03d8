import type Stripe from 'stripe';
import { withTransaction, type Db, type Queryable } from '../src/platform/db';
import { isCurrencyCode } from '../src/platform/money';
import { asAccount } from '../src/platform/stripe-client';
import { fromStripeTime as at, idOf, type Json, type StripeEvent } from '../src/platform/stripe-event';
import { advanceStage, awaitBalanceTransaction, recordBalanceTransaction, type BalanceTransaction } from '../src/store/balance-transactions';
import { loadEventPayload } from '../src/store/events';
import { lockReference, netsOf, post, sourceOf, transfer, type Account } from '../src/store/ledger';
import { invalidEvent } from '../workflows/contracts';
import type { ActivityDependencies } from './dependencies';
import { returnRefundedFeesOf } from './fee-returns';

/**
 * Stripe's side of the money. The sale, refund and dispute entries book amounts as the customer
 * saw them; what reached the Stripe balance is on each one's balance transaction: Stripe's fee,
 * and, for a charge presented in one currency and settled in another, the converted amount.
 * Payouts then move the balance to the bank, and top-ups from the bank into it.
 */

/** Money that entered (positive) or left (negative) the Stripe balance in the currency the customer saw. */
export interface Money {
  /** What the balance transaction is of: a charge, a refund, a refund's failure, a dispute. */
  sourceId: string;
  /** What the ledger entries are about (the charge, for its refunds too). */
  reference: string;
  currency: string;
  amount: number;
  balanceTransaction: unknown;
  /**
   * Stripe may keep a fee on it, so an amount whose balance transaction is not known yet waits
   * for it. Application fees and transfers carry none: without a key, nothing waits for theirs.
   */
  mayCarryFee: boolean;
}

/** A balance transaction as Stripe reported it, with the part of its fee a connected account paid its platform. */
interface ReportedTransaction extends BalanceTransaction {
  /** `fee_details` of type `application_fee`: on a connected account's charge, the platform's cut, not Stripe's. */
  platformFee: number;
}

function readBalanceTransaction(value: Json, sourceId: string, account: string | null): ReportedTransaction {
  const integers = ['amount', 'fee', 'net', 'created'] as const;
  if (value.object !== 'balance_transaction' || typeof value.id !== 'string' || typeof value.currency !== 'string' || integers.some((key) => !Number.isSafeInteger(value[key]))) {
    throw new Error(`balance transaction of ${sourceId} is malformed`);
  }
  return {
    id: value.id,
    sourceId,
    type: String(value.type ?? 'unknown'),
    account,
    currency: value.currency,
    amount: value.amount,
    fee: value.fee,
    net: value.net,
    exchangeRate: typeof value.exchange_rate === 'number' ? value.exchange_rate : null,
    created: at(value.created),
    platformFee: (Array.isArray(value.fee_details) ? value.fee_details : [])
      .filter((detail: Json) => detail?.type === 'application_fee' && Number.isSafeInteger(detail.amount) && detail.currency === value.currency)
      .reduce((total: number, detail: Json) => total + detail.amount, 0),
  };
}

/** The balance transaction as the payload carries it, or as Stripe answers for its id; the id alone without a key. */
async function balanceTransactionOf(stripe: Stripe | undefined, money: Money, account: string | null): Promise<ReportedTransaction | string | null> {
  const ref = money.balanceTransaction;
  if (ref && typeof ref === 'object') return readBalanceTransaction(ref as Json, money.sourceId, account);
  if (typeof ref !== 'string') return null;
  if (!stripe) return ref;
  const fetched = await stripe.balanceTransactions.retrieve(ref, {}, asAccount(account));
  return readBalanceTransaction(fetched as unknown as Json, money.sourceId, account);
}

/**
 * Books Stripe's fee (and, on a connected account's charge, its platform's application fee apart
 * from it) and, when it settled in another currency, the conversion; each once per balance
 * transaction.
 */
async function bookBalanceTransaction(tx: Queryable, event: StripeEvent, money: Money, { platformFee, ...bt }: ReportedTransaction): Promise<void> {
  await lockReference(tx, money.reference);
  await recordBalanceTransaction(tx, bt);
  // A fee detail that does not fit inside the fee is not split off: the whole fee stays Stripe's.
  const paidToPlatform = platformFee > 0 && platformFee <= bt.fee ? platformFee : 0;
  await post(tx, {
    sourceKey: `balance_transaction:${bt.id}:fee`,
    kind: 'stripe_fee',
    reference: money.reference,
    description: `${paidToPlatform > 0 ? 'Stripe fee and application fee' : 'Stripe fee'} on ${money.sourceId} (${bt.id})`,
    occurredAt: bt.created,
    ...sourceOf(event),
    lines: [...transfer('stripe_fees', 'stripe_balance', bt.currency, bt.fee - paidToPlatform), ...transfer('platform_fees', 'stripe_balance', bt.currency, paidToPlatform)],
  });
  if (paidToPlatform > 0) await returnRefundedFeesOf(tx, event, money.reference);
  if (bt.currency === money.currency) return;
  await post(tx, {
    sourceKey: `balance_transaction:${bt.id}:conversion`,
    kind: 'currency_conversion',
    reference: money.reference,
    description: `${money.sourceId} settled from ${money.currency.toUpperCase()} in ${bt.currency.toUpperCase()} at ${bt.exchangeRate ?? 'an unstated rate'} (${bt.id})`,
    occurredAt: bt.created,
    ...sourceOf(event),
    lines: [...transfer('fx_conversion', 'stripe_balance', money.currency, money.amount), ...transfer('stripe_balance', 'fx_conversion', bt.currency, bt.amount)],
  });
}

/** The money an event's object moved through the Stripe balance, each with its balance transaction. */
function moneyOf(event: StripeEvent): Money[] {
  const object = event.data.object as Json;
  if (object.object === 'charge') {
    if (typeof object.id !== 'string' || typeof object.currency !== 'string') throw invalidEvent(event, 'data.object is not a charge');
    const charge: Money[] = object.captured === false ? [] : [{ sourceId: object.id, reference: object.id, currency: object.currency, amount: object.amount_captured ?? object.amount, balanceTransaction: object.balance_transaction, mayCarryFee: true }];
    const refunds: Json[] = Array.isArray(object.refunds?.data) ? object.refunds.data : [];
    return [...charge, ...refunds.flatMap((refund) => refundMoney(refund, object.id))];
  }
  if (object.object === 'refund') {
    const chargeId = idOf(object.charge);
    if (typeof object.id !== 'string' || !chargeId) throw invalidEvent(event, 'data.object is not a refund of a charge');
    return refundMoney(object, chargeId);
  }
  if (object.object === 'dispute') {
    if (typeof object.id !== 'string') throw invalidEvent(event, 'data.object is not a dispute');
    // Dispute entries are booked in the currency of these transactions already: only their fees are new.
    const transactions: Json[] = Array.isArray(object.balance_transactions) ? object.balance_transactions : [];
    return transactions.map((bt) => ({ sourceId: object.id, reference: object.id, currency: String(bt.currency), amount: Number(bt.amount), balanceTransaction: bt, mayCarryFee: true }));
  }
  throw invalidEvent(event, 'data.object is not a charge, refund or dispute');
}

function refundMoney(refund: Json, chargeId: string): Money[] {
  const currency = String(refund.currency);
  const amount = Number(refund.amount) || 0;
  const own: Money = { sourceId: String(refund.id), reference: chargeId, currency, amount: -amount, balanceTransaction: refund.balance_transaction, mayCarryFee: true };
  // A failed refund comes back through a balance transaction of its own.
  const failure: Money = { sourceId: `${refund.id}:failure`, reference: chargeId, currency, amount, balanceTransaction: refund.failure_balance_transaction, mayCarryFee: true };
  return refund.failure_balance_transaction ? [own, failure] : [own];
}

/** Books the balance transaction of each amount an event moved: once known, else (when Stripe may keep a fee on it) its wait. */
export async function postBalanceTransactionsOf({ db, stripe }: Pick<ActivityDependencies, 'db' | 'stripe'>, event: StripeEvent, moneys: Money[]): Promise<void> {
  const account = event.account ?? null;
  for (const money of moneys) {
    const bt = await balanceTransactionOf(stripe, money, account);
    if (bt === null || (typeof bt === 'string' && !money.mayCarryFee)) continue;
    await withTransaction(db, async (tx) => {
      if (typeof bt !== 'string') return bookBalanceTransaction(tx, event, money, bt);
      await awaitBalanceTransaction(tx, { sourceId: money.sourceId, balanceTransactionId: bt, account, currency: money.currency, amount: money.amount, since: at(event.created) });
    });
  }
}

/**
 * Money moved between the Stripe balance and the bank, booked by the furthest status its object
 * reached (a status only moves forward: a paid payout can still fail), so that a late event of an
 * earlier status posts nothing. Each stage says where the money is then; `home` is where it is
 * when the stage names none.
 */
interface StagedMovement {
  object: 'payout' | 'topup';
  /** How entries and errors name it. */
  name: 'Payout' | 'Top-up';
  home: Account;
  places: Account[];
  stages: Record<string, { rank: number; place?: Account }>;
}

/** A payout leaves the Stripe balance at once, is in transit until paid, and comes back if it fails or is canceled. */
const payouts: StagedMovement = {
  object: 'payout',
  name: 'Payout',
  home: 'stripe_balance',
  places: ['payouts_in_transit', 'bank'],
  stages: {
    pending: { rank: 0, place: 'payouts_in_transit' },
    in_transit: { rank: 1, place: 'payouts_in_transit' },
    paid: { rank: 2, place: 'bank' },
    failed: { rank: 3 },
    canceled: { rank: 3 },
  },
};

/**
 * A top-up counts in the Stripe balance from its creation, as Stripe's balance transaction of it
 * does (pending until it succeeds, as a charge's money is); the money is back at the bank when it
 * failed, was canceled, or was reversed after it succeeded.
 */
const topups: StagedMovement = {
  object: 'topup',
  name: 'Top-up',
  home: 'bank',
  places: ['stripe_balance'],
  stages: {
    pending: { rank: 0, place: 'stripe_balance' },
    succeeded: { rank: 1, place: 'stripe_balance' },
    failed: { rank: 2 },
    canceled: { rank: 2 },
    reversed: { rank: 2 },
  },
};

async function postStagedMovement(db: Db, event: StripeEvent, { object, name, home, places, stages }: StagedMovement): Promise<void> {
  const moved = event.data.object as Json;
  const stage = stages[String(moved.status)];
  if (moved.object !== object || typeof moved.id !== 'string' || !isCurrencyCode(moved.currency) || !Number.isSafeInteger(moved.amount) || moved.amount < 0 || !stage) {
    throw invalidEvent(event, `data.object is not a ${name.toLowerCase()} with a currency, a whole amount and a known status`);
  }
  const { id, currency, amount } = moved as { id: string; currency: string; amount: number };
  await withTransaction(db, async (tx) => {
    if (!(await advanceStage(tx, object, id, moved.status, stage.rank))) return;
    const net = await netsOf(tx, id, currency);
    await post(tx, {
      sourceKey: `${object}:${id}:${moved.status}`,
      kind: object,
      reference: id,
      description: `${name} ${id} ${moved.status}`,
      occurredAt: at(event.created),
      ...sourceOf(event),
      lines: places.flatMap((place) => transfer(place, home, currency, (stage.place === place ? amount : 0) - net(place))),
    });
  });
}

export function balanceLedgerActivities({ db, stripe }: ActivityDependencies) {
  return {
    async postBalanceTransactions(eventId: string): Promise<void> {
      const event = await loadEventPayload(db, eventId);
      await postBalanceTransactionsOf({ db, stripe }, event, moneyOf(event));
    },

    async postPayout(eventId: string): Promise<void> {
      await postStagedMovement(db, await loadEventPayload(db, eventId), payouts);
    },

    /** `topup.*`: money from the bank into the Stripe balance, and back when it does not arrive or is reversed. */
    async postTopup(eventId: string): Promise<void> {
      await postStagedMovement(db, await loadEventPayload(db, eventId), topups);
    },
  };
}
