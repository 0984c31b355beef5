/**
 * Messages between the parse worker and the main thread. Types only: every import of this file is
 * `import type`, so the worker (run from source by Node's type stripping) never loads it.
 */

/** The error codes a worker may report; each is an `ErrorCode` of `@quarry/contracts`. */
export type WorkerErrorCode =
  | 'EMPTY_DOCUMENT'
  | 'UNSUPPORTED_TYPE'
  | 'CORRUPT_DOCUMENT'
  | 'PASSWORD_REQUIRED'
  | 'NO_EXTRACTABLE_TEXT'
  | 'RESOURCE_LIMIT'
  | 'INTERNAL';

/** A unit of structured text. Headings open a heading path; asides become their own sections. */
export type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'text'; text: string }
  | { kind: 'aside'; label: string; text: string };

export interface DocumentInfo {
  title?: string;
  author?: string;
}

export interface PdfResult extends DocumentInfo {
  kind: 'pdf';
  /** Text of each page, index 0 = page 1 (empty string for a page without text). */
  pages: string[];
}

export interface BlocksResult extends DocumentInfo {
  kind: 'blocks';
  blocks: Block[];
  /** Embedded images (DOCX): tells "only pictures, needs OCR" apart from "empty". */
  imageCount: number;
}

export type WorkerResult = PdfResult | BlocksResult;

export type WorkerTask =
  | { kind: 'pdf'; data: Uint8Array }
  | { kind: 'docx'; data: Uint8Array; maxDecompressedBytes: number; maxZipEntries: number }
  | { kind: 'html'; html: string };

export interface WorkerRequest {
  id: number;
  task: WorkerTask;
}

export interface WorkerFailure {
  code: WorkerErrorCode;
  message: string;
}

export type WorkerResponse =
  | { id: number; ok: true; result: WorkerResult; heapUsedBytes: number }
  | { id: number; ok: false; error: WorkerFailure; heapUsedBytes: number };

/** `workerData`: where the worker's sibling modules are and which extension they have here. */
export interface WorkerInit {
  moduleDir: string;
  extension: '.ts' | '.js';
}
