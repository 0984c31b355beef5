import type { Block } from '../worker/protocol';
import type { ParsedSection } from './types';

/**
 * Blocks → one section per heading: each section starts with its heading's text, holds the blocks
 * up to the next heading (separated by blank lines) and carries the path of enclosing headings.
 * Asides (headers, footers, notes) become sections of their own under their label.
 */
export function blocksToSections(blocks: Block[]): ParsedSection[] {
  const sections: ParsedSection[] = [];
  const path: { level: number; text: string }[] = [];
  let parts: string[] = [];

  const headingPath = () => (path.length > 0 ? path.map((heading) => heading.text) : undefined);
  const flush = () => {
    const text = parts.join('\n\n').trim();
    if (text) {
      const headings = headingPath();
      sections.push(headings ? { text, headingPath: headings } : { text });
    }
    parts = [];
  };

  for (const block of blocks) {
    switch (block.kind) {
      case 'heading':
        flush();
        while (path.length > 0 && path[path.length - 1].level >= block.level) path.pop();
        path.push({ level: block.level, text: block.text });
        parts.push(block.text);
        break;
      case 'text':
        if (block.text.trim()) parts.push(block.text);
        break;
      case 'aside':
        flush();
        if (block.text.trim()) sections.push({ text: block.text.trim(), headingPath: [block.label] });
        break;
    }
  }
  flush();
  return sections;
}
