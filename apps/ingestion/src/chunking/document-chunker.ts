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
    const settings = {
      chunkSize: this.options.chunkSizeTokens,
      chunkOverlap: this.options.chunkOverlapTokens,
      lengthFunction: (piece: string) => this.tokens.count(piece),
    };
    const splitter =
      format === 'markdown'
        ? RecursiveCharacterTextSplitter.fromLanguage('markdown', settings)
        : new RecursiveCharacterTextSplitter({ ...settings, separators: ['\n\n', '\n', '. ', '? ', '! ', '; ', ' ', ''] });
    const pieces = (await splitter.splitText(text)).filter((piece) => piece.trim().length > 0);
    const outline = format === 'markdown' ? new HeadingOutline(text) : undefined;

    let cursor = 0;
    return pieces.map((piece, ordinal) => {
      // Pieces come in order and may overlap, so search from just after the previous start.
      let start = text.indexOf(piece, cursor);
      if (start < 0) start = text.indexOf(piece);
      if (start < 0) start = cursor;
      cursor = start + 1;
      const headingPath = outline?.pathAt(start);
      return {
        ordinal,
        text: piece,
        tokenCount: this.tokens.count(piece),
        provenance: { charStart: start, charEnd: start + piece.length, ...(headingPath && headingPath.length > 0 ? { headingPath } : {}) },
      };
    });
  }
}
