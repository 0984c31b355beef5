import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { Block, BlocksResult, WorkerResult, WorkerTask } from '../worker/protocol';
import { detectWithEncoding } from './detect';
import { markdownBlocks } from './markdown';
import { blocksToSections } from './sections';
import { decodeWith, htmlDeclaredEncoding, type TextEncoding } from './text-decode';
import {
  ENCRYPTED_OOXML_MEDIA_TYPE,
  PARSE_DEFAULTS,
  type ParseOptions,
  type ParsedDocument,
  type ParsedSection,
} from './types';
import { ParseWorkerPool } from './worker-pool';

const pool = new ParseWorkerPool({ maxIdle: 2, idleTimeoutMs: 30_000, maxTasksPerWorker: 200 });

/** Stops the idle parse workers (for shutdown and tests; they never keep the process alive). */
export function shutdownParsers(): Promise<void> {
  return pool.close();
}

/** Live parse worker threads, idle and busy. */
export function parseWorkerCount(): number {
  return pool.size;
}

const NEEDS_OCR = 'no extractable text — needs OCR';

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DomainError(ErrorCode.Cancelled, 'parsing was cancelled');
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number, got ${value}`);
  return value;
}

function runInWorker(task: WorkerTask, options: ParseOptions): Promise<WorkerResult> {
  const transfer = task.kind === 'html' ? [] : [task.data.buffer as ArrayBuffer];
  return pool.run(task, transfer, {
    timeoutMs: positive(options.timeoutMs, PARSE_DEFAULTS.timeoutMs, 'timeoutMs'),
    maxHeapMb: positive(options.maxHeapMb, PARSE_DEFAULTS.maxHeapMb, 'maxHeapMb'),
    signal: options.signal,
  });
}

/** The bytes in a fresh buffer that can be moved to the worker without touching the caller's. */
function ownCopy(bytes: Buffer): Uint8Array {
  return new Uint8Array(bytes);
}

function firstTitle(blocks: Block[]): string | undefined {
  const heading = blocks.find((block) => block.kind === 'heading');
  return heading && heading.kind === 'heading' && heading.level <= 1 ? heading.text : undefined;
}

function noText(message = 'the document contains no text'): DomainError {
  return new DomainError(ErrorCode.EmptyDocument, message);
}

function blocksResult(result: WorkerResult): BlocksResult {
  if (result.kind !== 'blocks') throw new DomainError(ErrorCode.Internal, `unexpected ${result.kind} result from the parse worker`);
  return result;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/**
 * Parses a document into sections with their provenance (page for PDF, heading path for Markdown,
 * HTML and DOCX). The format comes from the content (see detectFormat). PDF, DOCX and HTML are
 * parsed in a worker thread under a deadline (`timeoutMs` → PARSE_TIMEOUT) and a heap limit
 * (`maxHeapMb` → RESOURCE_LIMIT); `signal` cancels (CANCELLED). Bad input fails with a
 * DomainError: EMPTY_DOCUMENT, UNSUPPORTED_TYPE, CORRUPT_DOCUMENT, PASSWORD_REQUIRED,
 * NO_EXTRACTABLE_TEXT, RESOURCE_LIMIT.
 */
export async function parseDocument(bytes: Buffer, options: ParseOptions = {}): Promise<ParsedDocument> {
  checkAborted(options.signal);
  const detected = detectWithEncoding(bytes, options.filename);
  const { format, mediaType } = detected;

  switch (format) {
    case 'pdf': {
      const result = await runInWorker({ kind: 'pdf', data: ownCopy(bytes) }, options);
      if (result.kind !== 'pdf') throw new DomainError(ErrorCode.Internal, 'unexpected result from the parse worker');
      const sections: ParsedSection[] = result.pages
        .map((text, index) => ({ text, page: index + 1 }))
        .filter((section) => section.text.trim().length > 0);
      if (sections.length === 0) throw new DomainError(ErrorCode.NoExtractableText, NEEDS_OCR);
      return {
        format,
        mediaType,
        sections,
        metadata: withoutUndefined({ title: result.title, author: result.author, pageCount: result.pages.length }),
      };
    }

    case 'docx': {
      if (mediaType === ENCRYPTED_OOXML_MEDIA_TYPE) {
        throw new DomainError(ErrorCode.PasswordRequired, 'password required: the DOCX is encrypted (OLE2 EncryptedPackage)');
      }
      const result = blocksResult(
        await runInWorker(
          {
            kind: 'docx',
            data: ownCopy(bytes),
            maxDecompressedBytes: positive(options.maxDecompressedBytes, PARSE_DEFAULTS.maxDecompressedBytes, 'maxDecompressedBytes'),
            maxZipEntries: positive(options.maxZipEntries, PARSE_DEFAULTS.maxZipEntries, 'maxZipEntries'),
          },
          options,
        ),
      );
      const sections = blocksToSections(result.blocks);
      if (sections.length === 0) {
        throw result.imageCount > 0 ? new DomainError(ErrorCode.NoExtractableText, `${NEEDS_OCR} (the document holds only images)`) : noText();
      }
      return {
        format,
        mediaType,
        sections,
        metadata: withoutUndefined({ title: result.title ?? firstTitle(result.blocks), author: result.author }),
      };
    }

    case 'html': {
      const encoding = htmlEncoding(bytes, detected.encoding);
      const html = decodeWith(bytes, encoding);
      const result = blocksResult(await runInWorker({ kind: 'html', html }, options));
      const sections = blocksToSections(result.blocks);
      if (sections.length === 0) throw noText();
      return {
        format,
        mediaType,
        sections,
        metadata: withoutUndefined({ title: result.title ?? firstTitle(result.blocks), encoding: encoding.encoding }),
      };
    }

    case 'markdown': {
      const encoding = textEncoding(detected.encoding);
      const { blocks, title } = markdownBlocks(decodeWith(bytes, encoding));
      const sections = blocksToSections(blocks);
      if (sections.length === 0) throw noText();
      checkAborted(options.signal);
      return {
        format,
        mediaType,
        sections,
        metadata: withoutUndefined({ title: title ?? firstTitle(blocks), encoding: encoding.encoding }),
      };
    }

    case 'text': {
      const encoding = textEncoding(detected.encoding);
      const text = decodeWith(bytes, encoding)
        .replace(/[ \t]+$/gm, '')
        .replace(/\n{3,}/g, '\n\n')
        .trim();
      if (!text) throw noText();
      checkAborted(options.signal);
      return { format, mediaType, sections: [{ text }], metadata: { encoding: encoding.encoding } };
    }
  }
}

function textEncoding(encoding: TextEncoding | undefined): TextEncoding {
  return encoding ?? { encoding: 'utf-8', bomLength: 0 };
}

/** A BOM wins, then the document's own `<meta charset>`, then what the bytes look like. */
function htmlEncoding(bytes: Buffer, sniffed: TextEncoding | undefined): TextEncoding {
  const encoding = textEncoding(sniffed);
  if (encoding.bomLength > 0 || encoding.encoding.startsWith('utf-16')) return encoding;
  const declared = htmlDeclaredEncoding(bytes);
  return declared ? { encoding: declared, bomLength: 0 } : encoding;
}
