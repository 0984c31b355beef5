import { type Tiktoken, get_encoding } from 'tiktoken';

/**
 * Counts tokens with the cl100k_base encoding (the one OpenAI-compatible chat and embedding
 * models use), so chunk sizes mean the same thing to whichever model reads them later.
 */
export class TokenCounter {
  private readonly encoding: Tiktoken = get_encoding('cl100k_base');

  count(text: string): number {
    return this.encoding.encode_ordinary(text).length;
  }

  dispose(): void {
    this.encoding.free();
  }
}
