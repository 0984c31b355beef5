import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

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

const Tag = z.string().trim().min(1).max(64).regex(/^[^,]+$/, 'a tag may not contain ","');
const Folder = z
  .string()
  .trim()
  .max(512)
  .transform((folder) => `/${folder.split('/').filter(Boolean).join('/')}`);

/** Tags may come as repeated fields, a comma-separated list, or a JSON array. */
export function parseTags(values: string[]): string[] {
  const raw = values.flatMap((value) => {
    const trimmed = value.trim();
    return trimmed.startsWith('[') ? parseTagArray(trimmed) : trimmed.split(',');
  });
  const tags = z.array(Tag).max(32).safeParse(raw.map((tag) => tag.trim()).filter(Boolean));
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
  const folder = Folder.safeParse(value);
  if (!folder.success) throw new DomainError(ErrorCode.InvalidPayload, `folder: ${folder.error.issues[0]?.message}`);
  return folder.data;
}

const ONE_FILE = 'send one file per request to this endpoint';
const tooManyFiles = (maxFiles: number) => (maxFiles === 1 ? ONE_FILE : `send at most ${maxFiles} files per request`);

/**
 * @fastify/multipart reports too many files, fields or parts as a 413, which the API would answer
 * as "larger than MAX_UPLOAD_BYTES"; these are malformed forms instead.
 */
function countLimitError(error: unknown, maxFiles: number): DomainError | undefined {
  switch ((error as { code?: unknown } | null)?.code) {
    case 'FST_FILES_LIMIT':
      return new DomainError(ErrorCode.InvalidPayload, tooManyFiles(maxFiles));
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new DomainError(ErrorCode.InvalidPayload, 'the form has too many fields; send a "file" part and optional "tags" and "folder"');
    default:
      return undefined;
  }
}

/**
 * Reads a multipart upload: up to `maxFiles` file parts plus optional `tags` and `folder` fields.
 * Each file is buffered up to the configured size limit (past it @fastify/multipart stops reading
 * and the request fails with 413), and the whole request up to `maxTotalBytes`.
 */
export async function readUploadForm(
  request: FastifyRequest,
  limits: { maxFiles: number; maxFileBytes: number; maxTotalBytes: number },
): Promise<UploadForm> {
  if (!request.isMultipart()) throw new DomainError(ErrorCode.InvalidPayload, 'expected a multipart/form-data body with a "file" part');
  const files: UploadedFile[] = [];
  const tagValues: string[] = [];
  let folder = '/';
  let totalBytes = 0;
  try {
    // Per-request limits replace the registered ones as a whole, so all of them are given here.
    for await (const part of request.parts({ limits: { files: limits.maxFiles, fileSize: limits.maxFileBytes, fields: 20, fieldSize: 64 * 1024 } })) {
      if (part.type === 'file') {
        if (files.length >= limits.maxFiles) throw new DomainError(ErrorCode.InvalidPayload, tooManyFiles(limits.maxFiles));
        const bytes = await part.toBuffer();
        totalBytes += bytes.length;
        if (totalBytes > limits.maxTotalBytes) {
          throw new DomainError(ErrorCode.PayloadTooLarge, `the files of one request may total at most ${limits.maxTotalBytes} bytes`);
        }
        files.push({ filename: part.filename || 'upload', clientMediaType: part.mimetype, bytes });
      } else {
        const raw: unknown = part.value;
        const value = typeof raw === 'string' ? raw : '';
        if (part.fieldname === 'tags') tagValues.push(value);
        else if (part.fieldname === 'folder') folder = value;
      }
    }
  } catch (error) {
    throw countLimitError(error, limits.maxFiles) ?? error;
  }
  if (files.length === 0) throw new DomainError(ErrorCode.InvalidPayload, 'the "file" part is missing');
  return { files, tags: parseTags(tagValues), folder: parseFolder(folder) };
}
