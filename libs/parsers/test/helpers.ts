import { isDomainError } from '@quarry/domain';
import { repoRoot } from '@quarry/testing';
import { crc32, deflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import type { ParsedDocument } from '../src';

/** The shared third-party fixtures (CI clones the repo with shared/ beside it). */
export const FIXTURES = join(repoRoot(), '..', 'shared', 'data', 'docs');

export const normalise = (text: string) => text.replace(/\s+/g, ' ').trim();

/** All section texts of a document, whitespace collapsed. */
export const allText = (document: ParsedDocument) => normalise(document.sections.map((section) => section.text).join('\n\n'));

/** The code of the DomainError a promise rejects with (fails the test if it resolves or throws something else). */
export async function failureOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isDomainError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a DomainError, but the promise resolved');
}

export interface ZipEntrySpec {
  name: string;
  data: Buffer;
  /** Written into the headers instead of the real size (to build lying archives). */
  declaredSize?: number;
}

/** A minimal zip archive (deflate, no data descriptors), built by hand. */
export function buildZip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data);
    const crc = crc32(entry.data);
    const size = entry.declaredSize ?? entry.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
  '<Default Extension="xml" ContentType="application/xml"/>' +
  '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';

const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';

/** A DOCX whose body is the given WordprocessingML, plus any extra entries. */
export function buildDocxBody(body: string, extra: ZipEntrySpec[] = []): Buffer {
  const document = `<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>${body}</w:body></w:document>`;
  return buildZip([
    { name: '[Content_Types].xml', data: Buffer.from(CONTENT_TYPES) },
    { name: 'word/document.xml', data: Buffer.from(document) },
    ...extra,
  ]);
}

/** A DOCX with one paragraph, plus any extra entries. */
export function buildDocx(text: string, extra: ZipEntrySpec[] = []): Buffer {
  return buildDocxBody(`<w:p><w:r><w:t>${text}</w:t></w:r></w:p>`, extra);
}

/** word/styles.xml defining the given paragraph styles (id → name, e.g. Heading1 → heading 1). */
export function stylesPart(styles: Record<string, string>): ZipEntrySpec {
  const definitions = Object.entries(styles)
    .map(([id, name]) => `<w:style w:type="paragraph" w:styleId="${id}"><w:name w:val="${name}"/></w:style>`)
    .join('');
  return { name: 'word/styles.xml', data: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><w:styles ${W}>${definitions}</w:styles>`) };
}
