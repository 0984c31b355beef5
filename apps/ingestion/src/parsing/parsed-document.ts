import type { ParsedDocument } from '@quarry/parsers';

export type { ParsedDocument, ParsedSection } from '@quarry/parsers';

/** The parse step's port: bytes in, sections out, typed DomainErrors for bad input. */
export interface DocumentParser {
  parse(bytes: Buffer, options: { filename: string; signal?: AbortSignal }): Promise<ParsedDocument>;
}
