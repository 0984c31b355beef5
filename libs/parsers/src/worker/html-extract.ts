/**
 * HTML → blocks with htmlparser2 (ESM-only, so it runs in the parse worker too): headings, one
 * block per paragraph, list items on their own lines, table rows on their own lines with cells
 * separated by tabs. Scripts, styles, navigation, asides, page footers, forms' controls and hidden
 * elements are dropped. Imports npm packages and Node built-ins only (see parse-worker.ts).
 */
import { Parser } from 'htmlparser2';
import type { Block, BlocksResult } from './protocol';

/** Elements whose content is never document text. */
const SKIPPED = new Set([
  'script', 'style', 'noscript', 'template', 'nav', 'aside', 'footer', 'svg', 'math', 'canvas',
  'iframe', 'object', 'embed', 'select', 'button', 'datalist', 'dialog', 'head',
]);
const SKIPPED_ROLES = new Set(['navigation', 'contentinfo', 'complementary', 'search', 'banner']);

/** Elements that end the running paragraph. */
const BLOCK = new Set([
  'address', 'article', 'blockquote', 'body', 'center', 'dd', 'details', 'dialog', 'dir', 'div',
  'dl', 'dt', 'fieldset', 'figcaption', 'figure', 'form', 'header', 'hgroup', 'hr', 'html',
  'legend', 'li', 'main', 'menu', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'ul',
  'caption', 'tr', 'td', 'th', 'tbody', 'thead', 'tfoot', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6',
]);

const HEADING = /^h([1-6])$/;

const collapse = (text: string) => text.replace(/[\s\u00a0]+/g, ' ');

interface List {
  ordered: boolean;
  next: number;
}

interface Table {
  rows: string[][];
  row: string[] | undefined;
  cell: string | undefined;
}

class HtmlBlocks {
  readonly blocks: Block[] = [];
  title = '';
  private inTitle = false;
  private readonly open: { name: string; skip: boolean }[] = [];
  private text = '';
  private pre = 0;
  private heading: number | undefined;
  private readonly lists: List[] = [];
  private listLines: string[] = [];
  private itemPrefix: string | undefined;
  private readonly tables: Table[] = [];

  private get skipping(): boolean {
    return this.open.length > 0 && this.open[this.open.length - 1].skip;
  }

  private get table(): Table | undefined {
    return this.tables[this.tables.length - 1];
  }

  private flushList(): void {
    if (this.listLines.length > 0) this.blocks.push({ kind: 'text', text: this.listLines.join('\n') });
    this.listLines = [];
  }

  /** Ends the running paragraph (or list item, or heading). */
  private flush(): void {
    const raw = this.text;
    this.text = '';
    if (this.table?.cell !== undefined) return;
    const text = this.pre > 0 ? raw.replace(/^\n+|\s+$/g, '') : raw.replace(/ *\n */g, '\n').trim();
    if (!text) return;
    if (this.itemPrefix !== undefined) {
      this.listLines.push(`${this.itemPrefix}${text}`);
      this.itemPrefix = undefined;
      return;
    }
    if (this.lists.length > 0) {
      // Text in a list but outside an item (or after a nested list): keep it with the list.
      this.listLines.push(`${'  '.repeat(this.lists.length)}${text}`);
      return;
    }
    this.flushList();
    if (this.heading !== undefined) this.blocks.push({ kind: 'heading', level: this.heading, text: collapse(text).trim() });
    else this.blocks.push({ kind: 'text', text });
  }

  onopentag(name: string, attributes: Record<string, string>): void {
    const parentSkip = this.skipping;
    const hidden =
      'hidden' in attributes ||
      attributes['aria-hidden'] === 'true' ||
      SKIPPED_ROLES.has(attributes.role ?? '') ||
      /display\s*:\s*none/i.test(attributes.style ?? '');
    const skip = parentSkip || SKIPPED.has(name) || hidden;
    this.open.push({ name, skip });
    if (name === 'title' && !this.title && !this.open.some((element) => element.name === 'svg')) this.inTitle = true;
    if (skip) return;

    if (name === 'br') {
      this.text += this.table?.cell !== undefined ? ' ' : '\n';
      return;
    }
    if (name === 'img') return;
    const table = this.table;
    if (table?.cell !== undefined) {
      if (name === 'table') this.tables.push({ rows: [], row: undefined, cell: undefined });
      else if (BLOCK.has(name)) table.cell += ' ';
      return;
    }
    if (BLOCK.has(name)) this.flush();
    const heading = HEADING.exec(name);
    if (heading) this.heading = Number(heading[1]);
    switch (name) {
      case 'pre':
        this.pre += 1;
        break;
      case 'ul':
      case 'ol':
      case 'menu':
        this.lists.push({ ordered: name === 'ol', next: Number(attributes.start ?? '1') || 1 });
        break;
      case 'li': {
        const list = this.lists[this.lists.length - 1];
        const indent = '  '.repeat(Math.max(0, this.lists.length - 1));
        if (list?.ordered) {
          const value = Number(attributes.value ?? list.next) || list.next;
          list.next = value + 1;
          this.itemPrefix = `${indent}${value}. `;
        } else {
          this.itemPrefix = `${indent}• `;
        }
        break;
      }
      case 'table':
        this.flushList();
        this.tables.push({ rows: [], row: undefined, cell: undefined });
        break;
      case 'tr':
        if (table) table.row = [];
        break;
      case 'td':
      case 'th':
        if (table) {
          table.row ??= [];
          table.cell = '';
        }
        break;
      default:
    }
  }

  ontext(data: string): void {
    if (this.inTitle) {
      this.title += data;
      return;
    }
    if (this.skipping) return;
    const text = this.pre > 0 ? data : collapse(data);
    const table = this.table;
    if (table?.cell !== undefined) table.cell += collapse(data);
    else this.text += text;
  }

  onclosetag(name: string): void {
    const element = this.open.pop();
    if (name === 'title') this.inTitle = false;
    if (!element || element.skip) return;
    const table = this.table;
    if (name === 'td' || name === 'th') {
      if (table && table.cell !== undefined) {
        table.row?.push(collapse(table.cell).trim());
        table.cell = undefined;
      }
      return;
    }
    if (name === 'tr') {
      if (table?.row && table.cell === undefined) {
        if (table.row.some(Boolean)) table.rows.push(table.row);
        table.row = undefined;
      }
      return;
    }
    if (name === 'table' && table) {
      if (table.cell !== undefined) return;
      this.tables.pop();
      if (table.row?.some(Boolean)) table.rows.push(table.row);
      const outer = this.table;
      if (outer?.cell !== undefined) {
        outer.cell += ` ${table.rows.map((row) => row.join(' ')).join(' ')} `;
      } else if (table.rows.length > 0) {
        this.flushList();
        this.blocks.push({ kind: 'text', text: table.rows.map((row) => row.join('\t')).join('\n') });
      }
      return;
    }
    if (table?.cell !== undefined) return;
    if (BLOCK.has(name)) this.flush();
    if (HEADING.test(name)) this.heading = undefined;
    switch (name) {
      case 'pre':
        this.pre = Math.max(0, this.pre - 1);
        break;
      case 'ul':
      case 'ol':
      case 'menu':
        this.lists.pop();
        this.itemPrefix = undefined;
        if (this.lists.length === 0) this.flushList();
        break;
      default:
    }
  }

  finish(): void {
    this.flush();
    this.flushList();
  }
}

export function extractHtml(html: string): BlocksResult {
  const handler = new HtmlBlocks();
  const parser = new Parser(
    {
      onopentag: (name, attributes) => handler.onopentag(name, attributes),
      ontext: (data) => handler.ontext(data),
      onclosetag: (name) => handler.onclosetag(name),
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true },
  );
  parser.write(html);
  parser.end();
  handler.finish();
  const title = collapse(handler.title).trim();
  return { kind: 'blocks', blocks: handler.blocks, imageCount: 0, title: title || undefined };
}
