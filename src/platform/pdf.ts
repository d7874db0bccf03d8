import PDFDocument from 'pdfkit';
import { formatAmount } from './money';
import { creditNotesApplied, wherePaid, type InvoiceFacts, type InvoiceLine } from './invoice';
import type { CreditNoteDetails } from './credit-note';
import { boldFace, regularFace, runsOf, type Run } from './pdf-fonts';

/** The two documents of a payment. */
export type DocumentKind = 'receipt' | 'invoice';

export interface Seller {
  name: string;
  address: string;
  email?: string;
  taxId?: string;
  /** A PNG or JPEG drawn at the top right. */
  logoPath?: string;
}

export interface DocumentContent {
  kind: DocumentKind;
  number: string;
  seller: Seller;
  invoice: InvoiceFacts;
  paidAt: Date;
  paymentMethod: string;
}

/** Who a credit note credits, as far as the books know the customer. */
export interface CreditedCustomer {
  id: string | null;
  name: string | null;
  email: string | null;
  address: string[];
}

export interface CreditNoteDocumentContent {
  number: string;
  seller: Seller;
  creditNote: CreditNoteDetails;
  /** The invoice's number when it is known, else its id is shown. */
  invoiceNumber: string | null;
  customer: CreditedCustomer;
}

const titles: Record<DocumentKind, string> = { receipt: 'Receipt', invoice: 'Invoice' };

// A4 in points, and where things go on it.
const page = { width: 595.28, height: 841.89, margin: 50 };
const contentWidth = page.width - 2 * page.margin;
const bottom = page.height - page.margin - 24; // room for the footer
const grey = '#6b7280';
const ink = '#111827';
const columns = {
  description: { x: page.margin, width: 250 },
  quantity: { x: page.margin + 255, width: 40 },
  unitPrice: { x: page.margin + 300, width: 90 },
  amount: { x: page.margin + 395, width: contentWidth - 395 },
};

interface TextOptions {
  size?: number;
  bold?: boolean;
  color?: string;
  width?: number;
  align?: 'left' | 'right' | 'center';
}

/**
 * The characters PDF's standard fonts can draw (Windows-1252). Text made only of these is drawn
 * in Helvetica, which needs no embedding and no shaping, so a typical document renders in a few
 * milliseconds; any other text is drawn in the embedded Noto faces.
 */
const standardCharacters = /^[\x20-\x7e\xa0-\xff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122\n]*$/;

/** Writes text at (x, y) in the fonts it needs; returns the y below it. */
function write(doc: PDFKit.PDFDocument, text: string, x: number, y: number, options: TextOptions = {}): number {
  doc.fontSize(options.size ?? 9).fillColor(options.color ?? ink);
  const layout = { width: options.width, align: options.align ?? 'left', lineGap: 1 };
  if (standardCharacters.test(text)) {
    doc.font(options.bold ? 'Helvetica-Bold' : 'Helvetica').text(text, x, y, layout);
    return doc.y;
  }
  const runs: Run[] = runsOf(text, options.bold ? boldFace : regularFace);
  // pdfkit drops the whitespace that ends a continued piece: it starts the next one instead.
  for (let index = 0; index < runs.length - 1; index++) {
    const space = /\s*$/u.exec(runs[index].text)![0];
    if (space === '' || space === runs[index].text) continue;
    runs[index].text = runs[index].text.slice(0, -space.length);
    runs[index + 1].text = space + runs[index + 1].text;
  }
  // Noto's ascender is taller than Helvetica's: raised by the difference, the baselines of both
  // sit at the same height, and the line below starts below the taller line.
  const raise = Math.max(0, runs[0].face.font.ascent / runs[0].face.font.unitsPerEm - helveticaAscender) * (options.size ?? 9);
  runs.forEach((run, index) => {
    useFace(doc, run.face);
    const piece = { ...layout, continued: index < runs.length - 1 };
    const text = run.face.rtl ? asOneWord(run.text) : run.text;
    if (index === 0) doc.text(text, x, y - raise, piece);
    else doc.text(text, piece);
  });
  return Math.max(doc.y, y + (options.size ?? 9) * 1.4);
}

/** Helvetica's ascender in em (its AFM: 718 of 1000). */
const helveticaAscender = 0.718;

/**
 * pdfkit lays out a line word by word, left to right, and the font orders each word's letters:
 * words of a right-to-left run would come out in reverse order. Joined by no-break spaces, the
 * run is one word, which the font lays out right to left as a whole.
 */
const asOneWord = (text: string) => text.replace(/ /g, '\u00a0');

const registered = new WeakMap<PDFKit.PDFDocument, Set<string>>();

function useFace(doc: PDFKit.PDFDocument, face: Run['face']): void {
  const names = registered.get(doc) ?? new Set<string>();
  registered.set(doc, names);
  if (!names.has(face.name)) {
    // pdfkit takes the parsed font itself: parsing a face's layout tables costs tens of
    // milliseconds, so every document of the process shares one parse.
    doc.registerFont(face.name, face.font as unknown as Buffer);
    names.add(face.name);
  }
  doc.font(face.name);
}

/** The height text takes in a column (measured in Helvetica; other scripts are of similar height). */
function heightOf(doc: PDFKit.PDFDocument, text: string, width: number, size: number): number {
  return doc.font('Helvetica').fontSize(size).heightOfString(text, { width, lineGap: 1 });
}

// Made once: toLocaleDateString builds a formatter per call (about 0.1 ms each, several per document).
const longDate = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });
const shortDate = new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });

const day = (seconds: number | null | Date) => (seconds === null ? '—' : longDate.format(seconds instanceof Date ? seconds : seconds * 1000));

const shortDay = (seconds: number) => shortDate.format(seconds * 1000);

function tableHeader(doc: PDFKit.PDFDocument, y: number): number {
  write(doc, 'Description', columns.description.x, y, { size: 8, color: grey, width: columns.description.width });
  write(doc, 'Qty', columns.quantity.x, y, { size: 8, color: grey, width: columns.quantity.width, align: 'right' });
  write(doc, 'Unit price', columns.unitPrice.x, y, { size: 8, color: grey, width: columns.unitPrice.width, align: 'right' });
  write(doc, 'Amount', columns.amount.x, y, { size: 8, color: grey, width: columns.amount.width, align: 'right' });
  const below = y + 14;
  doc.moveTo(page.margin, below).lineTo(page.width - page.margin, below).lineWidth(0.5).strokeColor('#d1d5db').stroke();
  return below + 6;
}

/**
 * What a document lays out, whichever it is: its title and facts, seller and customer, a one-line
 * headline, its lines and its totals. Receipts, invoices and credit notes share the frame.
 */
interface Layout {
  title: string;
  number: string;
  facts: [string, string][];
  seller: Seller;
  party: { heading: string; lines: string[] };
  headline: string;
  /** A stamp beside the headline (a receipt's PAID). */
  stamp: string | null;
  lines: InvoiceLine[];
  /** The lines the payload left out, in one row. */
  omitted: { text: string; amount: number } | null;
  /** Label, amount, and whether the row is in bold. */
  totals: [string, number, boolean][];
  currency: string;
}

/** Renders a receipt or an invoice as a PDF, laid out the way Stripe's own documents are. */
export function renderDocument(content: DocumentContent): Promise<Buffer> {
  return renderLayout(paymentLayout(content));
}

/** Renders a credit note as a PDF, in the frame of the receipts and invoices. */
export function renderCreditNoteDocument(content: CreditNoteDocumentContent): Promise<Buffer> {
  return renderLayout(creditNoteLayout(content));
}

function paymentLayout(content: DocumentContent): Layout {
  const { invoice, kind } = content;
  const money = (amount: number) => formatAmount(amount, invoice.currency);
  const { omittedLines } = invoice;
  return {
    title: titles[kind],
    number: content.number,
    facts: [
      [kind === 'receipt' ? 'Receipt number' : 'Invoice number', content.number],
      ['Stripe invoice', invoice.number ?? invoice.id],
      ['Date of issue', day(invoice.issuedAt)],
      ...(kind === 'invoice' && invoice.dueDate ? [['Date due', day(invoice.dueDate)] as [string, string]] : []),
      ['Date paid', day(content.paidAt)],
      ['Payment method', content.paymentMethod],
    ],
    seller: content.seller,
    party: {
      heading: 'Bill to',
      lines: [invoice.customerName ?? invoice.customerEmail ?? invoice.customerId ?? 'Customer', ...invoice.customerAddress, ...(invoice.customerName && invoice.customerEmail ? [invoice.customerEmail] : []), ...invoice.customerTaxIds],
    },
    headline:
      kind === 'receipt' || invoice.amountRemaining === 0
        ? `${money(kind === 'receipt' ? paidAmount(invoice) : invoice.amountDue)} paid on ${day(content.paidAt)}`
        : `${money(invoice.amountRemaining)} due ${invoice.dueDate ? day(invoice.dueDate) : 'now'}`,
    stamp: kind === 'receipt' ? 'PAID' : null,
    lines: invoice.lines,
    omitted: omittedLines
      ? {
          text: `${omittedLines.count === null ? 'More line items' : `${omittedLines.count} more line item${omittedLines.count === 1 ? '' : 's'}`}, listed on the invoice in Stripe`,
          amount: omittedLines.amount,
        }
      : null,
    totals: totalsWithTaxRates(invoice, kind),
    currency: invoice.currency,
  };
}

function creditNoteLayout(content: CreditNoteDocumentContent): Layout {
  const { creditNote: note, customer } = content;
  const money = (amount: number) => formatAmount(amount, note.currency);
  return {
    title: 'Credit note',
    number: content.number,
    facts: [
      ['Credit note number', content.number],
      ['Stripe credit note', note.number ?? note.id],
      ['Stripe invoice', content.invoiceNumber ?? note.invoiceId],
      ['Date of issue', day(note.issuedAt)],
      ...(note.reason ? [['Reason', note.reason] as [string, string]] : []),
      ...(note.memo ? [['Memo', note.memo] as [string, string]] : []),
    ],
    seller: content.seller,
    party: {
      heading: 'Credit to',
      lines: [customer.name ?? customer.email ?? customer.id ?? 'Customer', ...customer.address, ...(customer.name && customer.email ? [customer.email] : [])],
    },
    headline: `${money(note.amount)} credited on invoice ${content.invoiceNumber ?? note.invoiceId}`,
    stamp: null,
    lines: note.lines,
    omitted: note.omittedLines ? { text: 'More line items, listed on the credit note in Stripe', amount: note.omittedLines } : null,
    totals: creditNoteTotals(note),
    currency: note.currency,
  };
}

function renderLayout(layout: Layout): Promise<Buffer> {
  const { seller } = layout;
  const money = (amount: number) => formatAmount(amount, layout.currency);
  const doc = new PDFDocument({ size: 'A4', margin: page.margin, bufferPages: true, info: { Title: `${layout.title} ${layout.number}`, Author: seller.name } });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  // Title, logo and the document's facts.
  // A little below the margin: a viewer may draw Helvetica with a substitute whose capitals stand taller.
  write(doc, layout.title, page.margin, page.margin + 4, { size: 22, bold: true });
  if (seller.logoPath) doc.image(seller.logoPath, page.width - page.margin - 140, page.margin, { fit: [140, 48], align: 'right' });
  let y = page.margin + 40;
  for (const [label, value] of layout.facts) {
    write(doc, label, page.margin, y, { color: grey, width: 100 });
    y = Math.max(y + 13, write(doc, value, page.margin + 105, y, { width: contentWidth - 105 }));
  }

  // Seller and customer, side by side.
  const blockTop = y + 14;
  const half = contentWidth / 2 - 10;
  let sellerY = write(doc, seller.name, page.margin, blockTop, { bold: true, width: half });
  for (const line of [seller.address, seller.email, seller.taxId && `Tax ID: ${seller.taxId}`].filter((line): line is string => Boolean(line))) sellerY = write(doc, line, page.margin, sellerY, { width: half });
  const customerX = page.margin + half + 20;
  let customerY = write(doc, layout.party.heading, customerX, blockTop, { bold: true, width: half });
  for (const line of layout.party.lines) customerY = write(doc, line, customerX, customerY, { width: half });

  // What happened, in one line.
  y = Math.max(sellerY, customerY) + 18;
  write(doc, layout.headline, page.margin, y, { size: 14, bold: true, width: contentWidth - 80 });
  if (layout.stamp) {
    doc.roundedRect(page.width - page.margin - 60, y - 2, 60, 22, 4).lineWidth(1.2).strokeColor('#059669').stroke();
    write(doc, layout.stamp, page.width - page.margin - 60, y + 3, { size: 11, bold: true, color: '#059669', width: 60, align: 'center' });
  }

  // The lines, flowing over pages with the header repeated.
  y = tableHeader(doc, y + 36);
  const makeRoom = (height: number) => {
    if (y + height > bottom) {
      doc.addPage();
      y = tableHeader(doc, page.margin);
    }
  };
  for (const line of layout.lines) {
    const period = line.period && line.period.end > line.period.start ? `${shortDay(line.period.start)} – ${shortDay(line.period.end)}` : null;
    makeRoom(heightOf(doc, line.description, columns.description.width, 9) + (period ? 12 : 0) + 8);
    let rowBottom = write(doc, line.description, columns.description.x, y, { width: columns.description.width });
    if (period) rowBottom = write(doc, period, columns.description.x, rowBottom + 1, { size: 8, color: grey, width: columns.description.width });
    write(doc, String(line.quantity), columns.quantity.x, y, { width: columns.quantity.width, align: 'right' });
    if (line.unitAmount !== null) write(doc, money(line.unitAmount), columns.unitPrice.x, y, { width: columns.unitPrice.width, align: 'right' });
    write(doc, money(line.amount), columns.amount.x, y, { width: columns.amount.width, align: 'right' });
    y = Math.max(rowBottom, y + 12) + 8;
  }

  if (layout.omitted) {
    makeRoom(20);
    write(doc, layout.omitted.text, columns.description.x, y, { width: columns.description.width, color: grey });
    write(doc, money(layout.omitted.amount), columns.amount.x, y, { width: columns.amount.width, align: 'right' });
    y += 20;
  }

  // The totals, right-aligned under the amounts.
  const rows = layout.totals;
  if (y + rows.length * 15 + 20 > bottom) {
    doc.addPage();
    y = page.margin;
  }
  doc.moveTo(columns.unitPrice.x - 90, y).lineTo(page.width - page.margin, y).lineWidth(0.5).strokeColor('#d1d5db').stroke();
  y += 8;
  for (const [label, amount, strong] of rows) {
    write(doc, label, columns.unitPrice.x - 90, y, { width: 180, align: 'right', bold: strong, color: strong ? ink : grey });
    write(doc, money(amount), columns.amount.x, y, { width: columns.amount.width, align: 'right', bold: strong });
    y += 15;
  }
  write(doc, `All amounts in ${layout.currency.toUpperCase()}.`, page.margin, y + 10, { size: 8, color: grey, width: contentWidth });

  // Footer on every page.
  const range = doc.bufferedPageRange();
  for (let index = range.start; index < range.start + range.count; index++) {
    doc.switchToPage(index);
    write(doc, `${layout.number} · ${seller.name} · Page ${index + 1} of ${range.count}`, page.margin, page.height - page.margin - 14, { size: 7, color: grey, width: contentWidth });
  }
  doc.end();
  return done;
}

function paidAmount(invoice: InvoiceFacts): number {
  const { throughStripe, outsideStripe } = wherePaid(invoice);
  return throughStripe + outsideStripe;
}

/** What was paid, where, and what of it went beyond the invoice to the customer's balance. */
function paidRows(invoice: InvoiceFacts): [string, number][] {
  const paid = paidAmount(invoice);
  const outside = wherePaid(invoice).outsideStripe;
  const rows: [string, number][] = [[outside > 0 && outside === paid ? 'Amount paid (outside Stripe)' : 'Amount paid', paid]];
  if (outside > 0 && outside < paid) rows.push(['Of which paid outside Stripe', outside]);
  if (invoice.amountOverpaid > 0) rows.push(['Overpaid, credited to your balance', invoice.amountOverpaid]);
  return rows;
}

/** The totals block with its tax shown per rate where the invoice lists rates; `true` marks the rows in bold. */
function totalsWithTaxRates(invoice: InvoiceFacts, kind: DocumentKind): [string, number, boolean][] {
  const exclusive = invoice.taxes.filter((tax) => !tax.inclusive);
  const perRate = exclusive.length > 0 && exclusive.reduce((sum, tax) => sum + tax.amount, 0) === invoice.tax - invoice.taxInclusive;
  const rows: [string, number, boolean][] = [];
  for (const [label, amount] of documentTotals(invoice, kind)) {
    if (label === 'Tax' && perRate) {
      for (const tax of exclusive) rows.push([tax.label, tax.amount, false]);
      continue;
    }
    rows.push([label, amount, label === 'Total' || label === 'Amount due' || label.startsWith('Amount paid')]);
    if (label === 'Total') {
      for (const tax of invoice.taxes.filter((t) => t.inclusive)) rows.push([`Includes ${tax.label}`, tax.amount, false]);
    }
  }
  if (kind === 'invoice' && invoice.amountPaid > 0) {
    rows.push(...paidRows(invoice).map(([label, amount]): [string, number, boolean] => [label, amount, false]), ['Amount remaining', invoice.amountRemaining, false]);
  }
  return rows;
}

/**
 * The totals block, built so that it adds up whatever the invoice carries: the discount is what
 * separates the line amounts from the total (line-level and invoice-level discounts alike,
 * which Stripe reports in different fields), exclusive tax is added, inclusive tax is already
 * inside the lines. Then what the customer balance took and, on a receipt, what was paid.
 */
export function documentTotals(invoice: InvoiceFacts, kind: DocumentKind): [string, number][] {
  const lines = invoice.lines.reduce((sum, line) => sum + line.amount, 0) + (invoice.omittedLines?.amount ?? 0);
  const taxAdded = invoice.tax - invoice.taxInclusive;
  const discount = lines + taxAdded - invoice.total;
  const totals: [string, number][] = [['Subtotal', lines]];
  if (discount !== 0) totals.push(['Discount', -discount]);
  if (taxAdded !== 0) totals.push(['Tax', taxAdded]);
  totals.push(['Total', invoice.total]);
  if (invoice.balanceApplied > 0) totals.push(['Applied from credit balance', -invoice.balanceApplied]);
  if (invoice.balanceApplied < 0) totals.push(['Added from account balance', -invoice.balanceApplied]);
  const credited = creditNotesApplied(invoice);
  if (credited !== 0) totals.push(['Credit notes', -credited]);
  if (kind === 'receipt') {
    totals.push(...paidRows(invoice));
  } else {
    totals.push(['Amount due', invoice.amountDue]);
  }
  return totals;
}

/**
 * A credit note's totals, built like an invoice's: the lines, the discount that separates them
 * from the total, exclusive tax per rate; then where the credit went.
 */
function creditNoteTotals(note: CreditNoteDetails): [string, number, boolean][] {
  const lines = note.lines.reduce((sum, line) => sum + line.amount, 0) + (note.omittedLines ?? 0);
  const exclusive = note.taxes.filter((tax) => !tax.inclusive);
  const taxAdded = exclusive.reduce((sum, tax) => sum + tax.amount, 0);
  const discount = lines + taxAdded - note.amount;
  const rows: [string, number, boolean][] = [['Subtotal', lines, false]];
  if (discount !== 0) rows.push(['Discount', -discount, false]);
  for (const tax of exclusive) rows.push([tax.label, tax.amount, false]);
  rows.push(['Total credited', note.amount, true]);
  for (const tax of note.taxes.filter((t) => t.inclusive)) rows.push([`Includes ${tax.label}`, tax.amount, false]);
  const parts: [string, number][] = [
    ['Taken off the amount due', note.prePayment],
    ['Refunded to the payment method', note.refunded],
    ['Credited to your balance', note.balanceCredit],
    ['Given back outside Stripe', note.outOfBand],
  ];
  rows.push(...parts.filter(([, amount]) => amount !== 0).map(([label, amount]): [string, number, boolean] => [label, amount, false]));
  return rows;
}
