import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Keyword attributes so operations can find every execution of a customer or an invoice
// in the Temporal Web UI, e.g. `StripeCustomerId = "cus_123"`.
export const StripeEventType = defineSearchAttributeKey('StripeEventType', SearchAttributeType.KEYWORD);
export const StripeCustomerId = defineSearchAttributeKey('StripeCustomerId', SearchAttributeType.KEYWORD);
export const StripeInvoiceId = defineSearchAttributeKey('StripeInvoiceId', SearchAttributeType.KEYWORD);
export const StripeSubscriptionId = defineSearchAttributeKey('StripeSubscriptionId', SearchAttributeType.KEYWORD);
export const DunningStage = defineSearchAttributeKey('DunningStage', SearchAttributeType.KEYWORD);

export const allSearchAttributes = [
  StripeEventType,
  StripeCustomerId,
  StripeInvoiceId,
  StripeSubscriptionId,
  DunningStage,
];
