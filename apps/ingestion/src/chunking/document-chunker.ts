import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import { HeadingOutline } from './heading-outline';
import type { TokenCounter } from './token-counter';

export interface ChunkingOptions {
  chunkSizeTokens: number;
  chunkOverlapTokens: number;
}

export interface TextChunk {
  ordinal: number;
  text: string;
  tokenCount: number;
  provenance: { charStart: number; charEnd: number; headingPath?: string[] };
}

const PLAIN_SEPARATORS = ['\n\n', '\n', '. ', '? ', '! ', '; ', ' ', ''];

/**
 * LangChain's last resort (separator "") splits text into UTF-16 code units, which cuts emoji and
 * other astral characters in half: the halves are miscounted and become U+FFFD once stored. This
 * one splits into code points instead.
 */
class CodePointTextSplitter extends RecursiveCharacterTextSplitter {
  protected override splitOnSeparator(text: string, separator: string): string[] {
    return separator === '' ? Array.from(text) : super.splitOnSeparator(text, separator);
  }
}

/**
 * Splits text into token-bounded chunks, recursively on structure: Markdown headings, then
 * paragraphs, lines, sentences and words (@langchain/textsplitters), measuring length in tiktoken
 * tokens. Each chunk records where it came from (character range, heading path for Markdown).
 * Whitespace-only pieces are dropped.
 */
export class DocumentChunker {
  constructor(
    private readonly tokens: TokenCounter,
    private readonly options: ChunkingOptions,
  ) {
    if (options.chunkOverlapTokens >= options.chunkSizeTokens) {
      throw new Error('CHUNK_OVERLAP_TOKENS must be smaller than CHUNK_SIZE_TOKENS');
    }
  }

  async split(text: string, format: 'markdown' | 'plain'): Promise<TextChunk[]> {
    const outline = format === 'markdown' ? new HeadingOutline(text) : undefined;
    const whole = text.trim();
    // Most short documents fit one chunk: no splitting, one token count.
    if (whole.length === 0) return [];
    if (whole.length <= this.options.chunkSizeTokens * 8) {
      const tokenCount = this.tokens.count(whole);
      if (tokenCount <= this.options.chunkSizeTokens) {
        const start = text.indexOf(whole);
        const headingPath = outline?.pathAt(start);
        return [
          {
            ordinal: 0,
            text: whole,
            tokenCount,
            provenance: { charStart: start, charEnd: start + whole.length, ...(headingPath && headingPath.length > 0 ? { headingPath } : {}) },
          },
        ];
      }
    }
    const splitter = new CodePointTextSplitter({
      chunkSize: this.options.chunkSizeTokens,
      chunkOverlap: this.options.chunkOverlapTokens,
      // Chunks are trimmed, and a piece can take more tokens without its leading whitespace
      // (" quarterly" is one token, "quarterly" two), so each piece counts as the larger of both.
      lengthFunction: (piece: string) => {
        const trimmed = piece.trimStart();
        const count = this.tokens.count(trimmed);
        return trimmed === piece ? count : Math.max(count, this.tokens.count(piece));
      },
      separators: format === 'markdown' ? RecursiveCharacterTextSplitter.getSeparatorsForLanguage('markdown') : PLAIN_SEPARATORS,
    });
    const pieces = (await splitter.splitText(text)).filter((piece) => piece.trim().length > 0);

    let previous: { start: number; end: number } | undefined;
    return pieces.map((piece, ordinal) => {
      const start = this.locate(text, piece, previous);
      previous = { start, end: start + piece.length };
      const headingPath = outline?.pathAt(start);
      return {
        ordinal,
        text: piece,
        tokenCount: this.tokens.count(piece),
        provenance: { charStart: start, charEnd: start + piece.length, ...(headingPath && headingPath.length > 0 ? { headingPath } : {}) },
      };
    });
  }

  /**
   * Where `piece` starts in `text`. Pieces come in order: none starts before the previous one or
   * ends before its end, and one that overlaps its predecessor shares at most the overlap budget
   * with it. In repetitive text the first match is often too early (the same words occur a little
   * before), so among the matches inside the previous piece the first whose shared part fits the
   * budget is taken, else the first match after the previous piece.
   */
  private locate(text: string, piece: string, previous: { start: number; end: number } | undefined): number {
    if (!previous) return Math.max(text.indexOf(piece), 0);
    const { start, end } = previous;
    const from = Math.max(start, end - piece.length);
    // The very same range again would be a duplicate piece, so the same text again is further on.
    const first = text.indexOf(piece, from === start && from + piece.length === end ? from + 1 : from);
    if (first < 0) {
      const again = text.indexOf(piece, start);
      return again >= 0 ? again : Math.max(text.indexOf(piece), 0);
    }
    if (first >= end) return first;

    // The matches that start inside the previous piece (the window keeps each search local).
    const window = text.slice(0, end + piece.length - 1);
    const candidates: number[] = [];
    for (let at = first; at >= 0; at = window.indexOf(piece, at + 1)) candidates.push(at);
    const fits = (at: number) => this.tokens.count(text.slice(at, end)) <= this.options.chunkOverlapTokens;
    if (!fits(candidates[candidates.length - 1])) {
      const after = text.indexOf(piece, end);
      return after >= 0 ? after : first;
    }
    // The shared part only shrinks as the start moves right: binary search for the first that fits.
    let low = 0;
    let high = candidates.length - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (fits(candidates[middle])) high = middle;
      else low = middle + 1;
    }
    return candidates[low];
  }
}
