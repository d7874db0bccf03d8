import type { Config } from '../src/platform/config';
import { readCreditNoteDetailsOf, readCreditNoteOf, type CreditNoteDetails } from '../src/platform/credit-note';
import { addressLines, finalizedAtOf, issuerNamesOf } from '../src/platform/invoice';
import { renderCreditNoteDocument } from '../src/platform/pdf';
import { creditNoteParties } from '../src/store/credit-notes';
import { creditNoteDocumentToVoid, documentOfCreditNote, numberCreditNoteDocument, storeDocumentPdfs } from '../src/store/documents';
import { loadEventPayload } from '../src/store/events';
import { idOf, type Json, type StripeEvent } from '../src/platform/stripe-event';
import type { ActivityDependencies } from './dependencies';
import { customerAddressOf, type CustomerSources } from './customers';
import { creditNoteEmail, financeCreditNoteEmail, financeCreditNoteVoidedEmail } from './emails';
import { withdrawOutboxRow } from '../src/store/outbox';
import { sendOnce, sendOnceEach } from './outbox';
import { sellerOf } from './sellers';

type Settings = Pick<Config, 'MAIL_FROM' | 'FINANCE_EMAIL' | 'SELLER_NAME' | 'SELLER_ADDRESS' | 'SELLER_EMAIL' | 'SELLER_TAX_ID' | 'SELLER_LOGO_PATH'>;

/**
 * A credit note issued: its document, numbered in its own gap-free series (`CN-2026-000001`),
 * rendered once and emailed, once each, to the customer (when an email of theirs is known) and to
 * finance. A credit note voided before its document was numbered (its void came first) credited
 * nothing and gets none; one voided while its customer's email waited is not sent to the customer.
 */
async function sendCreditNoteDocument({ db, mailer, stripe }: Pick<ActivityDependencies, 'db' | 'mailer' | 'stripe'>, settings: Settings, event: StripeEvent): Promise<void> {
  const note = readCreditNoteDetailsOf(event);
  if (note.status === 'void') return;
  const account = event.account ?? null;
  const parties = await partiesOf({ db, stripe }, note, account, event.id);
  const seller = await sellerOf({ db, stripe }, settings, account, parties.invoice ? issuerNamesOf(parties.invoice) : undefined);
  const year = new Date((note.issuedAt ?? event.created) * 1000).getUTCFullYear();
  const numbered = await numberCreditNoteDocument(db, { creditNoteId: note.id, account, year, eventId: event.id });
  if (!numbered) return;
  if (!numbered.rendered) {
    const customer = { id: parties.customerId, name: parties.name, email: parties.email, address: addressLines(parties.address) };
    const pdf = await renderCreditNoteDocument({ number: numbered.number, seller, creditNote: note, invoiceNumber: parties.invoiceNumber, customer });
    await storeDocumentPdfs(db, [{ number: numbered.number, pdf }]);
  }
  const document = await documentOfCreditNote(db, note.id);
  if (!document) throw new Error(`credit note ${note.id} has no document yet`);

  const invoice = parties.invoiceNumber ?? note.invoiceId;
  const attachments = [{ filename: `${document.number}.pdf`, content: document.pdf, contentType: 'application/pdf' }];
  const about = `credit_note:${note.id}:document`;
  // A note voided while its emails waited (a mail server away, a retry later) no longer stands:
  // finance still gets the numbered document, the customer is not sent a credit that is gone.
  const voidedBeforeSent = Boolean(parties.email) && document.voided && (await withdrawOutboxRow(db, `${about}:customer`));
  const to = voidedBeforeSent ? null : parties.email;
  const notSentToCustomer = to ? null : voidedBeforeSent ? 'voided' : 'no_email';
  const recipients = [
    ...(to ? [{ role: 'customer', to, ...creditNoteEmail(note, invoice, parties.name, seller.name, document.number) }] : []),
    {
      role: 'finance',
      to: settings.FINANCE_EMAIL,
      ...financeCreditNoteEmail(note, { invoice, customer: parties.name ?? parties.customerId, account, sellerName: seller.name, document: document.number, notSentToCustomer }),
    },
  ];
  await sendOnceEach(db, mailer, settings.MAIL_FROM, about, recipients, { attachments, eventId: event.id });
}

/**
 * Who the credit note is to. The email is the invoice's as its payment recorded it, unless the
 * customer changed it since; a customer whose email no recorded payment gave is written to as
 * customer events described them, or, with a key, as Stripe answers for a customer no event
 * described (one created, and whose invoice was paid, before this service listened).
 */
async function partiesOf(sources: CustomerSources, note: CreditNoteDetails, account: string | null, eventId: string) {
  const parties = await creditNoteParties(sources.db, note.invoiceId, note.customerId);
  if (!parties.customerId) return parties;
  const emailAsOf = finalizedAtOf(parties.invoice);
  const email = await customerAddressOf(sources, { email: parties.email, customerId: parties.customerId, account, emailAsOf }, eventId);
  if (parties.email || !email) return { ...parties, email };
  // Looked up: the name and address came with the email.
  return creditNoteParties(sources.db, note.invoiceId, parties.customerId);
}

/**
 * A credit note voided after its document went out: finance is told, once, which document no
 * longer stands. The document itself stays as it was issued (its number is taken); the books
 * reverse the note (`credit_note.voided`).
 */
async function tellFinanceOfVoidedCreditNote({ db, mailer }: Pick<ActivityDependencies, 'db' | 'mailer'>, settings: Settings, event: StripeEvent): Promise<void> {
  const note = readCreditNoteOf(event);
  if (note.status !== 'void') return;
  const document = await creditNoteDocumentToVoid(db, note.id);
  if (!document) return;
  const parties = await creditNoteParties(db, note.invoiceId, idOf((event.data.object as Json).customer));
  await sendOnce(db, mailer, settings.MAIL_FROM, {
    key: `credit_note:${note.id}:voided:finance`,
    to: settings.FINANCE_EMAIL,
    ...financeCreditNoteVoidedEmail(note, { invoice: parties.invoiceNumber ?? note.invoiceId, customer: parties.name ?? parties.customerId, document }),
    eventId: event.id,
  });
}

export function creditNoteDocumentActivities(deps: ActivityDependencies) {
  return {
    async sendCreditNoteDocument(eventId: string): Promise<void> {
      await sendCreditNoteDocument(deps, deps.config, await loadEventPayload(deps.db, eventId));
    },

    async tellFinanceOfVoidedCreditNote(eventId: string): Promise<void> {
      await tellFinanceOfVoidedCreditNote(deps, deps.config, await loadEventPayload(deps.db, eventId));
    },
  };
}
