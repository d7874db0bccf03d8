import { loadEventPayload } from '../src/store/events';
import type { ActivityDependencies } from './dependencies';
import { settleDunning } from './dunning-cases';
import { postPartPaymentToLedger, postPaymentToLedger } from './ledger';
import { createPaymentDocuments, recordInvoicePayment, recordSubscriptionPeriod } from './payments';

export function invoicePaidActivities(deps: ActivityDependencies) {
  const { db, config, stripe } = deps;
  return {
    /**
     * Everything a paid invoice changes in PostgreSQL, as one local activity: the payment, its
     * dunning ended, its two documents, the ledger entries and the paid period. Each step has its
     * own unique key, so running it again (a retry, a worker that died) changes nothing. The
     * payment id, or null when the invoice carries no settled payment (then a part paid of an
     * invoice that still owes money is booked, and its dunning goes on).
     */
    async recordInvoicePaid(eventId: string): Promise<number | null> {
      const event = await loadEventPayload(db, eventId);
      // The payment first: from then on it keeps a late failure from opening a dunning case.
      const payment = await recordInvoicePayment(db, stripe, event);
      await settleDunning(deps, event, 'recovered');
      if (!payment) {
        await postPartPaymentToLedger(db, stripe, event);
        return null;
      }
      await createPaymentDocuments({ db, stripe }, config, payment);
      await postPaymentToLedger(db, payment);
      await recordSubscriptionPeriod(db, config, payment);
      return payment.id;
    },
  };
}
