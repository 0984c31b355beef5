import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';

const BY_EXTENSION = new Map<string, string>([
  ['md', 'text/markdown'],
  ['markdown', 'text/markdown'],
  ['txt', 'text/plain'],
  ['text', 'text/plain'],
]);

/** The media type Quarry will parse the upload as; only plain text and Markdown in this version. */
export function resolveMediaType(filename: string): string {
  // A name without a dot has no extension (a file called "md" is not Markdown).
  const dot = filename.lastIndexOf('.');
  const extension = dot >= 0 ? filename.slice(dot + 1).toLowerCase() : '';
  const mediaType = BY_EXTENSION.get(extension);
  if (!mediaType) {
    throw new DomainError(ErrorCode.UnsupportedType, `"${filename}" is not a supported type; upload .txt or .md files`);
  }
  return mediaType;
}
