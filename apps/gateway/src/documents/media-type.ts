import { detectFormat } from '@quarry/parsers';

/**
 * The media type Quarry will parse the upload as, decided by content (magic bytes, zip structure,
 * text encoding), not by the extension or the client's media type. Unsupported content, and empty
 * files, are refused here, before anything is stored.
 */
export function resolveMediaType(bytes: Buffer, filename: string): string {
  return detectFormat(bytes, filename).mediaType;
}
