import type { Block } from '../worker/protocol';

/** Markdown inline syntax → its readable text (links keep their text, emphasis its words). */
export function markdownInline(text: string): string {
  return text
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/!\[([^\]\n]*)\]\([^)\n]*\)/g, '$1')
    .replace(/!?\[([^\]\n]+)\]\([^)\n]*\)/g, '$1')
    .replace(/!?\[([^\]\n]+)\]\[[^\]\n]*\]/g, '$1')
    .replace(/<((?:https?|mailto):[^>\s]+)>/g, '$1')
    .replace(/<\/?[a-z][a-z0-9-]*(\s[^<>]*)?\/?>/gi, '')
    .replace(/(\*\*|__)(?=\S)([^\n]*?\S)\1/g, '$2')
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1$2')
    .replace(/(^|[^\w])_(?=\S)([^_\n]*?\S)_(?!\w)/g, '$1$2')
    .replace(/~~(?=\S)([^\n]*?\S)~~/g, '$1')
    .replace(/(`+)([^`\n]|[^`\n][\s\S]*?[^`\n])\1(?!`)/g, (_, _ticks: string, code: string) => code.trim())
    .replace(/\\([\\`*_{}[\]()#+\-.!|>~])/g, '$1');
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC = /^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s+\S+/;

function tableCells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => markdownInline(cell.trim()));
}

/** Front matter's `title:`, and the text without the front matter. */
function frontMatter(text: string): { body: string; title?: string } {
  const match = /^---[ \t]*\n([\s\S]*?)\n(---|\.\.\.)[ \t]*(\n|$)/.exec(text);
  if (!match) return { body: text };
  const title = /^title:[ \t]*["']?(.*?)["']?[ \t]*$/m.exec(match[1])?.[1];
  return { body: text.slice(match[0].length), title: title || undefined };
}

/**
 * Markdown → blocks: ATX and setext headings, paragraphs and lists with their line breaks, fenced
 * and indented code kept verbatim, tables as tab-separated rows; inline syntax removed.
 */
export function markdownBlocks(source: string): { blocks: Block[]; title?: string } {
  const { body, title } = frontMatter(source);
  const lines = body.replace(/<!--[\s\S]*?-->/g, '').split('\n');
  const blocks: Block[] = [];
  let paragraph: string[] = [];

  const flush = () => {
    const text = paragraph.map((line) => markdownInline(line.replace(/^ {0,3}>[ \t]?/, '').trimEnd())).join('\n').trim();
    if (text) blocks.push({ kind: 'text', text });
    paragraph = [];
  };

  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index];
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const closing = new RegExp(`^ {0,3}${fence[1][0] === '`' ? '`' : '~'}{${fence[1].length},}[ \\t]*$`);
      const code: string[] = [];
      for (index += 1; index < lines.length && !closing.test(lines[index]); index += 1) code.push(lines[index]);
      const text = code.join('\n').replace(/^\n+|\s+$/g, '');
      if (text) blocks.push({ kind: 'text', text });
      continue;
    }
    const atx = ATX.exec(line);
    if (atx) {
      flush();
      const text = markdownInline(atx[2] ?? '').trim();
      if (text) blocks.push({ kind: 'heading', level: atx[1].length, text });
      continue;
    }
    if (paragraph.length > 0 && SETEXT.exec(line) && !/^\s*([-*+]|\d+[.)])\s/.test(paragraph[0])) {
      const text = markdownInline(paragraph.join(' ').trim()).trim();
      paragraph = [];
      if (text) blocks.push({ kind: 'heading', level: line.trim().startsWith('=') ? 1 : 2, text });
      continue;
    }
    if (!line.trim()) {
      flush();
      continue;
    }
    if (THEMATIC.test(line) || REFERENCE_DEFINITION.test(line)) {
      flush();
      continue;
    }
    if (line.includes('|') && index + 1 < lines.length && TABLE_SEPARATOR.test(lines[index + 1]) && lines[index + 1].includes('-')) {
      flush();
      const rows = [tableCells(line)];
      for (index += 2; index < lines.length && lines[index].includes('|') && lines[index].trim(); index += 1) {
        rows.push(tableCells(lines[index]));
      }
      index -= 1;
      blocks.push({ kind: 'text', text: rows.map((row) => row.join('\t')).join('\n') });
      continue;
    }
    if (paragraph.length === 0 && /^( {4}|\t)/.test(line)) {
      // Indented code block.
      const code = [line];
      while (index + 1 < lines.length && (/^( {4}|\t)/.test(lines[index + 1]) || !lines[index + 1].trim())) {
        index += 1;
        code.push(lines[index]);
      }
      const text = code.map((codeLine) => codeLine.replace(/^( {4}|\t)/, '')).join('\n').replace(/\s+$/, '');
      blocks.push({ kind: 'text', text });
      continue;
    }
    paragraph.push(line);
  }
  flush();
  return { blocks, title };
}
