import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { runsOf, regularFace } from '../src/platform/pdf-fonts';
import { renderCreditNoteDocument, renderDocument } from '../src/platform/pdf';
import { creditNoteSample, documentOf, namesInScripts, seller, subscriptionInvoice } from './documents/samples';
import { fontsOf, inkBox, pageTexts, renderPages, wordsOf } from './support/poppler';

/**
 * Receipts and invoices as a reader sees them: rendered by poppler to pixels and read back as
 * words, laid out like Stripe's own documents, adding up, and drawing every script.
 */

const margin = 50;
const cents = (amount: string) => Number(amount.replace(/[^\d-]/g, ''));

/** The totals block read back from the rendered text: label → amount in minor units. */
async function totalsOf(pdf: Buffer): Promise<Map<string, number>> {
  const texts = await pageTexts(pdf);
  const rows = texts[texts.length - 1].split('\n').map((line) => /^\s{20,}([A-Z][\w ()%.-]+?)\s{2,}(-?€[\d,.]+)\s*$/.exec(line)).filter((match) => match !== null);
  return new Map(rows.map((match) => [match[1].trim(), cents(match[2])]));
}

test('when a receipt is rendered, then it carries the facts, both parties, the line table and the payment the way Stripe lays them out', async () => {
  const pdf = await renderDocument(documentOf('receipt', subscriptionInvoice()));

  const [text] = await pageTexts(pdf);
  for (const expected of [
    /Receipt number\s+R-2026-000042/, /Stripe invoice\s+ACME-2026-0042/, /Date of issue\s+November 3, 2026/, /Date paid\s+November 3, 2026/,
    /Payment method\s+VISA •••• 4242/, /Acme Analytics GmbH\s+Bill to/, /Tax ID: DE 312 456 789/, /Friedrichstraße 12/, /10117 Berlin/, /EU VAT DE123456789/,
    /€345.22 paid on November 3, 2026\s+PAID/, /Description\s+Qty\s+Unit price\s+Amount/, /Team plan \(at €49.00 \/ month\)\s+5\s+€49.00\s+€245.00/, /Nov 3, 2026 – Dec 3, 2026/,
  ]) {
    expect(text).toMatch(expected);
  }
});

test('when a subscription line says "5 × Team plan", then the quantity is printed once, in its column', async () => {
  const pdf = await renderDocument(documentOf('invoice', subscriptionInvoice()));

  const [text] = await pageTexts(pdf);
  expect(text).not.toMatch(/5 × Team plan/);
  expect(text).toMatch(/Team plan \(at €49.00 \/ month\)\s+5\s/);
});

test.each(['receipt', 'invoice'] as const)('when the %s\'s totals are read back from the page, then they add up and show the tax per rate', async (kind) => {
  const pdf = await renderDocument(documentOf(kind, subscriptionInvoice()));

  const totals = await totalsOf(pdf);
  expect(totals.get('Subtotal')! + totals.get('Discount')! + totals.get('Tax (19%)')!).toBe(totals.get('Total'));
  expect(totals.get('Total')).toBe(34_522);
  if (kind === 'receipt') expect(totals.get('Amount paid')).toBe(34_522);
  else expect([totals.get('Amount due'), totals.get('Amount paid'), totals.get('Amount remaining')]).toEqual([34_522, 34_522, 0]);
  // The lines in the table add up to the subtotal.
  const [text] = await pageTexts(pdf);
  const table = text.slice(text.indexOf('Description'), text.indexOf('Subtotal')).split('\n');
  const lineAmounts = table.map((line) => /\s(€[\d,.]+)\s*$/.exec(line)).filter((match) => match !== null).map((match) => cents(match[1]));
  expect(lineAmounts).toHaveLength(3);
  expect(lineAmounts.reduce((sum, amount) => sum + amount, 0)).toBe(totals.get('Subtotal'));
});

test('when the event carries only the invoice\'s first lines, then the table ends with one row for the rest and the totals still add up to Stripe\'s', async () => {
  const shown = subscriptionInvoice().lines;
  const invoice = subscriptionInvoice({ lines: { object: 'list', has_more: true, total_count: 5, data: [{ amount: 24_500, quantity: 5, description: '5 × Team plan (at €49.00 / month)' }] } });

  const pdf = await renderDocument(documentOf('receipt', invoice));

  const [text] = await pageTexts(pdf);
  const omitted = shown.slice(1).reduce((sum, line) => sum + line.amount, 0);
  expect(text).toMatch(new RegExp(`4 more line items, listed on the invoice in Stripe\\s+€${(omitted / 100).toFixed(2)}`));
  const totals = await totalsOf(pdf);
  expect(totals.get('Subtotal')).toBe(30_900);
  expect(totals.get('Subtotal')! + totals.get('Discount')! + totals.get('Tax (19%)')!).toBe(totals.get('Total'));
  expect(totals.get('Total')).toBe(34_522);
});

test('when a credit note is rendered, then it carries its facts, whom it credits, the lines credited and where the credit went, adding up', async () => {
  const pdf = await renderCreditNoteDocument(creditNoteSample());

  const [text] = await pageTexts(pdf);
  for (const expected of [
    /Credit note number\s+CN-2026-000007/, /Stripe credit note\s+ACME-2026-0042-CN-01/, /Stripe invoice\s+ACME-2026-0042/, /Date of issue\s+November 20, 2026/,
    /Reason\s+Order change/, /Memo\s+Team reduced from 5 to 3 seats/, /Acme Analytics GmbH\s+Credit to/, /Yamada Yuki/, /€116.62 credited on invoice ACME-2026-0042/,
    /Team plan: 2 seats, Nov 20 – Dec 3, 2026\s+2\s+€39.00\s+€78.00/,
  ]) {
    expect(text).toMatch(expected);
  }
  const totals = await totalsOf(pdf);
  expect(totals.get('Subtotal')! + totals.get('Tax (19%)')!).toBe(totals.get('Total credited'));
  expect(totals.get('Total credited')).toBe(11_662);
  expect(totals.get('Refunded to the payment method')! + totals.get('Credited to your balance')!).toBe(totals.get('Total credited'));
});

test('when the credit note\'s event carries only its first lines, then one row stands for the rest and the totals still add up', async () => {
  const content = creditNoteSample({ lines: { object: 'list', has_more: true, data: [{ description: 'Team plan: 2 seats', quantity: 2, unit_amount: 3_900, amount: 7_800 }] } });

  const pdf = await renderCreditNoteDocument(content);

  expect((await pageTexts(pdf))[0]).toMatch(/More line items, listed on the credit note in Stripe\s+€20.00/);
  const totals = await totalsOf(pdf);
  expect(totals.get('Subtotal')).toBe(9_800);
  expect(totals.get('Total credited')).toBe(11_662);
});

test('when an invoice has more lines than a page holds, then it flows over pages with the table header on each, numbered, and nothing crosses the margins', async () => {
  const lines = Array.from({ length: 70 }, (_, i) => ({ amount: 1_000, quantity: 1, description: `Usage of workspace ${i + 1}: ${'events processed and stored '.repeat(i % 7 === 0 ? 4 : 1).trim()}`, price: { unit_amount: 1_000 } }));
  const invoice = subscriptionInvoice({ lines: { object: 'list', data: lines }, subtotal: 70_000, total: 70_000, amount_due: 70_000, amount_paid: 70_000, total_discount_amounts: [], total_taxes: [] });

  const pdf = await renderDocument(documentOf('invoice', invoice));

  const texts = await pageTexts(pdf);
  expect(texts.length).toBeGreaterThanOrEqual(3);
  texts.forEach((text, index) => {
    expect(text).toMatch(/Description\s+Qty\s+Unit price\s+Amount/);
    expect(text).toContain(`Page ${index + 1} of ${texts.length}`);
  });
  const words = await wordsOf(pdf);
  expect(words.filter((word) => word.text === 'workspace')).toHaveLength(70);
  expect((await totalsOf(pdf)).get('Total')).toBe(70_000);
  for (const page of await renderPages(pdf, 36)) {
    const box = inkBox(page)!;
    const scale = page.width / 595.28;
    expect(box.left).toBeGreaterThanOrEqual(Math.floor(margin * scale) - 1);
    expect(box.right).toBeLessThanOrEqual(Math.ceil((595.28 - margin) * scale) + 1);
    expect(box.top).toBeGreaterThanOrEqual(Math.floor(margin * scale) - 1);
    expect(box.bottom).toBeLessThanOrEqual(Math.ceil((841.89 - margin) * scale) + 1);
  }
});

const faces: Record<keyof typeof namesInScripts, string> = {
  Japanese: 'NotoSansJP-Regular', Chinese: 'NotoSansJP-Regular', Korean: 'NotoSansKR-Regular', Arabic: 'NotoSansArabic-Regular', Hebrew: 'NotoSansHebrew-Regular',
  Devanagari: 'NotoSans-Regular', Bengali: 'NotoSansBengali-Regular', Tamil: 'NotoSansTamil-Regular', Thai: 'NotoSansThai-Regular', Greek: 'NotoSans-Regular',
  Cyrillic: 'NotoSans-Regular', Armenian: 'NotoSansArmenian-Regular', Georgian: 'NotoSansGeorgian-Regular', Ethiopic: 'NotoSansEthiopic-Regular', Vietnamese: 'NotoSans-Regular', Polish: 'NotoSans-Regular',
};
/** Scripts whose letters pdftotext gives back as written (shaped, right-to-left and stacked-diacritic ones are checked by their font). */
const readableBack = new Set(['Japanese', 'Chinese', 'Korean', 'Greek', 'Cyrillic', 'Armenian', 'Georgian', 'Ethiopic', 'Polish']);

test.each(Object.entries(namesInScripts))('when the customer\'s name is %s (%s), then every letter has a glyph and the PDF embeds the font that draws it', async (script, name) => {
  expect(runsOf(name, regularFace).every((run) => [...run.text].every((char) => run.face.font.hasGlyphForCodePoint(char.codePointAt(0)!)))).toBe(true);

  const pdf = await renderDocument(documentOf('receipt', subscriptionInvoice({ customer_name: name })));

  expect(await fontsOf(pdf)).toContain(faces[script as keyof typeof faces]);
  if (readableBack.has(script)) expect((await pageTexts(pdf))[0]).toContain(name);
});

test('when a document has only Windows-1252 text, then it is drawn in the standard fonts and embeds none', async () => {
  const pdf = await renderDocument(documentOf('receipt', subscriptionInvoice()));

  expect((await fontsOf(pdf)).sort()).toEqual(['Helvetica', 'Helvetica-Bold']);
});

test('when a logo is configured, then it is drawn at the top right inside the margins', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logo-'));
  const plain = await renderDocument(documentOf('receipt', subscriptionInvoice()));
  // Any dark PNG will do: the title of a plain receipt, cut out of its page.
  execFileSync('pdftoppm', ['-png', '-r', '150', '-x', '100', '-y', '100', '-W', '250', '-H', '60', '-singlefile', '-', path.join(dir, 'logo')], { input: plain });

  const pdf = await renderDocument({ ...documentOf('receipt', subscriptionInvoice()), seller: { ...seller, logoPath: path.join(dir, 'logo.png') } });

  const [withLogo] = await renderPages(pdf, 36);
  const [without] = await renderPages(plain, 36);
  const scale = withLogo.width / 595.28;
  const topRight = (page: typeof withLogo) => {
    let dark = 0;
    for (let y = Math.floor(margin * scale); y < Math.ceil((margin + 48) * scale); y++) {
      for (let x = Math.floor((595.28 - margin - 140) * scale); x < Math.ceil((595.28 - margin) * scale); x++) if (page.pixels[y * page.width + x] < 200) dark++;
    }
    return dark;
  };
  expect(topRight(without)).toBe(0);
  expect(topRight(withLogo)).toBeGreaterThan(20);
  expect(inkBox(withLogo)!.right).toBeLessThanOrEqual(Math.ceil((595.28 - margin) * scale) + 1);
  fs.rmSync(dir, { recursive: true, force: true });
});
