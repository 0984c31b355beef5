import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * Bytes of a text or Markdown upload to a string: UTF-8 (BOM dropped) when valid, otherwise
 * Latin-1, which maps every byte. Binary content (NUL bytes) is refused as not text.
 */
export function decodeText(bytes: Buffer): string {
  if (bytes.includes(0)) {
    throw new DomainError(ErrorCode.UnsupportedType, 'the file contains binary data, not text');
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = latin1.decode(bytes);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
