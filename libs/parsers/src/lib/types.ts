export type DocumentFormat = 'pdf' | 'docx' | 'html' | 'markdown' | 'text';

/** A stretch of a document's text with where it came from, for citations. */
export interface ParsedSection {
  text: string;
  /** 1-based page (PDF). */
  page?: number;
  /** Enclosing headings, outermost first (Markdown, HTML, DOCX). */
  headingPath?: string[];
}

export interface ParsedDocument {
  format: DocumentFormat;
  mediaType: string;
  sections: ParsedSection[];
  metadata: { title?: string; pageCount?: number; encoding?: string; author?: string };
}

export interface DetectedFormat {
  format: DocumentFormat;
  mediaType: string;
}

export interface ParseOptions {
  /** Only decides between text formats (.md, .html, .txt); binary formats are decided by content. */
  filename?: string;
  /** Wall-clock limit for parsing one document (PDF, DOCX, HTML run in a worker thread). */
  timeoutMs?: number;
  /** V8 old-generation heap of the worker thread. */
  maxHeapMb?: number;
  /** DOCX: upper bound of the sum of the zip entries' decompressed sizes. */
  maxDecompressedBytes?: number;
  /** DOCX: upper bound of the number of zip entries. */
  maxZipEntries?: number;
  /** Cancels parsing (the worker thread is terminated); rejects with CANCELLED. */
  signal?: AbortSignal;
}

export const PARSE_DEFAULTS = {
  timeoutMs: 30_000,
  maxHeapMb: 512,
  maxDecompressedBytes: 256 * 1024 * 1024,
  maxZipEntries: 10_000,
} as const;

export const MEDIA_TYPES: Record<DocumentFormat, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  html: 'text/html',
  markdown: 'text/markdown',
  text: 'text/plain',
};

/** What Tika calls a password-protected OOXML file: an OLE2 container with an EncryptedPackage. */
export const ENCRYPTED_OOXML_MEDIA_TYPE = 'application/x-tika-ooxml-protected';
