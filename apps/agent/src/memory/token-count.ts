import { type Tiktoken, get_encoding } from 'tiktoken';

let encoding: Tiktoken | undefined;

/**
 * Tokens of a text in cl100k_base, the encoding the context packer and the chunker count in, so a
 * history budget means the same as the passage budget next to it. One encoder for the process
 * (creating one costs milliseconds; it is never freed, like the packer's).
 */
export function countTokens(text: string): number {
  encoding ??= get_encoding('cl100k_base');
  return encoding.encode_ordinary(text).length;
}

export type TokenCounter = (text: string) => number;
