/**
 * PDF → text of each page, with pdf.js (legacy build for Node). Runs only inside the parse worker:
 * pdf.js is ESM-only, and jest's module system cannot load it. Imports npm packages and Node
 * built-ins only (see parse-worker.ts for why).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TextContent, TextItem } from 'pdfjs-dist/types/src/display/api';
import type { PdfResult, WorkerErrorCode } from './protocol';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');

interface PdfJsSetup {
  pdfjs: PdfJs;
  cMapUrl: string;
  standardFontDataUrl: string;
}

function fail(code: WorkerErrorCode, message: string): never {
  throw Object.assign(new Error(message), { quarryCode: code });
}

let setup: Promise<PdfJsSetup> | undefined;

/** Loads pdf.js once per worker, with its "worker" code in this thread (no nested worker). */
function loadPdfJs(moduleDir: string): Promise<PdfJsSetup> {
  setup ??= (async () => {
    const root = dirname(createRequire(join(moduleDir, 'index.js')).resolve('pdfjs-dist/package.json'));
    // While it loads, pdf.js warns that the optional canvas package (only needed to render) is
    // missing; keep that noise out of the service's log.
    const log = console.log; // eslint-disable-line no-console
    console.log = () => undefined; // eslint-disable-line no-console
    try {
      const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
      const pdfWorker = await import('pdfjs-dist/legacy/build/pdf.worker.mjs');
      (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker = pdfWorker;
      return {
        pdfjs,
        cMapUrl: join(root, 'cmaps') + '/',
        standardFontDataUrl: join(root, 'standard_fonts') + '/',
      };
    } finally {
      console.log = log; // eslint-disable-line no-console
    }
  })();
  return setup;
}

/**
 * pdf.js 6 has no code path that compiles PDF content with eval/new Function any more (the option
 * left its typings); passed anyway so that an older pdf.js would still run without eval.
 */
const NO_EVAL = { isEvalSupported: false };

function isTextItem(item: TextContent['items'][number]): item is TextItem {
  return 'str' in item;
}

interface Line {
  text: string;
  /** Baseline y of the line's first item (PDF user space: grows upwards). */
  y: number;
  height: number;
}

/**
 * Text of one page in content-stream order (so the columns of a two-column page stay whole):
 * lines as pdf.js ends them, a blank line where the vertical gap is clearly wider than the page's
 * usual line spacing (and than the lines' own font size) or the text jumps up (next column).
 */
export function pageText(content: TextContent): string {
  const lines: Line[] = [];
  let current: Line | undefined;
  for (const item of content.items) {
    if (!isTextItem(item)) continue;
    if (item.str) {
      if (!current) {
        const [, , , scaleY, , y] = item.transform as number[];
        current = { text: '', y, height: Math.abs(scaleY) || item.height };
        lines.push(current);
      }
      current.text += item.str;
    }
    if (item.hasEOL) current = undefined;
  }
  const gaps = lines
    .slice(1)
    .map((line, index) => lines[index].y - line.y)
    .filter((gap) => gap > 0)
    .sort((a, b) => a - b);
  const usualGap = gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)] : 0;
  let text = '';
  lines.forEach((line, index) => {
    const trimmed = line.text.replace(/\s+$/u, '');
    if (index > 0) {
      const previous = lines[index - 1];
      const gap = previous.y - line.y;
      const spacing = Math.max(usualGap, previous.height * 1.15, line.height * 1.15);
      const paragraphBreak = gap < -line.height || (usualGap > 0 && gap > spacing * 1.4 + 1);
      text += paragraphBreak ? '\n\n' : '\n';
    }
    text += trimmed;
  });
  return text.trim();
}

function infoString(info: unknown, key: string): string | undefined {
  if (typeof info !== 'object' || info === null) return undefined;
  const value = (info as Record<string, unknown>)[key];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function describe(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'Error', message: String(error) };
}

/** Turns what pdf.js throws while opening a document into a typed failure. */
function openFailure(error: unknown): never {
  const { name, message } = describe(error);
  if (name === 'PasswordException') {
    fail('PASSWORD_REQUIRED', 'password required: the PDF is encrypted with a user password');
  }
  if (error instanceof RangeError) fail('RESOURCE_LIMIT', `the PDF is too large to read: ${message}`);
  fail('CORRUPT_DOCUMENT', `corrupt PDF: ${message || name}`);
}

export async function extractPdf(data: Uint8Array, moduleDir: string): Promise<PdfResult> {
  const { pdfjs, cMapUrl, standardFontDataUrl } = await loadPdfJs(moduleDir);
  const loadingTask = pdfjs.getDocument({
    ...NO_EVAL,
    data,
    cMapUrl,
    cMapPacked: true,
    standardFontDataUrl,
    useSystemFonts: false,
    disableFontFace: true,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    enableXfa: false,
    useWasm: false,
    stopAtErrors: false,
    verbosity: 0,
  });
  try {
    const doc = await loadingTask.promise.catch(openFailure);
    const pages: string[] = [];
    let failedPages = 0;
    let lastError = '';
    for (let number = 1; number <= doc.numPages; number += 1) {
      try {
        const page = await doc.getPage(number);
        pages.push(pageText(await page.getTextContent({ includeMarkedContent: false })));
        page.cleanup();
      } catch (error) {
        if (error instanceof RangeError) throw error;
        failedPages += 1;
        lastError = describe(error).message;
        pages.push('');
      }
    }
    if (doc.numPages > 0 && failedPages === doc.numPages) {
      fail('CORRUPT_DOCUMENT', `corrupt PDF: no page could be read (${lastError})`);
    }
    const { info, metadata } = await doc.getMetadata().catch(() => ({ info: undefined, metadata: null }));
    const title = infoString(info, 'Title') ?? (metadata?.get('dc:title') as string | undefined) ?? undefined;
    return { kind: 'pdf', pages, title: title || undefined, author: infoString(info, 'Author') };
  } finally {
    await loadingTask.destroy();
  }
}
