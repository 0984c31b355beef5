/**
 * DOCX → blocks, inside the parse worker. The zip is opened with yauzl first: entry count and the
 * declared decompressed sizes are checked against the limits from the central directory before a
 * single byte is inflated, and every entry is then inflated by yauzl, which stops any entry that
 * inflates past its declared size. Mammoth gets those checked parts (never the raw zip), reads the
 * body (paragraphs, tables, lists, text boxes, hyperlinks, footnotes, endnotes, comments) and hands over
 * its document tree, which is walked here. Headers and footers (mammoth skips them) and list
 * labels (mammoth keeps only "ordered or not") are read from the XML parts directly.
 *
 * Imports npm packages and Node built-ins only (see parse-worker.ts for why).
 */
import type { ChildNode as XmlNode, Element as XmlElement } from 'domhandler';
import { DomUtils, parseDocument } from 'htmlparser2';
import mammoth from 'mammoth';
import numberingXml from 'mammoth/lib/docx/numbering-xml.js';
import * as yauzl from 'yauzl';
import type { Block, BlocksResult, WorkerErrorCode } from './protocol';

function fail(code: WorkerErrorCode, message: string): never {
  throw Object.assign(new Error(message), { quarryCode: code });
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

// ---------------------------------------------------------------------------------------------
// Zip: limits first, then bounded inflation.

interface DocxParts {
  names: Set<string>;
  read(name: string): Promise<Buffer>;
  close(): void;
}

async function openParts(data: Uint8Array, maxDecompressedBytes: number, maxZipEntries: number): Promise<DocxParts> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(Buffer.from(data.buffer, data.byteOffset, data.byteLength), {
      lazyEntries: true,
      autoClose: false,
      validateEntrySizes: true,
      strictFileNames: false,
    });
  } catch (error) {
    fail('CORRUPT_DOCUMENT', `corrupt DOCX: the zip container cannot be read (${(error as Error).message})`);
  }
  if (zip.entryCount > maxZipEntries) {
    zip.close();
    fail('RESOURCE_LIMIT', `the DOCX has ${zip.entryCount} zip entries, more than the limit of ${maxZipEntries}`);
  }
  const entries = new Map<string, yauzl.Entry>();
  let declared = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      declared += entry.uncompressedSize;
      if (declared > maxDecompressedBytes) {
        fail(
          'RESOURCE_LIMIT',
          `the DOCX would decompress to more than ${megabytes(maxDecompressedBytes)} (limit); refusing a possible zip bomb`,
        );
      }
      if (!entry.fileName.endsWith('/')) entries.set(entry.fileName.replace(/^\//, ''), entry);
    }
  } catch (error) {
    zip.close();
    if (typeof error === 'object' && error !== null && 'quarryCode' in error) throw error;
    fail('CORRUPT_DOCUMENT', `corrupt DOCX: the zip directory is damaged (${(error as Error).message})`);
  }
  const cache = new Map<string, Promise<Buffer>>();
  const inflate = async (name: string): Promise<Buffer> => {
    const entry = entries.get(name);
    if (!entry) throw new Error(`no zip entry ${name}`);
    if (entry.isEncrypted()) fail('PASSWORD_REQUIRED', 'password required: the DOCX zip entries are encrypted');
    try {
      const stream = await zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    } catch (error) {
      const message = (error as Error).message;
      if (/too many bytes/i.test(message)) {
        fail('RESOURCE_LIMIT', `the DOCX part ${name} inflates past its declared size; refusing a possible zip bomb`);
      }
      fail('CORRUPT_DOCUMENT', `corrupt DOCX: part ${name} cannot be read (${message})`);
    }
  };
  return {
    names: new Set(entries.keys()),
    read(name) {
      let part = cache.get(name);
      if (!part) {
        part = inflate(name);
        cache.set(name, part);
      }
      return part;
    },
    close: () => zip.close(),
  };
}

/** The zip-file interface mammoth's reader uses (mammoth/lib/zipfile.js), over the checked parts. */
function mammothFile(parts: DocxParts): unknown {
  return {
    exists: (name: string) => parts.names.has(name),
    read: async (name: string, encoding?: string) => {
      const bytes = await parts.read(name);
      if (encoding === 'base64') return bytes.toString('base64');
      if (encoding) return new TextDecoder(encoding).decode(bytes);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    write: () => {
      throw new Error('read-only');
    },
    toArrayBuffer: () => {
      throw new Error('read-only');
    },
  };
}

async function readXml(parts: DocxParts, name: string): Promise<XmlElement[] | undefined> {
  if (!parts.names.has(name)) return undefined;
  const text = (await parts.read(name)).toString('utf8');
  return parseDocument(text, { xmlMode: true }).children.filter(isElement);
}

// ---------------------------------------------------------------------------------------------
// Small XML helpers (namespaced tag names as written: Word always uses the `w:` prefix).

function isElement(node: XmlNode): node is XmlElement {
  return 'attribs' in node && 'name' in node;
}

function childElements(node: XmlElement, name?: string): XmlElement[] {
  return node.children.filter(isElement).filter((child) => !name || child.name === name);
}

function firstChild(node: XmlElement | undefined, name: string): XmlElement | undefined {
  return node ? childElements(node, name)[0] : undefined;
}

function val(node: XmlElement | undefined): string | undefined {
  return node?.attribs['w:val'];
}

function findAll(roots: XmlElement[], name: string): XmlElement[] {
  return DomUtils.getElementsByTagName(name, roots, true);
}

// ---------------------------------------------------------------------------------------------
// List labels from numbering.xml (and numbering styles from styles.xml).

interface LevelDefinition {
  format: string;
  text: string;
  start: number;
}

interface NumberingInstance {
  counterKey: string;
  levels: Map<number, LevelDefinition>;
  startOverrides: Map<number, number>;
}

/** Paragraph numbering as mammoth reports it, plus the ids our patched numbering reader adds. */
interface MammothNumbering {
  level: string;
  isOrdered: boolean;
  numId?: string;
  styleId?: string;
}

function readLevel(lvl: XmlElement): LevelDefinition {
  return {
    format: val(firstChild(lvl, 'w:numFmt')) ?? 'decimal',
    text: val(firstChild(lvl, 'w:lvlText')) ?? '',
    start: Number(val(firstChild(lvl, 'w:start')) ?? '1'),
  };
}

function readLevels(abstractNum: XmlElement): Map<number, LevelDefinition> {
  const levels = new Map<number, LevelDefinition>();
  for (const lvl of childElements(abstractNum, 'w:lvl')) levels.set(Number(lvl.attribs['w:ilvl'] ?? '0'), readLevel(lvl));
  return levels;
}

class ListNumbering {
  private readonly instances = new Map<string, NumberingInstance | null>();
  private readonly counters = new Map<string, (number | undefined)[]>();
  private readonly usedNumIds = new Set<string>();
  private readonly abstractNums = new Map<string, XmlElement>();
  private readonly nums = new Map<string, XmlElement>();
  /** Numbering style id → numId (w:numStyleLink), paragraph style id → numId. */
  private readonly styleNumIds = new Map<string, string>();

  constructor(numbering: XmlElement[] | undefined, styles: XmlElement[] | undefined) {
    for (const abstractNum of findAll(numbering ?? [], 'w:abstractNum')) {
      this.abstractNums.set(abstractNum.attribs['w:abstractNumId'] ?? '', abstractNum);
    }
    for (const num of findAll(numbering ?? [], 'w:num')) this.nums.set(num.attribs['w:numId'] ?? '', num);
    for (const style of findAll(styles ?? [], 'w:style')) {
      const numId = val(firstChild(firstChild(firstChild(style, 'w:pPr'), 'w:numPr'), 'w:numId'));
      if (numId && style.attribs['w:styleId']) this.styleNumIds.set(style.attribs['w:styleId'], numId);
    }
  }

  private instance(numId: string): NumberingInstance | null {
    if (this.instances.has(numId)) return this.instances.get(numId) ?? null;
    let resolved: NumberingInstance | null = null;
    const num = this.nums.get(numId);
    let abstractId = val(firstChild(num, 'w:abstractNumId'));
    const seen = new Set<string>();
    while (abstractId !== undefined && !seen.has(abstractId)) {
      seen.add(abstractId);
      const abstractNum = this.abstractNums.get(abstractId);
      if (!abstractNum) break;
      const link = val(firstChild(abstractNum, 'w:numStyleLink'));
      const linkedNumId = link ? this.styleNumIds.get(link) : undefined;
      if (linkedNumId) {
        abstractId = val(firstChild(this.nums.get(linkedNumId), 'w:abstractNumId'));
        continue;
      }
      const levels = readLevels(abstractNum);
      const startOverrides = new Map<number, number>();
      for (const override of num ? childElements(num, 'w:lvlOverride') : []) {
        const level = Number(override.attribs['w:ilvl'] ?? '0');
        const start = val(firstChild(override, 'w:startOverride'));
        if (start !== undefined) startOverrides.set(level, Number(start));
        const lvl = firstChild(override, 'w:lvl');
        if (lvl) levels.set(level, readLevel(lvl));
      }
      // Word continues one sequence across numbering instances of the same abstract list, unless
      // an instance restarts it ("restart numbering" writes a w:startOverride).
      resolved = { counterKey: startOverrides.size > 0 ? `num:${numId}` : `abstract:${abstractId}`, levels, startOverrides };
      break;
    }
    this.instances.set(numId, resolved);
    return resolved;
  }

  /** The label of the next item of a list paragraph ("1)", "a.", "II.", "•"), counting it. */
  label(numbering: MammothNumbering): string {
    const level = Number(numbering.level) || 0;
    const numId = numbering.numId ?? (numbering.styleId ? this.styleNumIds.get(numbering.styleId) : undefined);
    const instance = numId === undefined ? null : this.instance(numId);
    if (!instance || numId === undefined) return numbering.isOrdered ? '#' : '•';
    const definition = instance.levels.get(level);
    if (definition?.format === 'bullet') return '•';
    let counters = this.counters.get(instance.counterKey);
    if (!counters || (instance.counterKey.startsWith('num:') && !this.usedNumIds.has(numId))) {
      counters = [];
      this.counters.set(instance.counterKey, counters);
    }
    this.usedNumIds.add(numId);
    const start = (lvl: number) => instance.startOverrides.get(lvl) ?? instance.levels.get(lvl)?.start ?? 1;
    counters[level] = counters[level] === undefined ? start(level) : (counters[level] ?? 0) + 1;
    for (let deeper = level + 1; deeper < counters.length; deeper += 1) counters[deeper] = undefined;
    if (!definition) return `${counters[level]}.`;
    if (definition.format === 'none') return '';
    return definition.text.replace(/%([1-9])/g, (_, digit: string) => {
      const lvl = Number(digit) - 1;
      // A higher level shown before any item of its own counts as its start value (as in Word).
      if (lvl < level && counters[lvl] === undefined) counters[lvl] = start(lvl);
      return formatNumber(counters[lvl] ?? start(lvl), instance.levels.get(lvl)?.format ?? 'decimal');
    });
  }
}

function roman(value: number): string {
  const numerals: [number, string][] = [
    [1000, 'm'], [900, 'cm'], [500, 'd'], [400, 'cd'], [100, 'c'], [90, 'xc'],
    [50, 'l'], [40, 'xl'], [10, 'x'], [9, 'ix'], [5, 'v'], [4, 'iv'], [1, 'i'],
  ];
  let rest = value;
  let out = '';
  for (const [amount, numeral] of numerals) {
    while (rest >= amount) {
      out += numeral;
      rest -= amount;
    }
  }
  return out;
}

function letters(value: number): string {
  if (value < 1) return String(value);
  return String.fromCharCode(97 + ((value - 1) % 26)).repeat(Math.floor((value - 1) / 26) + 1);
}

function formatNumber(value: number, format: string): string {
  switch (format) {
    case 'lowerLetter':
      return letters(value);
    case 'upperLetter':
      return letters(value).toUpperCase();
    case 'lowerRoman':
      return roman(value);
    case 'upperRoman':
      return roman(value).toUpperCase();
    case 'decimalZero':
      return String(value).padStart(2, '0');
    default:
      return String(value);
  }
}

/** Mammoth's numbering reader, extended so that each paragraph's numbering carries its numId. */
let numberingPatched = false;
function patchMammothNumbering(): void {
  if (numberingPatched) return;
  numberingPatched = true;
  const original = numberingXml.readNumberingXml;
  numberingXml.readNumberingXml = (root, options) => {
    const numbering = original(root, options);
    return {
      findLevel: (numId, level) => {
        const found = numbering.findLevel(numId, level);
        return found ? { ...found, numId } : null;
      },
      findLevelByParagraphStyleId: (styleId) => {
        const found = numbering.findLevelByParagraphStyleId(styleId);
        return found ? { ...found, styleId } : null;
      },
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Mammoth's document tree → blocks.

interface MammothNode {
  type: string;
  children?: MammothNode[];
  value?: string;
  styleId?: string | null;
  styleName?: string | null;
  numbering?: MammothNumbering | null;
  noteType?: string;
  noteId?: string;
  checked?: boolean;
  breakType?: string;
  body?: MammothNode[];
}

interface MammothComment {
  body?: MammothNode[];
  authorName?: string | null;
}

interface MammothDocument extends MammothNode {
  notes: { _notes?: Record<string, MammothNode> };
  comments?: MammothComment[];
}

function headingLevel(paragraph: MammothNode): number | undefined {
  for (const name of [paragraph.styleName, paragraph.styleId]) {
    if (!name) continue;
    if (/^title$/i.test(name)) return 0;
    const match = /^heading\s*([1-9])$/i.exec(name);
    if (match) return Number(match[1]);
  }
  return undefined;
}

const collapse = (text: string) => text.replace(/[ \t\u00a0]+/g, ' ').replace(/ *\n */g, '\n').trim();

class TreeWalker {
  readonly blocks: Block[] = [];
  imageCount = 0;
  private listLines: string[] = [];
  /** Footnote/endnote key → its number, in the order the body first refers to it. */
  private readonly noteNumbers = new Map<string, number>();
  private readonly noteCounts = new Map<string, number>();
  private readonly numbering: ListNumbering;

  constructor(numbering: ListNumbering) {
    this.numbering = numbering;
  }

  private flushList(): void {
    if (this.listLines.length > 0) this.blocks.push({ kind: 'text', text: this.listLines.join('\n') });
    this.listLines = [];
  }

  private push(block: Block): void {
    this.flushList();
    this.blocks.push(block);
  }

  /** Inline text of a paragraph; paragraphs nested in it (text boxes) go to `nested`. */
  private inline(nodes: MammothNode[] | undefined, nested: MammothNode[]): string {
    let text = '';
    for (const node of nodes ?? []) {
      switch (node.type) {
        case 'text':
          text += node.value ?? '';
          break;
        case 'tab':
          text += '\t';
          break;
        case 'break':
          text += '\n';
          break;
        case 'checkbox':
          text += node.checked ? '☒' : '☐';
          break;
        case 'image':
          this.imageCount += 1;
          break;
        case 'noteReference':
          text += `[${this.noteNumber(node)}]`;
          break;
        case 'paragraph':
        case 'table':
          nested.push(node);
          break;
        default:
          text += this.inline(node.children, nested);
      }
    }
    return text;
  }

  private noteNumber(reference: MammothNode): number {
    const key = `${reference.noteType}-${reference.noteId}`;
    let number = this.noteNumbers.get(key);
    if (number === undefined) {
      number = (this.noteCounts.get(reference.noteType ?? '') ?? 0) + 1;
      this.noteCounts.set(reference.noteType ?? '', number);
      this.noteNumbers.set(key, number);
    }
    return number;
  }

  noteLabel(key: string): number | undefined {
    return this.noteNumbers.get(key);
  }

  /** Plain text of any subtree (table cells, notes): paragraphs joined by `separator`. */
  plain(nodes: MammothNode[] | undefined, separator: string): string {
    const parts: string[] = [];
    for (const node of nodes ?? []) {
      if (node.type === 'paragraph') {
        const nested: MammothNode[] = [];
        const label = node.numbering ? this.numbering.label(node.numbering) : '';
        const text = collapse(this.inline(node.children, nested));
        if (text) parts.push(label ? `${label} ${text}` : text);
        const inner = this.plain(nested, separator);
        if (inner) parts.push(inner);
      } else if (node.type === 'table') {
        parts.push(this.tableText(node, ' '));
      } else {
        const inner = this.plain(node.children, separator);
        if (inner) parts.push(inner);
      }
    }
    return parts.filter(Boolean).join(separator);
  }

  /** Rows on their own lines, cells separated by tabs, so a row reads left to right. */
  private tableText(table: MammothNode, rowSeparator: string): string {
    const rows = (table.children ?? [])
      .filter((row) => row.type === 'tableRow')
      .map((row) =>
        (row.children ?? [])
          .filter((cell) => cell.type === 'tableCell')
          .map((cell) => this.plain(cell.children, ' ').replace(/\s+/g, ' ').trim())
          .join('\t')
          .trim(),
      )
      .filter(Boolean);
    return rows.join(rowSeparator);
  }

  walk(nodes: MammothNode[] | undefined): void {
    for (const node of nodes ?? []) {
      if (node.type === 'paragraph') this.paragraph(node);
      else if (node.type === 'table') {
        const text = this.tableText(node, '\n');
        if (text) this.push({ kind: 'text', text });
      } else this.walk(node.children);
    }
  }

  private paragraph(paragraph: MammothNode): void {
    const nested: MammothNode[] = [];
    const text = collapse(this.inline(paragraph.children, nested));
    const level = headingLevel(paragraph);
    if (paragraph.numbering && level === undefined) {
      const label = this.numbering.label(paragraph.numbering);
      if (text) {
        const indent = '  '.repeat(Number(paragraph.numbering.level) || 0);
        this.listLines.push(`${indent}${label ? `${label} ` : ''}${text}`);
      }
    } else if (text && level !== undefined) {
      this.push({ kind: 'heading', level, text });
    } else if (text) {
      this.push({ kind: 'text', text });
    }
    this.walk(nested);
  }

  finish(): void {
    this.flushList();
  }
}

// ---------------------------------------------------------------------------------------------
// Headers, footers and document properties, straight from the XML.

function xmlParagraphs(roots: XmlElement[]): string[] {
  const out: string[] = [];
  const inline = (node: XmlNode, nested: XmlElement[]): string => {
    if (!isElement(node)) return '';
    switch (node.name) {
      case 'w:t':
        return DomUtils.textContent(node);
      case 'w:tab':
        return '\t';
      case 'w:br':
      case 'w:cr':
        return '\n';
      case 'w:p':
        nested.push(node);
        return '';
      case 'mc:AlternateContent': {
        const chosen = firstChild(node, 'mc:Fallback') ?? firstChild(node, 'mc:Choice');
        return chosen ? chosen.children.map((child) => inline(child, nested)).join('') : '';
      }
      default:
        return node.children.map((child) => inline(child, nested)).join('');
    }
  };
  const visit = (node: XmlNode): void => {
    if (!isElement(node)) return;
    if (node.name === 'w:p') {
      const nested: XmlElement[] = [];
      const text = collapse(node.children.map((child) => inline(child, nested)).join(''));
      if (text) out.push(text);
      nested.forEach(visit);
    } else if (node.name === 'mc:AlternateContent') {
      const chosen = firstChild(node, 'mc:Fallback') ?? firstChild(node, 'mc:Choice');
      chosen?.children.forEach(visit);
    } else {
      node.children.forEach(visit);
    }
  };
  roots.forEach(visit);
  return out;
}

async function headerFooterBlocks(parts: DocxParts, kind: 'header' | 'footer'): Promise<Block[]> {
  const pattern = new RegExp(`^word/${kind}(\\d*)\\.xml$`);
  const names = [...parts.names]
    .filter((name) => pattern.test(name))
    .sort((a, b) => Number(pattern.exec(a)?.[1] || 0) - Number(pattern.exec(b)?.[1] || 0));
  const seen = new Set<string>();
  const blocks: Block[] = [];
  for (const name of names) {
    const text = xmlParagraphs((await readXml(parts, name)) ?? []).join('\n');
    if (!text || seen.has(text)) continue;
    seen.add(text);
    blocks.push({ kind: 'aside', label: kind === 'header' ? 'Header' : 'Footer', text });
  }
  return blocks;
}

async function coreProperties(parts: DocxParts): Promise<{ title?: string; author?: string }> {
  const roots = await readXml(parts, 'docProps/core.xml').catch(() => undefined);
  if (!roots) return {};
  const text = (name: string) => {
    const found = findAll(roots, name)[0];
    const value = found ? DomUtils.textContent(found).trim() : '';
    return value || undefined;
  };
  return { title: text('dc:title'), author: text('dc:creator') };
}

// ---------------------------------------------------------------------------------------------

export async function extractDocx(
  data: Uint8Array,
  limits: { maxDecompressedBytes: number; maxZipEntries: number },
): Promise<BlocksResult> {
  const parts = await openParts(data, limits.maxDecompressedBytes, limits.maxZipEntries);
  try {
    if (!parts.names.has('word/document.xml') && !parts.names.has('[Content_Types].xml')) {
      fail('UNSUPPORTED_TYPE', 'the zip archive is not a Word document (no word/document.xml)');
    }
    patchMammothNumbering();
    let tree: MammothDocument | undefined;
    try {
      await mammoth.convertToHtml({ file: mammothFile(parts) } as unknown as { buffer: Buffer }, {
        externalFileAccess: false,
        includeEmbeddedStyleMap: false,
        // Keep the tree, and give mammoth nothing to render: its HTML is not used.
        transformDocument: (document: MammothDocument) => {
          tree = document;
          return { ...document, children: [] };
        },
      });
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'quarryCode' in error) throw error;
      if (error instanceof RangeError) throw error;
      fail('CORRUPT_DOCUMENT', `corrupt DOCX: ${(error as Error).message}`);
    }
    if (!tree) fail('CORRUPT_DOCUMENT', 'corrupt DOCX: no document body');

    const numbering = new ListNumbering(
      await readXml(parts, 'word/numbering.xml'),
      await readXml(parts, 'word/styles.xml'),
    );
    const walker = new TreeWalker(numbering);
    walker.walk(tree.children);
    walker.finish();

    // Footnotes and endnotes, in the order the body refers to them, then any never referred to.
    const notes = Object.entries(tree.notes._notes ?? {});
    const noteBlocks: Block[] = [];
    for (const type of ['footnote', 'endnote']) {
      const ofType = notes.filter(([, note]) => note.noteType === type);
      ofType.sort(([a], [b]) => (walker.noteLabel(a) ?? Infinity) - (walker.noteLabel(b) ?? Infinity));
      const lines = ofType
        .map(([key, note]) => {
          const text = walker.plain(note.body, '\n');
          const number = walker.noteLabel(key);
          return text ? (number === undefined ? text : `[${number}] ${text}`) : '';
        })
        .filter(Boolean);
      if (lines.length > 0) {
        noteBlocks.push({ kind: 'aside', label: type === 'footnote' ? 'Footnotes' : 'Endnotes', text: lines.join('\n\n') });
      }
    }

    // Review comments (mammoth reads them; they hold text people search for too).
    const comments = (tree.comments ?? [])
      .map((comment) => {
        const text = walker.plain(comment.body, '\n');
        return text && comment.authorName ? `${comment.authorName}: ${text}` : text;
      })
      .filter(Boolean);
    if (comments.length > 0) noteBlocks.push({ kind: 'aside', label: 'Comments', text: comments.join('\n\n') });

    const blocks = [
      ...(await headerFooterBlocks(parts, 'header')),
      ...walker.blocks,
      ...noteBlocks,
      ...(await headerFooterBlocks(parts, 'footer')),
    ];
    return { kind: 'blocks', blocks, imageCount: walker.imageCount, ...(await coreProperties(parts)) };
  } finally {
    parts.close();
  }
}
