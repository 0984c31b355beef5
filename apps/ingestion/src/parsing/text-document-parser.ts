import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { decodeText } from '../chunking/text-decoding';
import type { DocumentParser, ParsedDocument } from './parsed-document';

/** Plain text and Markdown: decode, and keep the whole text as one section (the chunker finds headings). */
export class TextDocumentParser implements DocumentParser {
  parse(bytes: Buffer, options: { filename: string }): Promise<ParsedDocument> {
    if (bytes.length === 0) throw new DomainError(ErrorCode.EmptyDocument, 'the file is empty');
    const text = decodeText(bytes);
    const markdown = /\.(md|markdown)$/i.test(options.filename);
    return Promise.resolve({
      format: markdown ? 'markdown' : 'text',
      mediaType: markdown ? 'text/markdown' : 'text/plain',
      sections: [{ text }],
      metadata: {},
    });
  }
}
