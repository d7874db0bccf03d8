/** A Stripe object as JSON: read by the shape it carries, since API versions differ. */
export type Json = Record<string, any>;

/** A verified Stripe event as the webhook stores it. */
export interface StripeEvent {
  id: string;
  type: string;
  api_version?: string | null;
  created: number;
  livemode: boolean;
  account?: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
}

/** The Stripe objects an event is about, used to find its executions and rows. */
export interface EventRefs {
  customerId: string | null;
  invoiceId: string | null;
  subscriptionId: string | null;
}

/** A Stripe timestamp (Unix seconds) as a Date. */
export const fromStripeTime = (seconds: number) => new Date(seconds * 1000);

/** The id of a Stripe reference, whether it came as an id string or as an expanded object. */
export function idOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') {
    return (value as { id: string }).id;
  }
  return null;
}

export function eventRefs(event: StripeEvent): EventRefs {
  const object = event.data.object as Record<string, any>;
  const own = (kind: string) => (object.object === kind ? idOf(object.id) : null);
  return {
    customerId: own('customer') ?? idOf(object.customer),
    invoiceId: own('invoice') ?? idOf(object.invoice),
    // Older API versions put it on the invoice itself, newer ones under `parent`.
    subscriptionId:
      own('subscription') ??
      idOf(object.subscription) ??
      idOf(object.parent?.subscription_details?.subscription),
  };
}
