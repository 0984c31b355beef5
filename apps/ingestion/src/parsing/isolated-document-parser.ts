import { type ParsedDocument, parseDocument } from '@quarry/parsers';
import type { DocumentParser } from './parsed-document';

export interface ParseLimits {
  timeoutMs: number;
  maxHeapMb: number;
  maxDecompressedBytes: number;
}

/**
 * Parses every format in a worker thread with a deadline and a heap cap (@quarry/parsers), so a
 * document that hangs or balloons fails alone with PARSE_TIMEOUT or RESOURCE_LIMIT and the
 * ingestion process carries on.
 */
export class IsolatedDocumentParser implements DocumentParser {
  constructor(private readonly limits: ParseLimits) {}

  parse(bytes: Buffer, options: { filename: string; signal?: AbortSignal }): Promise<ParsedDocument> {
    return parseDocument(bytes, { filename: options.filename, signal: options.signal, ...this.limits });
  }
}
