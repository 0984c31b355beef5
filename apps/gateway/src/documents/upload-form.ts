import type { Readable } from 'node:stream';
import { ErrorCode, textProblem } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';
import type { FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config';
import { UploadFolder, UploadTags } from './documents.schemas';

export interface UploadedFile {
  filename: string;
  clientMediaType: string;
  bytes: Buffer;
}

/** The files of one upload request and the tags and folder that apply to all of them. */
export interface UploadForm {
  files: UploadedFile[];
  tags: string[];
  folder: string;
}

export interface UploadLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  /** Names the setting in a 413, so the client knows which limit it hit. */
  fileLimitName: string;
  totalLimitName: string;
}

/** Form fields besides the files (tags may be repeated), and the size of each. */
export const MAX_FORM_FIELDS = 20;
export const MAX_FIELD_BYTES = 16 * 1024;

// Multipart framing around the files: boundaries, part headers (a filename may be long) and the
// form fields. Generous for any real form, and small next to the file limits.
const FORM_ALLOWANCE_BYTES = 64 * 1024;
const PART_ALLOWANCE_BYTES = 1024;

/** The limits of the single-file and the batch upload routes. */
export function uploadLimits(config: Pick<GatewayConfig, 'MAX_UPLOAD_BYTES' | 'MAX_BATCH_FILES' | 'MAX_BATCH_BYTES'>): { single: UploadLimits; batch: UploadLimits } {
  return {
    single: {
      maxFiles: 1,
      maxFileBytes: config.MAX_UPLOAD_BYTES,
      maxTotalBytes: config.MAX_UPLOAD_BYTES,
      fileLimitName: 'MAX_UPLOAD_BYTES',
      totalLimitName: 'MAX_UPLOAD_BYTES',
    },
    batch: {
      maxFiles: config.MAX_BATCH_FILES,
      maxFileBytes: config.MAX_UPLOAD_BYTES,
      maxTotalBytes: config.MAX_BATCH_BYTES,
      fileLimitName: 'MAX_UPLOAD_BYTES',
      totalLimitName: 'MAX_BATCH_BYTES',
    },
  };
}

/** The largest request body a form within these limits can have: the Content-Length to refuse at once. */
export function maxRequestBytes(limits: UploadLimits): number {
  return limits.maxTotalBytes + FORM_ALLOWANCE_BYTES + limits.maxFiles * PART_ALLOWANCE_BYTES;
}

export function fileTooLarge(limits: UploadLimits): DomainError {
  return new DomainError(ErrorCode.PayloadTooLarge, `the upload is larger than the configured limit (${limits.fileLimitName} = ${limits.maxFileBytes} bytes)`);
}

export function requestTooLarge(limits: UploadLimits): DomainError {
  if (limits.maxFiles === 1) return fileTooLarge(limits);
  return new DomainError(
    ErrorCode.PayloadTooLarge,
    `the files of one request may total at most ${limits.maxTotalBytes} bytes (${limits.totalLimitName})`,
  );
}

/** Tags may come as repeated fields, a comma-separated list, or a JSON array. */
export function parseTags(values: string[]): string[] {
  const raw = values.flatMap((value) => {
    const trimmed = value.trim();
    return trimmed.startsWith('[') ? parseTagArray(trimmed) : trimmed.split(',');
  });
  const tags = UploadTags.safeParse(raw.map((tag) => tag.trim()).filter(Boolean));
  if (!tags.success) throw new DomainError(ErrorCode.InvalidPayload, `tags: ${tags.error.issues[0]?.message}`);
  return [...new Set(tags.data)];
}

function parseTagArray(json: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed) || !parsed.every((tag) => typeof tag === 'string' || typeof tag === 'number')) {
    throw new DomainError(ErrorCode.InvalidPayload, 'tags: a value starting with "[" must be a JSON array of strings');
  }
  return parsed.map(String);
}

/** A folder is a slash path: "/" by default, always with one leading slash and no empty segments. */
export function parseFolder(value: string): string {
  const folder = UploadFolder.safeParse(value);
  if (!folder.success) throw new DomainError(ErrorCode.InvalidPayload, `folder: ${folder.error.issues[0]?.message}`);
  return folder.data;
}

/** The name the client gave the file ("upload" when none); it is stored and shown, so it must be clean text. */
export function parseFilename(value: string | undefined): string {
  const filename = value || 'upload';
  const problem = textProblem(filename, 'short');
  if (problem) throw new DomainError(ErrorCode.InvalidPayload, `filename: ${problem}`);
  return filename;
}

const NOT_MULTIPART = 'expected a multipart/form-data body with a "file" part';

/**
 * The boundary of a multipart/form-data content type. Anything else is refused before the body is
 * read: another media type, or a multipart type without the boundary that delimits its parts.
 */
export function multipartBoundary(contentType: string | undefined): string {
  const [mediaType, ...parameters] = (contentType ?? '').split(';');
  if (mediaType.trim().toLowerCase() !== 'multipart/form-data') throw new DomainError(ErrorCode.InvalidPayload, NOT_MULTIPART);
  for (const parameter of parameters) {
    const match = /^\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s";]{1,70}))\s*$/i.exec(parameter);
    if (match) return match[1] ?? match[2];
  }
  throw new DomainError(ErrorCode.InvalidPayload, 'the multipart/form-data content type has no (valid) boundary parameter');
}

const ONE_FILE = 'send one file per request to this endpoint';
const tooManyFiles = (maxFiles: number) => (maxFiles === 1 ? ONE_FILE : `send at most ${maxFiles} files per request`);
const TOO_MANY_FIELDS = `the form has too many fields (at most ${MAX_FORM_FIELDS}); send a "file" part and optional "tags" and "folder"`;
const TRUNCATED = 'the multipart body is cut off: it ends before its closing boundary';

/**
 * What a broken form is, in the API's words: @fastify/multipart and busboy report bad framing and
 * their limits as plain errors (a 500) or as 413s (which the API would answer as "too large").
 */
function formError(error: unknown, limits: UploadLimits): DomainError | undefined {
  if (isDomainError(error)) return error;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  switch (code) {
    case 'FST_FILES_LIMIT':
      return new DomainError(ErrorCode.InvalidPayload, tooManyFiles(limits.maxFiles));
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new DomainError(ErrorCode.InvalidPayload, TOO_MANY_FIELDS);
    case 'FST_PROTO_VIOLATION':
      return new DomainError(ErrorCode.InvalidPayload, 'a form field has a forbidden name');
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return new DomainError(ErrorCode.InvalidPayload, 'a form field declared as application/json is not valid JSON');
    // The file stream was torn down under us: the body ended early, or busboy gave up on it.
    case 'ERR_STREAM_PREMATURE_CLOSE':
      return new DomainError(ErrorCode.InvalidPayload, TRUNCATED);
    default:
      break;
  }
  if (typeof message !== 'string') return undefined;
  if (/terminated early|Unexpected end of (multipart data|form)/i.test(message)) return new DomainError(ErrorCode.InvalidPayload, TRUNCATED);
  if (/Boundary not found|Unsupported content type|Malformed/i.test(message)) return new DomainError(ErrorCode.InvalidPayload, `the multipart body is malformed: ${message}`);
  return undefined;
}

/**
 * Watches the raw body for the multipart closing delimiter. busboy treats a body that simply stops
 * (inside the part headers, say) as a complete form; without the closing delimiter it is not.
 */
function watchClosingDelimiter(body: Readable, boundary: string): () => boolean {
  const delimiter = Buffer.from(`--${boundary}--`);
  const keep = delimiter.length - 1;
  let seen = false;
  let tail = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    // The chunk itself, and the seam with the end of the previous one (without copying the chunk).
    if (chunk.includes(delimiter) || Buffer.concat([tail, chunk.subarray(0, keep)]).includes(delimiter)) {
      seen = true;
      body.off('data', onData);
      return;
    }
    tail = Buffer.from(chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([tail, chunk]).subarray(-keep));
  };
  // Registered in the same tick as the multipart parser's pipe, so both see every chunk.
  body.on('data', onData);
  return () => seen;
}

interface FileStream extends Readable {
  truncated?: boolean;
}

/**
 * Buffers one file part, stopping the moment it passes its limit or the request's total: busboy
 * would otherwise read (and discard) the rest of the part first, however long it is.
 */
async function readFile(file: FileStream, limits: UploadLimits, readSoFar: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const onLimit = () => file.destroy(fileTooLarge(limits));
  file.once('limit', onLimit);
  try {
    for await (const chunk of file as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (readSoFar + size > limits.maxTotalBytes) throw requestTooLarge(limits);
      chunks.push(chunk);
    }
  } finally {
    file.off('limit', onLimit);
  }
  if (file.truncated) throw fileTooLarge(limits);
  return Buffer.concat(chunks, size);
}

/**
 * Reads a multipart upload: up to `maxFiles` file parts plus optional `tags` and `folder` fields.
 * Each file is buffered up to its limit and the whole request up to `maxTotalBytes` (413 the
 * moment either is passed); bad framing, a cut-off body and too many parts are 400s.
 */
export async function readUploadForm(request: FastifyRequest, limits: UploadLimits): Promise<UploadForm> {
  const boundary = multipartBoundary(request.headers['content-type']);
  const closed = watchClosingDelimiter(request.raw, boundary);
  const files: UploadedFile[] = [];
  const tagValues: string[] = [];
  let folder = '/';
  let totalBytes = 0;
  let fields = 0;
  try {
    // busboy's own limits sit one above ours, so ours are met first and answered precisely:
    // when busboy's trip, @fastify/multipart tears down the file being read.
    const parts = request.parts({ limits: { files: limits.maxFiles + 1, fileSize: limits.maxFileBytes, fields: MAX_FORM_FIELDS + 1, fieldSize: MAX_FIELD_BYTES } });
    for await (const part of parts) {
      if (part.type === 'file') {
        if (files.length >= limits.maxFiles) throw new DomainError(ErrorCode.InvalidPayload, tooManyFiles(limits.maxFiles));
        const filename = parseFilename(part.filename);
        const bytes = await readFile(part.file, limits, totalBytes);
        totalBytes += bytes.length;
        files.push({ filename, clientMediaType: part.mimetype, bytes });
      } else {
        if (++fields > MAX_FORM_FIELDS) throw new DomainError(ErrorCode.InvalidPayload, TOO_MANY_FIELDS);
        if (part.valueTruncated) throw new DomainError(ErrorCode.InvalidPayload, `${part.fieldname}: a form field may hold at most ${MAX_FIELD_BYTES} bytes`);
        const raw: unknown = part.value;
        const value = typeof raw === 'string' ? raw : '';
        if (part.fieldname === 'tags') tagValues.push(value);
        else if (part.fieldname === 'folder') folder = value;
      }
    }
  } catch (error) {
    throw formError(error, limits) ?? error;
  }
  if (!closed()) throw new DomainError(ErrorCode.InvalidPayload, TRUNCATED);
  if (files.length === 0) throw new DomainError(ErrorCode.InvalidPayload, 'the "file" part is missing');
  return { files, tags: parseTags(tagValues), folder: parseFolder(folder) };
}
