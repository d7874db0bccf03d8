import { execFile } from 'node:child_process';
import path from 'node:path';

/** The text of a PDF, read by a real PDF parser (pdf.js), which also shows the file is valid. */
export function pdfText(pdf: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [path.join(__dirname, 'pdf-text.js')], (err, stdout, stderr) =>
      err ? reject(new Error(`not a readable PDF: ${stderr || err.message}`)) : resolve(stdout),
    );
    child.stdin!.end(pdf);
  });
}
