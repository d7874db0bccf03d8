import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** A PDF as poppler (Debian's poppler-utils) sees it: pages rendered to pixels, words with their boxes, embedded fonts. */

const run = promisify(execFile);

export interface Word {
  text: string;
  page: number;
  xMin: number;
  yMin: number;
  xMax: number;
  yMax: number;
}

export interface RenderedPage {
  width: number;
  height: number;
  /** 0 (black) … 255 (white), row by row. */
  pixels: Buffer;
}

async function withFile<T>(pdf: Buffer, use: (file: string, dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'poppler-'));
  const file = path.join(dir, 'document.pdf');
  fs.writeFileSync(file, pdf);
  try {
    return await use(file, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every word with its box in points (pdftotext -bbox), in reading order. */
export function wordsOf(pdf: Buffer): Promise<Word[]> {
  return withFile(pdf, async (file) => {
    const { stdout } = await run('pdftotext', ['-bbox', file, '-'], { maxBuffer: 64 * 1024 * 1024 });
    const words: Word[] = [];
    let page = 0;
    const decode = (text: string) => text.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");
    for (const match of stdout.matchAll(/<page [^>]*>|<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<\/word>/g)) {
      if (match[0].startsWith('<page')) page++;
      else words.push({ text: decode(match[5]), page, xMin: Number(match[1]), yMin: Number(match[2]), xMax: Number(match[3]), yMax: Number(match[4]) });
    }
    return words;
  });
}

/** The text of each page (pdftotext, reading order). */
export function pageTexts(pdf: Buffer): Promise<string[]> {
  return withFile(pdf, async (file) => {
    const { stdout } = await run('pdftotext', ['-layout', file, '-'], { maxBuffer: 64 * 1024 * 1024 });
    return stdout.split('\f').filter((text, index, all) => index < all.length - 1 || text.trim() !== '');
  });
}

/** The names of the fonts embedded in the PDF (pdffonts), without their subset prefix. */
export function fontsOf(pdf: Buffer): Promise<string[]> {
  return withFile(pdf, async (file) => {
    const { stdout } = await run('pdffonts', [file]);
    return stdout
      .split('\n')
      .slice(2)
      .filter((line) => line.trim() !== '')
      .map((line) => line.split(/\s+/)[0].replace(/^[A-Z]{6}\+/, ''));
  });
}

/** Every page rendered in grey at `dpi` (pdftoppm), as a reader's screen would show it. */
export function renderPages(pdf: Buffer, dpi = 36): Promise<RenderedPage[]> {
  return withFile(pdf, async (file, dir) => {
    await run('pdftoppm', ['-gray', '-r', String(dpi), file, path.join(dir, 'page')]);
    return fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.pgm'))
      .sort()
      .map((name) => readPgm(fs.readFileSync(path.join(dir, name))));
  });
}

/** A binary PGM (P5): header, then one byte per pixel. */
function readPgm(data: Buffer): RenderedPage {
  const header = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(data.subarray(0, 64).toString('latin1'));
  if (!header) throw new Error('pdftoppm did not write a binary PGM');
  const [width, height] = [Number(header[1]), Number(header[2])];
  return { width, height, pixels: data.subarray(header[0].length, header[0].length + width * height) };
}

/** The box (in pixels) that holds every pixel darker than `threshold`, or null on a blank page. */
export function inkBox(page: RenderedPage, threshold = 200): { left: number; top: number; right: number; bottom: number } | null {
  let box: { left: number; top: number; right: number; bottom: number } | null = null;
  for (let y = 0; y < page.height; y++) {
    for (let x = 0; x < page.width; x++) {
      if (page.pixels[y * page.width + x] >= threshold) continue;
      box = box ? { left: Math.min(box.left, x), top: Math.min(box.top, y), right: Math.max(box.right, x), bottom: Math.max(box.bottom, y) } : { left: x, top: y, right: x, bottom: y };
    }
  }
  return box;
}
