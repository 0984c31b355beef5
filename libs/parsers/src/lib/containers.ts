import { constants, inflateRawSync } from 'node:zlib';

/** What a quick look at a zip archive tells: its entry names and the OOXML content types. */
export interface ZipListing {
  names: string[];
  /** False when the central directory is missing (truncated file): names come from local headers. */
  complete: boolean;
  contentTypes?: string;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_LISTED = 100_000;
const MAX_CONTENT_TYPES_BYTES = 1024 * 1024;

function findEndOfCentralDirectory(bytes: Buffer): number {
  const earliest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let offset = bytes.length - 22; offset >= earliest; offset -= 1) {
    if (bytes.readUInt32LE(offset) === EOCD) return offset;
  }
  return -1;
}

function centralDirectoryStart(bytes: Buffer, eocd: number): number {
  const offset = bytes.readUInt32LE(eocd + 16);
  if (offset !== 0xffffffff) return offset;
  const locator = eocd - 20;
  if (locator < 0 || bytes.readUInt32LE(locator) !== ZIP64_LOCATOR) return -1;
  const zip64 = Number(bytes.readBigUInt64LE(locator + 8));
  if (zip64 + 56 > bytes.length || bytes.readUInt32LE(zip64) !== ZIP64_EOCD) return -1;
  return Number(bytes.readBigUInt64LE(zip64 + 48));
}

/** Inflates one small entry by its local header (used for [Content_Types].xml only). */
function readSmallEntry(bytes: Buffer, localOffset: number, method: number, compressedSize: number): string | undefined {
  if (localOffset + 30 > bytes.length || bytes.readUInt32LE(localOffset) !== LOCAL) return undefined;
  const start = localOffset + 30 + bytes.readUInt16LE(localOffset + 26) + bytes.readUInt16LE(localOffset + 28);
  const data = bytes.subarray(start, Math.min(bytes.length, start + compressedSize));
  try {
    if (method === 0) return data.subarray(0, MAX_CONTENT_TYPES_BYTES).toString('utf8');
    if (method === 8) {
      // Sync flush: a truncated entry still yields what was decoded so far.
      const options = { maxOutputLength: MAX_CONTENT_TYPES_BYTES, finishFlush: constants.Z_SYNC_FLUSH };
      return inflateRawSync(data, options).toString('utf8');
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function listFromLocalHeaders(bytes: Buffer): ZipListing {
  const names: string[] = [];
  let contentTypes: string | undefined;
  let offset = 0;
  while (offset + 30 <= bytes.length && names.length < MAX_LISTED) {
    if (bytes.readUInt32LE(offset) !== LOCAL) {
      const next = bytes.indexOf('PK\u0003\u0004', offset + 1, 'latin1');
      if (next < 0) break;
      offset = next;
      continue;
    }
    const nameLength = bytes.readUInt16LE(offset + 26);
    const name = bytes.toString('utf8', offset + 30, Math.min(bytes.length, offset + 30 + nameLength));
    names.push(name);
    if (name === '[Content_Types].xml') {
      contentTypes = readSmallEntry(bytes, offset, bytes.readUInt16LE(offset + 8), bytes.readUInt32LE(offset + 18));
    }
    const next = bytes.indexOf('PK\u0003\u0004', offset + 30 + nameLength, 'latin1');
    if (next < 0) break;
    offset = next;
  }
  return { names, complete: false, contentTypes };
}

/** Entry names of a zip archive, from its central directory (or local headers when truncated). */
export function listZip(bytes: Buffer): ZipListing {
  const eocd = findEndOfCentralDirectory(bytes);
  const start = eocd < 0 ? -1 : centralDirectoryStart(bytes, eocd);
  if (start < 0 || start >= bytes.length) return listFromLocalHeaders(bytes);
  const names: string[] = [];
  let contentTypes: string | undefined;
  let offset = start;
  while (offset + 46 <= bytes.length && bytes.readUInt32LE(offset) === CENTRAL && names.length < MAX_LISTED) {
    const nameLength = bytes.readUInt16LE(offset + 28);
    const extraLength = bytes.readUInt16LE(offset + 30);
    const commentLength = bytes.readUInt16LE(offset + 32);
    const name = bytes.toString('utf8', offset + 46, Math.min(bytes.length, offset + 46 + nameLength));
    names.push(name);
    if (name === '[Content_Types].xml') {
      const method = bytes.readUInt16LE(offset + 10);
      const compressedSize = bytes.readUInt32LE(offset + 20);
      const localOffset = bytes.readUInt32LE(offset + 42);
      if (compressedSize !== 0xffffffff && localOffset !== 0xffffffff) {
        contentTypes = readSmallEntry(bytes, localOffset, method, compressedSize);
      }
    }
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return { names, complete: true, contentTypes };
}

const WORD_MAIN_TYPES = [
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
  'application/vnd.ms-word.document.macroEnabled.main+xml',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml',
  'application/vnd.ms-word.template.macroEnabledTemplate.main+xml',
];

export function isWordprocessingPackage(listing: ZipListing, claimsDocx: boolean): boolean {
  if (listing.names.includes('word/document.xml')) return true;
  if (listing.contentTypes && WORD_MAIN_TYPES.some((type) => listing.contentTypes?.includes(type))) return true;
  if (listing.complete) return false;
  // A truncated file: the central directory is gone, but the parts read so far say what it was,
  // or for an OOXML package cut off too early to tell, the name does.
  const other = listing.names.some((name) => name.startsWith('xl/') || name.startsWith('ppt/'));
  if (listing.names.some((name) => name.startsWith('word/'))) return true;
  return !other && claimsDocx && listing.names.includes('[Content_Types].xml');
}

/** A short description of a zip that is not a Word document, for the error message. */
export function describeZip(listing: ZipListing): string {
  const has = (prefix: string) => listing.names.some((name) => name.startsWith(prefix));
  if (has('xl/')) return 'an Excel workbook (XLSX)';
  if (has('ppt/')) return 'a PowerPoint presentation (PPTX)';
  if (listing.names.includes('mimetype') && has('META-INF/')) return 'an OpenDocument or EPUB package';
  return 'a ZIP archive that is not a Word document';
}

export const CFB_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/**
 * Whether an OLE2 compound file (CFB) holds a directory entry with this name. Directory entries
 * are 128 bytes, aligned to 128 within sectors (which start after the header sector), with the
 * name in UTF-16LE and its byte length (with the terminating NUL) at offset 64.
 */
export function cfbHasStream(bytes: Buffer, name: string): boolean {
  const needle = Buffer.from(`${name}\u0000`, 'utf16le');
  let from = 512;
  for (;;) {
    const found = bytes.indexOf(needle, from);
    if (found < 0) return false;
    if (found % 128 === 0 && found + 66 <= bytes.length && bytes.readUInt16LE(found + 64) === needle.length) return true;
    from = found + 1;
  }
}
