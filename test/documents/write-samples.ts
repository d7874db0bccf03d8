/**
 * Writes the sample receipt and invoice in docs/ (PDF, and page 1 as PNG for the README) from
 * the same invoice the document tests render: `npx tsx test/documents/write-samples.ts`.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { renderDocument } from '../../src/platform/pdf';
import { documentOf, subscriptionInvoice } from './samples';

async function main() {
  const docs = path.join(__dirname, '..', '..', 'docs');
  for (const kind of ['receipt', 'invoice'] as const) {
    const pdf = await renderDocument(documentOf(kind, subscriptionInvoice()));
    const file = path.join(docs, `sample-${kind}.pdf`);
    fs.writeFileSync(file, pdf);
    execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', file, path.join(docs, `sample-${kind}`)]);
    console.log(`wrote ${file} and its .png`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
