import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { CFB_MAGIC, cfbHasStream, describeZip, isWordprocessingPackage, listZip } from './containers';
import { decodeWith, sniffEncoding, type TextEncoding } from './text-decode';
import { ENCRYPTED_OOXML_MEDIA_TYPE, MEDIA_TYPES, type DetectedFormat, type DocumentFormat } from './types';

const SUPPORTED = 'supported: PDF, DOCX, HTML, Markdown, plain text';

function unsupported(what: string): DomainError {
  return new DomainError(ErrorCode.UnsupportedType, `unsupported document type: ${what} (${SUPPORTED})`);
}

function startsWith(bytes: Buffer, prefix: string | number[], at = 0): boolean {
  const expected = typeof prefix === 'string' ? Buffer.from(prefix, 'latin1') : Buffer.from(prefix);
  return bytes.length >= at + expected.length && bytes.subarray(at, at + expected.length).equals(expected);
}

/** Binary formats we recognise only to refuse them with a clear name. */
const KNOWN_BINARIES: { what: string; test: (bytes: Buffer) => boolean }[] = [
  { what: 'PNG image', test: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { what: 'JPEG image', test: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { what: 'GIF image', test: (b) => startsWith(b, 'GIF87a') || startsWith(b, 'GIF89a') },
  { what: 'WebP image', test: (b) => startsWith(b, 'RIFF') && startsWith(b, 'WEBP', 8) },
  { what: 'TIFF image', test: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { what: 'BMP image', test: (b) => startsWith(b, 'BM') && b.length >= 26 && b.readUInt32LE(2) === b.length },
  { what: 'gzip archive', test: (b) => startsWith(b, [0x1f, 0x8b]) },
  { what: '7-Zip archive', test: (b) => startsWith(b, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { what: 'RAR archive', test: (b) => startsWith(b, 'Rar!\u001a\u0007') },
  { what: 'RTF document', test: (b) => startsWith(b, '{\\rtf') },
  { what: 'PostScript document', test: (b) => startsWith(b, '%!PS') },
  { what: 'ELF executable', test: (b) => startsWith(b, [0x7f, 0x45, 0x4c, 0x46]) },
  { what: 'SQLite database', test: (b) => startsWith(b, 'SQLite format 3\u0000') },
  { what: 'MP4/QuickTime media', test: (b) => startsWith(b, 'ftyp', 4) },
  { what: 'MP3 audio', test: (b) => startsWith(b, 'ID3') },
  { what: 'WebAssembly module', test: (b) => startsWith(b, [0x00, 0x61, 0x73, 0x6d]) },
];

/**
 * `%PDF-` at the start; or, as readers accept, within the first KB after some junk, but then the
 * file must also end like a PDF (so a text that merely mentions "%PDF-" stays text).
 */
function isPdf(bytes: Buffer): boolean {
  if (startsWith(bytes, '%PDF-')) return true;
  if (!bytes.subarray(0, 1024).includes('%PDF-', 0, 'latin1')) return false;
  const tail = bytes.subarray(Math.max(0, bytes.length - 2048));
  return tail.includes('%%EOF', 0, 'latin1') || tail.includes('startxref', 0, 'latin1');
}

function extension(filename: string | undefined): string {
  const match = /\.([a-z0-9]+)$/i.exec(filename ?? '');
  return match ? match[1].toLowerCase() : '';
}

const TEXT_EXTENSIONS: Record<string, DocumentFormat> = {
  md: 'markdown',
  markdown: 'markdown',
  mdown: 'markdown',
  mkd: 'markdown',
  mkdn: 'markdown',
  htm: 'html',
  html: 'html',
  xhtml: 'html',
  txt: 'text',
  text: 'text',
};

/** Markup that only HTML has, near the start of the text. */
export function looksLikeHtml(text: string): boolean {
  const head = text.slice(0, 4096).trimStart();
  if (!head.startsWith('<')) return false;
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*<!doctype html/i.test(head)) return true;
  if (/<html[\s>]/i.test(head) || /<(head|body)[\s>]/i.test(head)) return true;
  return /<\/(p|div|h[1-6]|table|ul|ol|li|section|article|span|a)>/i.test(head);
}

/** At least two kinds of Markdown structure, one of them a heading, or three kinds. */
export function looksLikeMarkdown(text: string): boolean {
  const sample = text.slice(0, 64 * 1024);
  const lines = sample.split('\n');
  const kinds = new Set<string>();
  let heading = false;
  lines.forEach((line, index) => {
    if (/^ {0,3}#{1,6}[ \t]+\S/.test(line)) heading = true;
    if (/^ {0,3}(=+|-+)[ \t]*$/.test(line) && index > 0 && /\S/.test(lines[index - 1]) && !/^\s*[-*+] /.test(lines[index - 1])) heading = true;
    if (/^ {0,3}(```|~~~)/.test(line)) kinds.add('fence');
    if (/^\s{0,6}([-*+]|\d{1,3}[.)])[ \t]+\S/.test(line)) kinds.add('list');
    if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)+\|?\s*$/.test(line)) kinds.add('table');
    if (/^ {0,3}>[ \t]?\S/.test(line)) kinds.add('quote');
  });
  if (/!?\[[^\]\n]+\]\([^)\s]+\)/.test(sample)) kinds.add('link');
  if (/(\*\*|__)\S[^\n]*?\S\1/.test(sample)) kinds.add('emphasis');
  if (/(^|[^`])`[^`\n]+`/.test(sample)) kinds.add('code');
  return (heading && kinds.size >= 1) || kinds.size >= 3;
}

export interface Detection extends DetectedFormat {
  /** Set for text formats: how to decode the bytes. */
  encoding?: TextEncoding;
}

function detect(bytes: Buffer, filename?: string): Detection {
  if (bytes.length === 0) throw new DomainError(ErrorCode.EmptyDocument, 'the document is empty (0 bytes)');

  // Binary formats: the content decides, whatever the file is called.
  if (isPdf(bytes)) return { format: 'pdf', mediaType: MEDIA_TYPES.pdf };
  if (startsWith(bytes, 'PK\u0003\u0004') || startsWith(bytes, 'PK\u0005\u0006')) {
    const listing = listZip(bytes);
    if (isWordprocessingPackage(listing, /\.doc[xm]$/i.test(filename ?? ''))) return { format: 'docx', mediaType: MEDIA_TYPES.docx };
    throw unsupported(describeZip(listing));
  }
  if (bytes.subarray(0, CFB_MAGIC.length).equals(CFB_MAGIC)) {
    if (cfbHasStream(bytes, 'EncryptedPackage')) return { format: 'docx', mediaType: ENCRYPTED_OOXML_MEDIA_TYPE };
    if (cfbHasStream(bytes, 'WordDocument')) throw unsupported('a legacy Word 97-2003 document (.doc)');
    throw unsupported('a legacy Microsoft Office (OLE2) file');
  }
  const known = KNOWN_BINARIES.find((binary) => binary.test(bytes));
  if (known) throw unsupported(known.what);

  // Text formats: the bytes must be text; the extension, then the structure, picks the format.
  const encoding = sniffEncoding(bytes);
  if (!encoding) throw unsupported('binary data, not text');
  if (bytes.length === encoding.bomLength) throw new DomainError(ErrorCode.EmptyDocument, 'the document is empty (only a byte order mark)');
  let format = TEXT_EXTENSIONS[extension(filename)];
  if (!format) {
    const sample = decodeWith(bytes.subarray(0, 64 * 1024), encoding);
    format = looksLikeHtml(sample) ? 'html' : looksLikeMarkdown(sample) ? 'markdown' : 'text';
  }
  return { format, mediaType: MEDIA_TYPES[format], encoding };
}

/**
 * The format of a document, decided by its content: magic bytes and container structure for PDF
 * and DOCX (a PDF named .txt is a PDF, a binary named .txt is refused), the filename extension or
 * the text's structure among HTML, Markdown and plain text. Throws EMPTY_DOCUMENT or
 * UNSUPPORTED_TYPE. A password-protected DOCX (an OLE2 EncryptedPackage) is reported as
 * `docx` with media type `application/x-tika-ooxml-protected`.
 */
export function detectFormat(bytes: Buffer, filename?: string): DetectedFormat {
  const { format, mediaType } = detect(bytes, filename);
  return { format, mediaType };
}

export { detect as detectWithEncoding };
