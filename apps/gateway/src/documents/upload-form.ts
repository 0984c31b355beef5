import type { MultipartFile } from '@fastify/multipart';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

export interface UploadForm {
  filename: string;
  clientMediaType: string;
  bytes: Buffer;
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
function parseTags(values: string[]): string[] {
  const raw = values.flatMap((value) => {
    const trimmed = value.trim();
    if (trimmed.startsWith('[')) {
      const parsed: unknown = JSON.parse(trimmed);
      return Array.isArray(parsed) ? parsed.map(String) : [];
    }
    return trimmed.split(',');
  });
  const tags = z.array(Tag).max(32).safeParse(raw.map((tag) => tag.trim()).filter(Boolean));
  if (!tags.success) throw new DomainError(ErrorCode.InvalidPayload, `tags: ${tags.error.issues[0]?.message}`);
  return [...new Set(tags.data)];
}

/**
 * Reads a multipart upload: one `file` part plus optional `tags` and `folder` fields. The file is
 * buffered up to the configured size limit; past it @fastify/multipart stops reading and the
 * request fails with 413.
 */
export async function readUploadForm(request: FastifyRequest): Promise<UploadForm> {
  if (!request.isMultipart()) throw new DomainError(ErrorCode.InvalidPayload, 'expected a multipart/form-data body with a "file" part');
  let file: { part: MultipartFile; bytes: Buffer } | undefined;
  const tagValues: string[] = [];
  let folder = '/';
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (file) throw new DomainError(ErrorCode.InvalidPayload, 'send one file per request to this endpoint');
      file = { part, bytes: await part.toBuffer() };
    } else {
      const raw: unknown = part.value;
      const value = typeof raw === 'string' ? raw : '';
      if (part.fieldname === 'tags') tagValues.push(value);
      else if (part.fieldname === 'folder') folder = value;
    }
  }
  if (!file) throw new DomainError(ErrorCode.InvalidPayload, 'the "file" part is missing');
  const parsedFolder = Folder.safeParse(folder);
  if (!parsedFolder.success) throw new DomainError(ErrorCode.InvalidPayload, `folder: ${parsedFolder.error.issues[0]?.message}`);
  return {
    filename: file.part.filename || 'upload',
    clientMediaType: file.part.mimetype,
    bytes: file.bytes,
    tags: parseTags(tagValues),
    folder: parsedFolder.data,
  };
}
