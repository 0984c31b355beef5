/** A document's text as the parse step hands it on: sections with where they came from. */
export interface ParsedSection {
  text: string;
  /** 1-based page (PDF). */
  page?: number;
  /** Enclosing headings, outermost first (Markdown, HTML, DOCX). */
  headingPath?: string[];
}

export interface ParsedDocument {
  format: 'pdf' | 'docx' | 'html' | 'markdown' | 'text';
  mediaType: string;
  sections: ParsedSection[];
  metadata: { title?: string; pageCount?: number; encoding?: string; author?: string };
}

/** The parse step's port: bytes in, sections out, typed DomainErrors for bad input. */
export interface DocumentParser {
  parse(bytes: Buffer, options: { filename: string; signal?: AbortSignal }): Promise<ParsedDocument>;
}
