import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';

const BY_EXTENSION: Record<string, string> = {
  md: 'text/markdown',
  markdown: 'text/markdown',
  txt: 'text/plain',
  text: 'text/plain',
};

/** The media type Quarry will parse the upload as; only plain text and Markdown in this version. */
export function resolveMediaType(filename: string): string {
  const extension = filename.toLowerCase().split('.').pop() ?? '';
  const mediaType = BY_EXTENSION[extension];
  if (!mediaType) {
    throw new DomainError(ErrorCode.UnsupportedType, `"${filename}" is not a supported type; upload .txt or .md files`);
  }
  return mediaType;
}
