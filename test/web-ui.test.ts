import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { startTemporalDevServer, type EmbeddedTemporal } from '../src/dev/embedded';
import { paidInvoice } from './support/billing-events';
import { deliverTwiceAndWait, startTestService, type TestService } from './support/service';
import { stripeEvent } from './support/stripe-events';

/**
 * The Temporal Web UI of a running service, opened in a real (headless) Chromium as an operator
 * would: find an event's execution by its search attributes and read its summary and steps.
 * `WRITE_SCREENSHOTS=1` writes the screenshots into docs/ for the README.
 */

jest.setTimeout(120_000);

let temporal: EmbeddedTemporal;
let service: TestService;
let browser: Browser;
const screenshots = process.env.WRITE_SCREENSHOTS === '1' ? path.join(__dirname, '..', 'docs') : fs.mkdtempSync(path.join(os.tmpdir(), 'web-ui-'));

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  temporal = await startTemporalDevServer({ port: await freePort(), uiPort: await freePort(), namespace: 'default' });
  service = await startTestService({ overrides: { TEMPORAL_ADDRESS: temporal.address } });
  browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  await service?.stop();
  await temporal?.stop();
});

test('when an operator looks for a customer\'s paid invoices in the Web UI, then the execution is listed, and its page shows the summary and what each step did', async () => {
  const invoice = paidInvoice({ subtotal: 4_900, customerEmail: 'web-ui@example.com' });
  const event = stripeEvent('invoice.paid', invoice);
  await deliverTwiceAndWait(service, event);
  const page = await browser.newPage();
  await page.setViewport({ width: 1440, height: 900 });
  // The UI renders summaries (markdown) in sandboxed frames: the text is that of every frame.
  const pageText = async () => {
    const texts = await Promise.all(page.frames().map((frame) => frame.evaluate(() => (globalThis as unknown as { document: { body?: { innerText: string } } }).document.body?.innerText ?? '').catch(() => '')));
    return texts.join('\n');
  };
  const textShown = async (expected: string) => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 250))) {
      if ((await pageText()).includes(expected)) return;
    }
    await page.screenshot({ path: path.join(screenshots, 'web-ui-failure.png'), fullPage: true });
    throw new Error(`(screenshot: ${path.join(screenshots, 'web-ui-failure.png')}) the page at ${page.url()} never showed ${JSON.stringify(expected)}; it shows:\n${(await pageText()).slice(0, 6000)}`);
  };

  const query = `StripeEventType="invoice.paid" AND StripeCustomerId="${invoice.customer}"`;
  await page.goto(`${temporal.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`, { waitUntil: 'networkidle2' });
  await textShown(event.id);
  await page.screenshot({ path: path.join(screenshots, 'web-ui-executions.png') });

  const { runId } = await service.temporal.workflow.getHandle(event.id).describe();
  await page.goto(`${temporal.uiUrl}/namespaces/default/workflows/${event.id}/${runId}/history`, { waitUntil: 'networkidle2' });
  await textShown(`record the payment, documents, ledger and paid period; email the receipt and invoice to the customer and finance; mark the event processed · invoice ${invoice.id}`);
  await page.screenshot({ path: path.join(screenshots, 'web-ui-history.png') });
  // The execution's own summary sits under "User Metadata".
  await page.locator('::-p-text(User Metadata)').click();
  await textShown(`invoice.paid · ${invoice.id} · ${invoice.customer} · sub_test_1 · $49.00 USD`);
  await page.screenshot({ path: path.join(screenshots, 'web-ui-summary.png') });
  await page.close();
});
