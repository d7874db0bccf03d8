import http from 'node:http';

/**
 * A pass-through in front of stripe-mock that remembers which API calls the service made
 * (stripe-mock itself keeps no state to ask), and can say that an invoice is paid, as Stripe
 * would after a payment whose event has not arrived yet.
 */
export interface StripeRecorder {
  url: string;
  calls: string[];
  /** From now on, retrieving this invoice answers stripe-mock's invoice with this id and status `paid`. */
  markPaid(invoiceId: string): void;
  /** From now on, listing this invoice's payments answers one paid payment by this payment intent. */
  setInvoicePayment(invoiceId: string, paymentIntentId: string): void;
  stop(): Promise<void>;
}

export async function startStripeRecorder(stripeMockUrl: string): Promise<StripeRecorder> {
  const target = new URL(stripeMockUrl);
  const calls: string[] = [];
  const paid = new Set<string>();
  const invoicePayments = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?')[0] ?? '';
    calls.push(`${req.method} ${path}`);
    const listedInvoice = path === '/v1/invoice_payments' ? new URL(req.url ?? '', 'http://x').searchParams.get('invoice') : null;
    const paymentIntentId = listedInvoice ? invoicePayments.get(listedInvoice) : undefined;
    if (listedInvoice && paymentIntentId) {
      const payment = { object: 'invoice_payment', id: `inpay_${listedInvoice}`, invoice: listedInvoice, status: 'paid', is_default: true, payment: { type: 'payment_intent', payment_intent: paymentIntentId } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [payment], has_more: false, url: path }));
      return;
    }
    const paidInvoice = req.method === 'GET' ? /^\/v1\/invoices\/([^/]+)$/.exec(path)?.[1] : undefined;
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        if (!paidInvoice || !paid.has(paidInvoice)) {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const invoice = { ...JSON.parse(Buffer.concat(chunks).toString('utf8')), id: paidInvoice, status: 'paid' };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(invoice));
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
    markPaid: (invoiceId) => void paid.add(invoiceId),
    setInvoicePayment: (invoiceId, paymentIntentId) => void invoicePayments.set(invoiceId, paymentIntentId),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
