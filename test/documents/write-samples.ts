/**
 * Writes the sample receipt, invoice and credit note in docs/ (PDF, and page 1 as PNG for the README) from
 * the same invoice the document tests render: `npx tsx test/documents/write-samples.ts`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { renderCreditNoteDocument, renderDocument } from '../../src/platform/pdf';
import { creditNoteSample, documentOf, subscriptionInvoice } from './samples';

async function main() {
  const docs = path.join(__dirname, '..', '..', 'docs');
  const samples = {
    receipt: () => renderDocument(documentOf('receipt', subscriptionInvoice())),
    invoice: () => renderDocument(documentOf('invoice', subscriptionInvoice())),
    'credit-note': () => renderCreditNoteDocument(creditNoteSample()),
  };
  for (const [name, render] of Object.entries(samples)) {
    const file = path.join(docs, `sample-${name}.pdf`);
    fs.writeFileSync(file, await render());
    execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', file, path.join(docs, `sample-${name}`)]);
    console.log(`wrote ${file} and its .png`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
