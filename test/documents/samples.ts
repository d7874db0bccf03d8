import { readInvoice, type InvoiceFacts } from '../../src/platform/invoice';
import type { DocumentContent, Seller } from '../../src/platform/pdf';
import { paidInvoice } from '../support/billing-events';

/** Invoices as Stripe sends them, for the document tests and the samples in docs/. */

export const seller: Seller = {
  name: 'Acme Analytics GmbH',
  address: 'Friedrichstraße 68, 10117 Berlin, Germany',
  email: 'billing@acme-analytics.example',
  taxId: 'DE 312 456 789',
};

const nov = (day: number) => Date.UTC(2026, 10, day) / 1000;
const dec = (day: number) => Date.UTC(2026, 11, day) / 1000;

/** A subscription invoice: a plan with seats, a proration, a one-off, a coupon and VAT per rate. */
export function subscriptionInvoice(overrides: Record<string, unknown> = {}): InvoiceFacts {
  return readInvoice({
    ...paidInvoice({ subtotal: 30_900, tax: 5_512, customerEmail: 'yuki@example.jp' }),
    number: 'ACME-2026-0042',
    customer_name: 'Yamada Yuki',
    customer_address: { line1: 'Friedrichstraße 12', line2: 'Aufgang B', postal_code: '10117', city: 'Berlin', state: null, country: 'DE' },
    customer_tax_ids: [{ type: 'eu_vat', value: 'DE123456789' }],
    currency: 'eur',
    subtotal: 30_900,
    total: 34_522,
    amount_due: 34_522,
    amount_paid: 34_522,
    amount_remaining: 0,
    effective_at: nov(3),
    due_date: nov(17),
    status_transitions: { finalized_at: nov(3), paid_at: nov(3) },
    total_discount_amounts: [{ amount: 1_890, discount: 'di_launch' }],
    total_taxes: [{ amount: 5_512, tax_behavior: 'exclusive', taxable_amount: 29_010, tax_rate_details: { tax_rate: 'txr_de_vat' }, type: 'tax_rate_details' }],
    lines: {
      object: 'list',
      data: [
        { amount: 24_500, quantity: 5, description: '5 × Team plan (at €49.00 / month)', price: { unit_amount: 4_900 }, period: { start: nov(3), end: dec(3) } },
        { amount: 4_400, quantity: 1, description: 'Remaining time on 1 × Team plan after 12 Nov 2026', period: { start: nov(12), end: dec(3) } },
        { amount: 2_000, quantity: 2, description: 'Onboarding workshop (2 hours)', price: { unit_amount: 1_000 }, period: { start: nov(3), end: nov(3) } },
      ],
    },
    ...overrides,
  });
}

export function documentOf(kind: DocumentContent['kind'], invoice: InvoiceFacts, number = kind === 'receipt' ? 'R-2026-000042' : 'INV-2026-000042'): DocumentContent {
  return { kind, number, seller, invoice, paidAt: new Date(nov(3) * 1000), paymentMethod: 'VISA •••• 4242' };
}

/** Customer names in the scripts a Stripe customer can write them in. */
export const namesInScripts = {
  Japanese: '山田 太郎',
  Chinese: '王小明',
  Korean: '김민준',
  Arabic: 'محمد علي',
  Hebrew: 'דוד לוי',
  Devanagari: 'राहुल शर्मा',
  Bengali: 'অমিত রায়',
  Tamil: 'கார்த்திக்',
  Thai: 'สมชาย ใจดี',
  Greek: 'Ελένη Παπαδοπούλου',
  Cyrillic: 'Иван Петров',
  Armenian: 'Արամ Պետրոսյան',
  Georgian: 'გიორგი ბერიძე',
  Ethiopic: 'አበበ በቀለ',
  Vietnamese: 'Nguyễn Thị Hồng',
  Polish: 'Łukasz Wróbel',
} as const;
