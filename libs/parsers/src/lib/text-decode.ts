import { analyse } from 'chardet';
import * as iconv from 'iconv-lite';

/** How a text file is encoded; `null` from `sniffEncoding` means the bytes are not text. */
export interface TextEncoding {
  /** iconv-lite name: utf-8, utf-16le, windows-1252, shift_jis … */
  encoding: string;
  /** Length of the byte order mark to skip. */
  bomLength: number;
}

const SAMPLE_BYTES = 64 * 1024;

const BOMS: { bytes: number[]; encoding: string }[] = [
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bytes: [0xff, 0xfe, 0x00, 0x00], encoding: 'utf-32le' },
  { bytes: [0x00, 0x00, 0xfe, 0xff], encoding: 'utf-32be' },
  { bytes: [0xff, 0xfe], encoding: 'utf-16le' },
  { bytes: [0xfe, 0xff], encoding: 'utf-16be' },
];

function startsWithBytes(bytes: Uint8Array, prefix: number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);
}

/** UTF-16 without a BOM: in text that is mostly Latin script every other byte is zero. */
function utf16WithoutBom(sample: Uint8Array): string | undefined {
  const pairs = Math.floor(sample.length / 2);
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let index = 0; index + 1 < sample.length; index += 2) {
    if (sample[index] === 0) evenZeros += 1;
    if (sample[index + 1] === 0) oddZeros += 1;
  }
  if (oddZeros > pairs * 0.3 && evenZeros < pairs * 0.02) return 'utf-16le';
  if (evenZeros > pairs * 0.3 && oddZeros < pairs * 0.02) return 'utf-16be';
  return undefined;
}

/** Control bytes that do not occur in text (everything below 0x20 but tab, newlines, FF, ESC). */
function controlBytes(sample: Uint8Array): number {
  let count = 0;
  for (const byte of sample) {
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) || byte === 0x7f) {
      count += 1;
    }
  }
  return count;
}

function isUtf8(sample: Uint8Array, truncated: boolean): boolean {
  let end = sample.length;
  if (truncated) {
    // Do not judge a multi-byte character cut off by the sample's end.
    let back = 0;
    while (back < 3 && end - back - 1 >= 0 && (sample[end - back - 1] & 0xc0) === 0x80) back += 1;
    if (end - back - 1 >= 0 && sample[end - back - 1] >= 0xc0) end = end - back - 1;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/** Legacy single- and multi-byte encodings, guessed by chardet; ISO-8859-1 read as its superset. */
function guessLegacy(sample: Uint8Array): string {
  for (const candidate of analyse(sample)) {
    const name = candidate.name.toLowerCase();
    if (name.startsWith('utf') || candidate.confidence < 10) continue;
    if (name === 'iso-8859-1' || name === 'ascii') return 'windows-1252';
    if (iconv.encodingExists(name)) return name;
  }
  return 'windows-1252';
}

/** The encoding of text bytes, or `null` when they are binary. */
export function sniffEncoding(bytes: Uint8Array): TextEncoding | null {
  for (const bom of BOMS) {
    if (startsWithBytes(bytes, bom.bytes)) return { encoding: bom.encoding, bomLength: bom.bytes.length };
  }
  const sample = bytes.subarray(0, SAMPLE_BYTES);
  if (sample.includes(0)) {
    const utf16 = utf16WithoutBom(sample);
    return utf16 ? { encoding: utf16, bomLength: 0 } : null;
  }
  if (controlBytes(sample) > Math.max(2, sample.length * 0.01)) return null;
  if (isUtf8(sample, bytes.length > sample.length)) return { encoding: 'utf-8', bomLength: 0 };
  return { encoding: guessLegacy(sample), bomLength: 0 };
}

/** `<meta charset>` or `http-equiv` content type in an HTML head, when iconv-lite knows it. */
export function htmlDeclaredEncoding(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 2048)).toString('latin1');
  const match =
    /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head) ?? /<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)/i.exec(head);
  if (!match) return undefined;
  const name = match[1].toLowerCase();
  if (name === 'iso-8859-1' || name === 'us-ascii' || name === 'latin1') return 'windows-1252';
  // A document that declares UTF-16 in ASCII bytes cannot be UTF-16 (WHATWG reads it as UTF-8).
  if (name.startsWith('utf-16')) return 'utf-8';
  return iconv.encodingExists(name) ? name : undefined;
}

/** Decodes text bytes: BOM dropped, line ends made `\n`, stray control characters removed. */
export function decodeWith(bytes: Uint8Array, { encoding, bomLength }: TextEncoding): string {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset + bomLength, bytes.byteLength - bomLength);
  const text = encoding === 'utf-8' ? body.toString('utf8') : iconv.decode(body, encoding, { stripBOM: false });
  return text
    .replace(/^\ufeff/, '')
    .replace(/\r\n?|\f/g, '\n')
    .replace(/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/g, ''); // eslint-disable-line no-control-regex
}
