import { Client, Connection } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import {
  allSearchAttributes,
  StripeCustomerId,
  StripeEventType,
  StripeInvoiceId,
  StripeSubscriptionId,
} from '../../workflows/contracts';
import type { Config } from './config';
import type { EventRefs } from './stripe-event';

type TemporalSettings = Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_NAMESPACE' | 'TEMPORAL_API_KEY' | 'TEMPORAL_TLS'>;

/** Address, TLS and API key, the same for the client and the worker's native connection. */
export function connectionOptions(config: TemporalSettings) {
  return {
    address: config.TEMPORAL_ADDRESS,
    tls: config.TEMPORAL_TLS || Boolean(config.TEMPORAL_API_KEY),
    apiKey: config.TEMPORAL_API_KEY,
  };
}

/**
 * A client whose connection is made on first use, so the API starts (and answers 503 with
 * `/readyz` failing) while Temporal is away, instead of refusing to start.
 */
export function createTemporalClient(config: TemporalSettings): Client {
  const connection = Connection.lazy(connectionOptions(config));
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** The search attributes that let operations find an execution by event type, customer, invoice or subscription. */
export function eventSearchAttributes(refs: Partial<EventRefs> & { eventType?: string }): TypedSearchAttributes {
  const pairs = [
    { key: StripeEventType, value: refs.eventType },
    { key: StripeCustomerId, value: refs.customerId },
    { key: StripeInvoiceId, value: refs.invoiceId },
    { key: StripeSubscriptionId, value: refs.subscriptionId },
  ];
  return new TypedSearchAttributes(
    pairs.filter((pair): pair is { key: typeof pair.key; value: string } => typeof pair.value === 'string'),
  );
}

/** Registers missing search attributes, on the dev server or a cluster alike. */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const operator = client.connection.operatorService;
  const existing = await operator.listSearchAttributes({ namespace });
  const known = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = allSearchAttributes.filter((key) => !known.has(key.name));
  if (missing.length === 0) return;
  try {
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, 2 /* INDEXED_VALUE_TYPE_KEYWORD */])),
    });
  } catch (err) {
    // Temporal Cloud, for one, does not let workers add them: say what to add by hand.
    const names = missing.map((key) => `${key.name} (Keyword)`).join(', ');
    throw new Error(`Could not register the search attributes ${names} in namespace ${namespace}: ${(err as Error).message}. Add them to the namespace (tctl / temporal operator search-attribute create, or the Cloud UI) and start again.`);
  }
}

export async function isTemporalReachable(client: Client, timeoutMs = 2000): Promise<boolean> {
  try {
    await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      client.connection.workflowService.getSystemInfo({}),
    );
    return true;
  } catch {
    return false;
  }
}
