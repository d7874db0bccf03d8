import { balanceLedgerActivities } from './balance-ledger';
import { chargeAlertActivities } from './charge-alerts';
import { chargeLedgerActivities } from './charge-ledger';
import { chargePlacingActivities } from './charge-placing';
import { checkoutActivities } from './checkout';
import { connectLedgerActivities } from './connect-ledger';
import { creditNoteDocumentActivities } from './credit-note-documents';
import { customerBalanceLedgerActivities } from './customer-balance-ledger';
import { customerActivities } from './customers';
import type { ActivityDependencies } from './dependencies';
import { dunningCaseActivities } from './dunning-cases';
import { dunningStepActivities } from './dunning-steps';
import { eventStatusActivities } from './event-status';
import { eventStepActivities } from './event-steps';
import { financeDigestActivities } from './finance-digest';
import { invoicePaidActivities } from './invoice-paid';
import { ledgerActivities } from './ledger';
import { noticeActivities } from './notices';
import { paymentActivities } from './payments';
import { reconcileActivities } from './reconcile';
import { stripeObjectActivities } from './stripe-objects';
import { subscriptionActivities } from './subscriptions';

export type { ActivityDependencies } from './dependencies';

/** Every side effect of the workflows, as plain async functions over their dependencies. */
export function createActivities(deps: ActivityDependencies) {
  const steps = {
    ...eventStatusActivities(deps),
    ...customerActivities(deps),
    ...checkoutActivities(deps),
    ...subscriptionActivities(deps),
    ...paymentActivities(deps),
    ...creditNoteDocumentActivities(deps),
    ...invoicePaidActivities(deps),
    ...ledgerActivities(deps),
    ...chargeLedgerActivities(deps),
    ...chargePlacingActivities(deps),
    ...balanceLedgerActivities(deps),
    ...connectLedgerActivities(deps),
    ...customerBalanceLedgerActivities(deps),
    ...stripeObjectActivities(deps),
    ...noticeActivities(deps),
    ...chargeAlertActivities(deps),
    ...dunningCaseActivities(deps),
    ...dunningStepActivities(deps),
    ...reconcileActivities(deps),
    ...financeDigestActivities(deps),
  };
  return { ...steps, ...eventStepActivities(steps) };
}

export type Activities = ReturnType<typeof createActivities>;
