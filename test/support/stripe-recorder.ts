import http from 'node:http';
import { startTestService, type TestService } from './service';

/**
 * A pass-through in front of stripe-mock that remembers which API calls the service made
 * (stripe-mock itself keeps no state to ask), and can say that an invoice is paid, as Stripe
 * would after a payment whose event has not arrived yet.
 */
export interface StripeRecorder {
  url: string;
  /** `METHOD /path`, and `?expand[]=a,b` when the call asked to expand fields. */
  calls: string[];
  /** The `Stripe-Account` header of each call ('' when absent), in the order of `calls`. */
  accounts: string[];
  /** From now on, retrieving this invoice answers stripe-mock's invoice with this id and status `paid`. */
  markPaid(invoiceId: string): void;
  /** From now on, retrieving this invoice answers it with this `amount_paid_off_stripe` (Stripe's answer when asked to expand it). */
  setPaidOffStripe(invoiceId: string, amount: number): void;
  /**
   * From now on, listing this invoice's payments, or the payments of this payment intent, answers
   * a paid payment by it (one more for each call about the same invoice: an invoice paid in
   * parts). Payments of any other payment intent are an empty list (a payment intent outside
   * invoices), where stripe-mock would answer its one fixture.
   */
  setInvoicePayment(invoiceId: string, paymentIntentId: string): void;
  /** From now on, retrieving this payment intent names this charge as its latest (stripe-mock names its one fixture). */
  setLatestCharge(paymentIntentId: string, chargeId: string): void;
  /**
   * From now on, retrieving this balance transaction answers it, and listing balance transactions
   * answers those set this way whose `created` is within the list's `created[gte]` and `created[lt]`
   * (stripe-mock answers its one fixture, whatever the id or the filter).
   */
  setBalanceTransaction(balanceTransaction: Record<string, any>): void;
  /** From now on, listing this invoice's lines answers these, five a page (`starting_after` pages on). */
  setInvoiceLines(invoiceId: string, lines: Record<string, any>[]): void;
  /** From now on, retrieving this account answers it, or (null) refuses as Stripe does an account the platform cannot see. */
  setAccount(accountId: string, account: Record<string, any> | null): void;
  /** From now on, retrieving this customer answers it, or (null) refuses as Stripe does an id it does not know. */
  setCustomer(customerId: string, customer: Record<string, any> | null): void;
  /** From now on, listing this customer's balance transactions answers these, newest first, three a page (`starting_after` pages on). */
  setCustomerBalanceTransactions(customerId: string, transactions: Record<string, any>[]): void;
  /** From now on, every call made as this connected account is refused, as Stripe refuses a platform the account disconnected from. */
  disconnect(accountId: string): void;
  stop(): Promise<void>;
}

export async function startStripeRecorder(stripeMockUrl: string): Promise<StripeRecorder> {
  const target = new URL(stripeMockUrl);
  const calls: string[] = [];
  const accounts: string[] = [];
  /** What retrieving an invoice answers beside stripe-mock's fixture. */
  const invoiceChanges = new Map<string, Record<string, any>>();
  const changeInvoice = (invoiceId: string, change: Record<string, any>) => void invoiceChanges.set(invoiceId, { ...invoiceChanges.get(invoiceId), ...change });
  const invoicePayments = new Map<string, string[]>();
  const latestCharges = new Map<string, string>();
  const balanceTransactions = new Map<string, Record<string, any>>();
  const invoiceLines = new Map<string, Record<string, any>[]>();
  const customerBalanceTransactions = new Map<string, Record<string, any>[]>();
  const connectedAccounts = new Map<string, Record<string, any> | null>();
  const customers = new Map<string, Record<string, any> | null>();
  const disconnected = new Set<string>();
  const refuseAccess = (res: http.ServerResponse, accountId: string) => {
    const error = { type: 'invalid_request_error', code: 'account_invalid', message: `The provided key does not have access to account '${accountId}'.` };
    res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
  };
  const answer = (res: http.ServerResponse, body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    const query = new URL(req.url ?? '', 'http://x').searchParams;
    // The SDK numbers them (`expand[0]`).
    const expand = [...query].filter(([key]) => /^expand\[\d*\]$/.test(key)).map(([, value]) => value);
    calls.push(`${req.method} ${path}${expand.length > 0 ? `?expand[]=${expand.join(',')}` : ''}`);
    accounts.push(String(req.headers['stripe-account'] ?? ''));
    const asAccount = String(req.headers['stripe-account'] ?? '');
    if (disconnected.has(asAccount)) return refuseAccess(res, asAccount);
    const balanceTransactionId = /^\/v1\/balance_transactions\/([^/]+)$/.exec(path)?.[1];
    if (balanceTransactionId && balanceTransactions.has(balanceTransactionId)) return answer(res, balanceTransactions.get(balanceTransactionId));
    if (path === '/v1/balance_transactions' && balanceTransactions.size > 0) {
      const within = (bt: Record<string, any>) => bt.created >= Number(query.get('created[gte]') ?? -Infinity) && bt.created < Number(query.get('created[lt]') ?? Infinity);
      return answer(res, { object: 'list', data: [...balanceTransactions.values()].filter(within), has_more: false, url: path });
    }
    const accountId = /^\/v1\/accounts\/([^/]+)$/.exec(path)?.[1];
    if (accountId && connectedAccounts.has(accountId)) {
      const account = connectedAccounts.get(accountId);
      return account ? answer(res, account) : refuseAccess(res, accountId);
    }
    const customerId = req.method === 'GET' ? /^\/v1\/customers\/([^/]+)$/.exec(path)?.[1] : undefined;
    if (customerId && customers.has(customerId)) {
      const customer = customers.get(customerId);
      if (customer) return answer(res, customer);
      const error = { type: 'invalid_request_error', code: 'resource_missing', param: 'id', message: `No such customer: '${customerId}'` };
      return res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
    }
    const page = (items: Record<string, any>[], size: number) => {
      const from = query.has('starting_after') ? items.findIndex((item) => item.id === query.get('starting_after')) + 1 : 0;
      return answer(res, { object: 'list', data: items.slice(from, from + size), has_more: from + size < items.length, url: path });
    };
    const linesOf = /^\/v1\/invoices\/([^/]+)\/lines$/.exec(path)?.[1];
    if (linesOf && invoiceLines.has(linesOf)) return page(invoiceLines.get(linesOf)!, 5);
    const balanceOf = /^\/v1\/customers\/([^/]+)\/balance_transactions$/.exec(path)?.[1];
    if (balanceOf && customerBalanceTransactions.has(balanceOf)) return page(customerBalanceTransactions.get(balanceOf)!, 3);
    const listedInvoice = path === '/v1/invoice_payments' ? query.get('invoice') : null;
    const listedIntent = path === '/v1/invoice_payments' ? query.get('payment[payment_intent]') : null;
    const invoiceId = listedInvoice ?? [...invoicePayments].find(([, intents]) => intents.includes(listedIntent ?? ''))?.[0];
    const paymentIntentIds = (invoiceId ? invoicePayments.get(invoiceId) : undefined)?.filter((intent) => !listedIntent || intent === listedIntent);
    if (listedIntent || (listedInvoice && paymentIntentIds)) {
      const payments = (invoiceId && paymentIntentIds ? paymentIntentIds : []).map((intent, n) => ({
        object: 'invoice_payment',
        id: `inpay_${invoiceId}_${n}`,
        invoice: invoiceId,
        status: 'paid',
        is_default: n === 0,
        payment: { type: 'payment_intent', payment_intent: intent },
      }));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: payments, has_more: false, url: path }));
      return;
    }
    const changedInvoice = req.method === 'GET' ? /^\/v1\/invoices\/([^/]+)$/.exec(path)?.[1] : undefined;
    const changedIntent = req.method === 'GET' ? /^\/v1\/payment_intents\/([^/]+)$/.exec(path)?.[1] : undefined;
    const change =
      changedInvoice && invoiceChanges.has(changedInvoice)
        ? (invoice: Record<string, any>) => ({ ...invoice, id: changedInvoice, ...invoiceChanges.get(changedInvoice) })
        : changedIntent && latestCharges.has(changedIntent)
          ? (intent: Record<string, any>) => {
              const chargeId = latestCharges.get(changedIntent)!;
              const latest = intent.latest_charge;
              return { ...intent, latest_charge: typeof latest === 'object' && latest ? { ...latest, id: chargeId, payment_intent: changedIntent } : chargeId };
            }
          : undefined;
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        if (!change) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(change(JSON.parse(Buffer.concat(chunks).toString('utf8')))));
        });
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    accounts,
    markPaid: (invoiceId) => changeInvoice(invoiceId, { status: 'paid' }),
    setPaidOffStripe: (invoiceId, amount) => changeInvoice(invoiceId, { amount_paid_off_stripe: amount }),
    setInvoicePayment: (invoiceId, paymentIntentId) => void invoicePayments.set(invoiceId, [...(invoicePayments.get(invoiceId) ?? []), paymentIntentId]),
    setLatestCharge: (paymentIntentId, chargeId) => void latestCharges.set(paymentIntentId, chargeId),
    setBalanceTransaction: (balanceTransaction) => void balanceTransactions.set(balanceTransaction.id, balanceTransaction),
    setInvoiceLines: (invoiceId, lines) => void invoiceLines.set(invoiceId, lines),
    setCustomer: (customerId, customer) => void customers.set(customerId, customer),
    setCustomerBalanceTransactions: (customerId, transactions) => void customerBalanceTransactions.set(customerId, transactions),
    setAccount: (accountId, account) => void connectedAccounts.set(accountId, account),
    disconnect: (accountId) => void disconnected.add(accountId),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The test file's service (with these settings) and a Stripe key, whose calls to Stripe go through a recorder in
 * front of stripe-mock: started before the file's tests and stopped after them. Read `service`
 * and `stripe` from the returned object inside tests.
 */
export function useServiceWithRecordedStripe(overrides: Record<string, string> = {}): { service: TestService; stripe: StripeRecorder } {
  const environment = {} as { service: TestService; stripe: StripeRecorder };
  beforeAll(async () => {
    environment.stripe = await startStripeRecorder(process.env.TEST_STRIPE_API_BASE!);
    environment.service = await startTestService({ overrides: { ...overrides, STRIPE_SECRET_KEY: 'sk_test_123', STRIPE_API_BASE: environment.stripe.url } });
  });
  afterAll(async () => {
    await environment.service?.stop();
    await environment.stripe?.stop();
  });
  return environment;
}
