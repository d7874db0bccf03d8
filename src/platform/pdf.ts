import PDFDocument from 'pdfkit';
import { formatAmount } from './money';
import type { InvoiceFacts } from './invoice';

/** The two documents of a payment. */
export type DocumentKind = 'receipt' | 'invoice';

export interface Seller {
  name: string;
  address: string;
  email: string;
  taxId?: string;
}

export interface DocumentContent {
  kind: DocumentKind;
  number: string;
  seller: Seller;
  invoice: InvoiceFacts;
  paidAt: Date;
  paymentMethod: string;
}

const titles: Record<DocumentKind, string> = { receipt: 'Receipt', invoice: 'Invoice' };

/** Renders a receipt or an invoice as a PDF. */
export function renderDocument(content: DocumentContent): Promise<Buffer> {
  const { invoice, seller } = content;
  const money = (amount: number) => formatAmount(amount, invoice.currency);
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: `${titles[content.kind]} ${content.number}`, Author: seller.name },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.fontSize(20).text(`${titles[content.kind]} ${content.number}`);
  doc.moveDown(0.5).fontSize(10);
  doc.text(seller.name).text(seller.address).text(seller.email);
  if (seller.taxId) doc.text(`Tax ID: ${seller.taxId}`);

  doc.moveDown();
  doc.text(`Billed to: ${invoice.customerName ?? invoice.customerEmail ?? invoice.customerId ?? 'Customer'}`);
  if (invoice.customerEmail) doc.text(invoice.customerEmail);
  doc.text(`Stripe invoice: ${invoice.number ?? invoice.id}`);
  doc.text(`Paid on: ${content.paidAt.toISOString().slice(0, 10)}`);
  doc.text(`Payment method: ${content.paymentMethod}`);

  doc.moveDown();
  doc.fontSize(11).text('Items', { underline: true }).fontSize(10);
  for (const line of invoice.lines) {
    doc.text(`${line.quantity} × ${line.description}`, { continued: true }).text(`  ${money(line.amount)}`, { align: 'right' });
  }

  doc.moveDown();
  for (const [label, amount] of documentTotals(invoice, content.kind)) {
    doc.text(`${label}: ${money(amount)}`, { align: 'right' });
  }
  if (invoice.taxInclusive > 0) doc.text(`Total includes tax of ${money(invoice.taxInclusive)}.`, { align: 'right' });
  doc.moveDown().fontSize(8).text(`All amounts in ${invoice.currency.toUpperCase()}.`);
  doc.end();
  return done;
}

/**
 * The totals block, built so that it adds up whatever the invoice carries: the discount is what
 * separates the line amounts from the total (line-level and invoice-level discounts alike,
 * which Stripe reports in different fields), exclusive tax is added, inclusive tax is already
 * inside the lines. Then what the customer balance took and, on a receipt, what was paid.
 */
export function documentTotals(invoice: InvoiceFacts, kind: DocumentKind): [string, number][] {
  const lines = invoice.lines.reduce((sum, line) => sum + line.amount, 0);
  const taxAdded = invoice.tax - invoice.taxInclusive;
  const discount = lines + taxAdded - invoice.total;
  const totals: [string, number][] = [['Subtotal', lines]];
  if (discount !== 0) totals.push(['Discount', -discount]);
  if (taxAdded !== 0) totals.push(['Tax', taxAdded]);
  totals.push(['Total', invoice.total]);
  if (invoice.balanceApplied > 0) totals.push(['Applied from credit balance', -invoice.balanceApplied]);
  if (invoice.balanceApplied < 0) totals.push(['Added from account balance', -invoice.balanceApplied]);
  if (invoice.amountDue !== invoice.total - invoice.balanceApplied) {
    totals.push(['Credit notes', invoice.amountDue - (invoice.total - invoice.balanceApplied)]);
  }
  if (kind === 'receipt') {
    totals.push([invoice.paidOutOfBand ? 'Amount paid (outside Stripe)' : 'Amount paid', invoice.paidOutOfBand ? invoice.amountPaid || invoice.amountDue : invoice.amountPaid]);
  } else {
    totals.push(['Amount due', invoice.amountDue]);
  }
  return totals;
}
