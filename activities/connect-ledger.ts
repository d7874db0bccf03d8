import { withTransaction } from '../src/platform/db';
import { isCurrencyCode } from '../src/platform/money';
import { fromStripeTime as at, idOf, type Json, type StripeEvent } from '../src/platform/stripe-event';
import { loadEventPayload } from '../src/store/events';
import { lockReference, post, postedUnderKeys, sourceOf, transfer, type Account } from '../src/store/ledger';
import { invalidEvent } from '../workflows/contracts';
import { postBalanceTransactionsOf, type Money } from './balance-ledger';
import type { ActivityDependencies } from './dependencies';
import { recordFeeRefund } from './fee-returns';

/**
 * A Connect platform's own money from its connected accounts' sales: the application fees they
 * pay it on their charges (income), and the transfers it passes on to them from its charges
 * (destination charges, separate transfers), each less what went back since (fee refunds,
 * transfer reversals). Without these the platform's books keep a destination charge's whole
 * amount and miss every fee it earned.
 */

/**
 * How each kind names its entries, and which way its money moves through the Stripe balance: a
 * fee enters it against income (+1), a transfer leaves it against what was passed on (−1); what
 * goes back moves the other way.
 */
const kinds = {
  application_fee: { counterpart: 'application_fees', sign: 1, moved: 'collected', returned: 'refunded' },
  transfer: { counterpart: 'connected_account_transfers', sign: -1, moved: 'sent', returned: 'reversed' },
} as const satisfies Record<string, { counterpart: Account; sign: 1 | -1; moved: string; returned: string }>;

/** An application fee or a transfer as its event carries it; `returned` is what went back so far (it only grows). */
interface Movement {
  kind: keyof typeof kinds;
  id: string;
  currency: string;
  amount: number;
  returned: number;
  description: string;
  /** Each amount with its balance transaction, for the fee and conversion books and the close. */
  moneys: Money[];
  /** An application fee's payer: the connected account and its charge the fee was taken from. */
  payer: { account: string; charge: string } | null;
}

function whole(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** The items of a Stripe list (`refunds`, `reversals`) the payload embeds. */
const itemsOf = (list: Json): Json[] => (Array.isArray(list?.data) ? list.data : []);

function readMovement(event: StripeEvent): Movement {
  const object = event.data.object as Json;
  const fee = object.object === 'application_fee';
  if (!fee && object.object !== 'transfer') throw invalidEvent(event, 'data.object is not an application fee or a transfer');
  const kind = fee ? 'application_fee' : 'transfer';
  const returned = fee ? object.amount_refunded : object.amount_reversed;
  if (typeof object.id !== 'string' || !isCurrencyCode(object.currency) || !whole(object.amount) || !whole(returned ?? 0)) {
    throw invalidEvent(event, `data.object is not ${fee ? 'an application fee' : 'a transfer'} with a currency and whole amounts`);
  }
  const { id, currency, amount } = object as { id: string; currency: string; amount: number };
  const { sign } = kinds[kind];
  const money = (sourceId: string, signed: number, balanceTransaction: unknown): Money => ({ sourceId, reference: id, currency, amount: signed, balanceTransaction, mayCarryFee: false });
  const returns = itemsOf(fee ? object.refunds : object.reversals).filter((item) => typeof item.id === 'string' && whole(item.amount));
  return {
    kind,
    id,
    currency,
    amount,
    returned: returned ?? 0,
    description: fee
      ? `Application fee ${id} from ${idOf(object.account) ?? 'a connected account'}${idOf(object.charge) ? ` on ${idOf(object.charge)}` : ''}`
      : `Transfer ${id} to ${idOf(object.destination) ?? 'a connected account'}${idOf(object.source_transaction) ? ` from ${idOf(object.source_transaction)}` : ''}`,
    moneys: [money(id, sign * amount, object.balance_transaction), ...returns.map((item) => money(item.id, -sign * item.amount, item.balance_transaction))],
    payer: fee && idOf(object.account) && idOf(object.charge) ? { account: idOf(object.account)!, charge: idOf(object.charge)! } : null,
  };
}

/**
 * The fee or transfer once (`application_fee:<id>:collected`, `transfer:<id>:sent`), then what
 * went back up to the payload's cumulative amount (`…:refunded-to:<n>`, `…:reversed-to:<n>`):
 * under a lock on the fee or transfer, so that concurrent or out-of-order events book each cent
 * once and an older payload books nothing.
 */
async function postMovement({ db, stripe }: Pick<ActivityDependencies, 'db' | 'stripe'>, event: StripeEvent): Promise<void> {
  const movement = readMovement(event);
  const { kind, id, currency } = movement;
  const { counterpart, sign, moved, returned } = kinds[kind];
  const lines = (amount: number) => transfer('stripe_balance', counterpart, currency, sign * amount);
  await withTransaction(db, async (tx) => {
    await lockReference(tx, id);
    const entry = { kind, reference: id, occurredAt: at(event.created), ...sourceOf(event) };
    await post(tx, { ...entry, sourceKey: `${kind}:${id}:${moved}`, description: movement.description, lines: lines(movement.amount) });
    // What earlier entries gave back, as a positive amount on the Stripe balance's other side.
    const booked = Math.abs(await postedUnderKeys(tx, id, `${kind}:${id}:${returned}-to:%`, counterpart));
    if (movement.returned <= booked) return;
    await post(tx, {
      ...entry,
      sourceKey: `${kind}:${id}:${returned}-to:${movement.returned}`,
      description: `${movement.description}: ${returned} up to ${movement.returned}`,
      lines: lines(-(movement.returned - booked)),
    });
  });
  const { payer } = movement;
  if (payer) await withTransaction(db, (tx) => recordFeeRefund(tx, event, { feeId: id, payerAccount: payer.account, chargeId: payer.charge, currency, refunded: movement.returned }));
  await postBalanceTransactionsOf({ db, stripe }, event, movement.moneys);
}

export function connectLedgerActivities({ db, stripe }: ActivityDependencies) {
  return {
    /** `application_fee.created` / `refunded` and `transfer.created` / `updated` / `reversed`. */
    async postApplicationFeeOrTransfer(eventId: string): Promise<void> {
      await postMovement({ db, stripe }, await loadEventPayload(db, eventId));
    },
  };
}
