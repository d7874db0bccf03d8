import type Stripe from 'stripe';
import type { Db } from '../src/platform/db';
import { fromStripeTime as at, idOf, type StripeEvent, type Json } from '../src/platform/stripe-event';
import { objectSource, upsertLatest, type ObjectTable } from '../src/store/objects';
import { invalidEvent, type PlainObjectTable } from '../workflows/contracts';

import type { ConnectedAccount } from '../src/store/connected-accounts';
import { clearDefaultPaymentMethod, setDefaultPaymentMethod } from '../src/store/customers';
import { loadEventPayload } from '../src/store/events';
import type { ActivityDependencies } from './dependencies';
import { storeLatest, type Reread, type Retrieve } from './same-second';

const errorOf = (error: Json | null | undefined): string | null => error?.message ?? error?.code ?? null;
const textOf = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function objectOf(event: StripeEvent, ...kinds: string[]): Json {
  const object = event.data.object as Json;
  if (!kinds.includes(object.object) || typeof object.id !== 'string') {
    throw invalidEvent(event, `data.object is not a ${kinds.join(' or ')}`);
  }
  return object;
}

/** Payment methods and card sources: attached, updated, automatically updated, detached. */
async function syncPaymentMethod(db: Db, event: StripeEvent): Promise<void> {
  const method = objectOf(event, 'payment_method', 'card', 'source');
  const card = method.card ?? method;
  const detached = event.type === 'payment_method.detached';
  await storeObject(db, 'payment_methods', method.id, event, () => ({
    // A detached payment method no longer names its customer; keep the one we knew.
    ...(detached ? {} : { customer_id: idOf(method.customer) }),
    type: method.type ?? method.object,
    brand: card.brand ?? null,
    last4: card.last4 ?? null,
    exp_month: card.exp_month ?? null,
    exp_year: card.exp_year ?? null,
    detached,
  }));
  if (detached) {
    await clearDefaultPaymentMethod(db, method.id);
  }
}

/** Setup intents; a succeeded one makes its payment method the customer's default. */
async function syncSetupIntent(db: Db, event: StripeEvent): Promise<void> {
  const intent = objectOf(event, 'setup_intent');
  const paymentMethod = idOf(intent.payment_method);
  const newer = await storeObject(db, 'setup_intents', intent.id, event, () => ({
    customer_id: idOf(intent.customer),
    payment_method: paymentMethod,
    status: intent.status,
    last_error: errorOf(intent.last_setup_error),
  }));
  if (newer && event.type === 'setup_intent.succeeded' && paymentMethod && intent.customer) {
    await setDefaultPaymentMethod(db, idOf(intent.customer)!, paymentMethod);
  }
}

/** Objects stored as they are, each with the fields worth keeping, and how to read one back from Stripe. */
const plainObjects: Record<PlainObjectTable, { kind: string; fields: (object: Json) => Record<string, unknown>; retrieve: Retrieve }> = {
  payment_intents: {
    kind: 'payment_intent',
    retrieve: (client, id, options) => client.paymentIntents.retrieve(id, {}, options),
    fields: (intent: Json) => ({
      customer_id: idOf(intent.customer),
      amount: intent.amount,
      currency: intent.currency,
      status: intent.status,
      last_error: errorOf(intent.last_payment_error),
    }),
  },
  charges: {
    kind: 'charge',
    retrieve: (client, id, options) => client.charges.retrieve(id, {}, options),
    fields: (charge: Json) => ({
      customer_id: idOf(charge.customer),
      payment_intent_id: idOf(charge.payment_intent),
      amount: charge.amount,
      amount_refunded: charge.amount_refunded ?? 0,
      refunded: charge.refunded === true,
      currency: charge.currency,
      status: charge.status,
      failure_message: charge.failure_message ?? null,
    }),
  },
  invoices: {
    kind: 'invoice',
    retrieve: (client, id, options) => client.invoices.retrieve(id, {}, options),
    fields: (invoice: Json) => ({
      customer_id: idOf(invoice.customer),
      number: invoice.number ?? null,
      status: invoice.status,
      total: invoice.total,
      currency: invoice.currency,
    }),
  },
  connected_accounts: { kind: 'account', fields: (account: Json) => connectedAccountDetails(account), retrieve: (client, id, options) => client.accounts.retrieve(id, {}, options) },
  disputes: {
    kind: 'dispute',
    retrieve: (client, id, options) => client.disputes.retrieve(id, {}, options),
    // Only what has Stripe's shape: a malformed field is left blank rather than fail the write for ever.
    fields: (dispute: Json) => ({
      charge_id: idOf(dispute.charge),
      amount: Number.isSafeInteger(dispute.amount) ? dispute.amount : null,
      currency: textOf(dispute.currency),
      status: textOf(dispute.status),
      reason: textOf(dispute.reason),
      due_by: answerDueBy(dispute),
    }),
  },
};

/** When an unanswered dispute is lost: its `evidence_details.due_by`, when it has one. */
export function answerDueBy(dispute: Json): Date | null {
  return Number.isSafeInteger(dispute.evidence_details?.due_by) ? at(dispute.evidence_details.due_by) : null;
}

/**
 * A connected account's public face, as documents print it: only what has the shape Stripe
 * gives it, so that a malformed field leaves a blank rather than failing the write again and again.
 */
export function connectedAccountDetails(account: Json): Omit<ConnectedAccount, 'id'> {
  return {
    business_name: textOf(account.business_profile?.name),
    display_name: textOf(account.settings?.dashboard?.display_name),
    support_email: textOf(account.business_profile?.support_email),
    support_address: isRecord(account.business_profile?.support_address) ? account.business_profile.support_address : null,
    country: textOf(account.country),
  };
}


/**
 * Payment intents and charges (payments outside invoices), invoices through their lifecycle,
 * connected accounts, and disputes.
 */
async function syncPlainObject(db: Db, stripe: Stripe | undefined, table: PlainObjectTable, event: StripeEvent): Promise<void> {
  const { kind, fields, retrieve } = plainObjects[table];
  const { id } = objectOf(event, kind);
  await storeObject(db, table, id, event, (state) => fields(objectOf(state, kind)), { stripe, retrieve });
}

/**
 * Writes an object's state unless a newer event wrote it: one statement when the event is newer
 * by its time; two events of one second are ordered as `storeLatest` says.
 */
async function storeObject(
  db: Db,
  table: ObjectTable,
  id: string,
  event: StripeEvent,
  fieldsOf: (state: StripeEvent) => Record<string, unknown>,
  reread?: Reread,
): Promise<boolean> {
  return storeLatest(
    db,
    event,
    () => objectSource(db, table, id),
    (state, over) => upsertLatest(db, table, id, fieldsOf(state), state, over),
    reread,
  );
}

export function stripeObjectActivities({ db, stripe }: ActivityDependencies) {
  return {
    async syncPaymentMethod(eventId: string): Promise<void> {
      await syncPaymentMethod(db, await loadEventPayload(db, eventId));
    },

    async syncSetupIntent(eventId: string): Promise<void> {
      await syncSetupIntent(db, await loadEventPayload(db, eventId));
    },

    async syncPlainObject(eventId: string, table: PlainObjectTable): Promise<void> {
      await syncPlainObject(db, stripe, table, await loadEventPayload(db, eventId));
    },
  };
}
