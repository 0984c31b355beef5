import { DocumentStatus, ErrorCode, INGESTION_STAGES, safeShortText } from '@quarry/contracts';
import { z } from 'zod';

// The shapes of the document routes: what the controller validates and what it answers. The
// OpenAPI document (apps/gateway/src/openapi) is generated from these very objects.

const EXAMPLE_ID = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
const EXAMPLE_SHA256 = 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9';
const EXAMPLE_JOB_ID = `ingest-${EXAMPLE_ID}-${EXAMPLE_SHA256}`;

// ---- requests -------------------------------------------------------------------------------

export const DocumentId = z.uuid({ message: 'document id must be a UUID' }).meta({
  description: 'The id an upload returned (`documentId`).',
  examples: [EXAMPLE_ID],
});

export const ListDocumentsQuery = z.object({
  status: DocumentStatus.optional().meta({ description: 'Only documents in this status.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Page size.' }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: 'Documents to skip (newest first).' }),
});

/** One tag of an upload's `tags` field (the field may hold several). */
export const UploadTag = safeShortText(z.string().trim().min(1).max(64).regex(/^[^,]+$/, 'a tag may not contain ","'));
export const MAX_UPLOAD_TAGS = 32;
export const UploadTags = z.array(UploadTag).max(MAX_UPLOAD_TAGS);

/** A folder is a slash path: "/" by default, always with one leading slash and no empty segments. */
export const UploadFolder = safeShortText(z.string().trim().max(512))
  // Examples sit on the input side: a document of the request shows what is sent.
  .meta({ examples: ['/company/hr'] })
  .transform((folder) => `/${folder.split('/').filter(Boolean).join('/')}`)
  .meta({ description: 'A slash path the documents are filed under (`/` when absent); stored with one leading slash and no empty segments.' });

const FileField = z.string().meta({
  description: 'The document: PDF, DOCX, HTML, Markdown or plain text. The type is detected from the content, not from the name or the part\'s content type.',
  contentMediaType: 'application/octet-stream',
});
const TagsField = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .meta({
    description:
      `Tags for the documents: a comma-separated list, a JSON array, or the field repeated. At most ${MAX_UPLOAD_TAGS} tags of 1-64 characters, none containing ","; duplicates are dropped.`,
    examples: ['hr,policy'],
  });

/**
 * The multipart form of `POST /api/documents`. The upload is read as a stream (so a file is cut
 * off the moment it passes its limit), not parsed with this object; the fields it reads are
 * checked with `UploadTags` and `UploadFolder` above. A form holds at most 20 fields of 16 KiB.
 */
export const UploadFormFields = z.object({ file: FileField, tags: TagsField, folder: UploadFolder.optional() });

/** The multipart form of `POST /api/documents/batch`: the `file` part repeated. */
export const BatchUploadFormFields = z.object({
  file: z.array(FileField).min(1).meta({ description: 'The documents, one `file` part each (each succeeds or fails on its own).' }),
  tags: TagsField,
  folder: UploadFolder.optional(),
});

// ---- responses ------------------------------------------------------------------------------

const Timestamp = z.iso.datetime();

export const DocumentView = z
  .object({
    id: z.uuid(),
    filename: z.string(),
    mediaType: z.string().meta({ description: 'Detected from the content.' }),
    sizeBytes: z.number().int().min(0),
    sha256: z.string().meta({ description: 'Of the stored bytes; the same content in the same tenant is stored once.' }),
    tags: z.array(z.string()),
    folder: z.string(),
    status: DocumentStatus,
    error: z.string().nullable().meta({ description: 'Why the document failed, in words a user can act on (e.g. "needs OCR").' }),
    chunkCount: z.number().int().min(0),
    stage: z
      .string()
      .nullable()
      .meta({ description: `The pipeline step reached: ${INGESTION_STAGES.join(', ')}.` }),
    progress: z.number().min(0).max(100).meta({ description: 'Overall percent (100 once indexed).' }),
    pageCount: z.number().int().min(0).nullable(),
    analysis: z
      .record(z.string(), z.unknown())
      .nullable()
      .meta({ description: 'Language, size, structure and a chunking recommendation; with a model also a summary and tags.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    indexedAt: Timestamp.nullable(),
  })
  .meta({
    description: 'A document of the tenant.',
    examples: [
      {
        id: EXAMPLE_ID,
        filename: 'handbook.md',
        mediaType: 'text/markdown',
        sizeBytes: 18342,
        sha256: EXAMPLE_SHA256,
        tags: ['hr', 'policy'],
        folder: '/company',
        status: 'indexed',
        error: null,
        chunkCount: 42,
        stage: 'index',
        progress: 100,
        pageCount: null,
        analysis: { language: 'en' },
        createdAt: '2025-01-15T09:30:00.000Z',
        updatedAt: '2025-01-15T09:30:04.000Z',
        indexedAt: '2025-01-15T09:30:04.000Z',
      },
    ],
  });
export type DocumentView = z.output<typeof DocumentView>;

export const ProcessingRun = z.object({
  kind: z.string().meta({ description: `The step: ${INGESTION_STAGES.join(', ')}.` }),
  attempt: z.number().int().min(1),
  status: z.enum(['active', 'completed', 'failed', 'interrupted']).meta({
    description: '`interrupted`: stopped by an outage, a cancellation or a shutdown (it does not count against the document).',
  }),
  error: z.string().nullable(),
  startedAt: Timestamp,
  finishedAt: Timestamp.nullable(),
});

export const DocumentDetail = DocumentView.extend({
  processing: z.array(ProcessingRun).meta({ description: 'Every attempt of every pipeline step, oldest first.' }),
}).meta({ description: 'A document with its processing history.' });
export type DocumentDetail = z.output<typeof DocumentDetail>;

export const DocumentPage = z
  .object({ items: z.array(DocumentView), total: z.number().int().min(0), limit: z.number().int(), offset: z.number().int() })
  .meta({ description: 'One page of the tenant\'s documents, newest first.' });
export type DocumentPage = z.output<typeof DocumentPage>;

const UploadFields = {
  documentId: z.uuid(),
  jobId: z.string().meta({ description: 'Follow it at `GET /api/jobs/{id}` or its `/events` stream.', examples: [EXAMPLE_JOB_ID] }),
  status: DocumentStatus,
  duplicate: z.boolean().meta({ description: 'True when the tenant already had this content: the existing document is returned.' }),
};

export const UploadResult = z.object(UploadFields).meta({
  description: 'The stored document and the ingestion job that processes it.',
  examples: [{ documentId: EXAMPLE_ID, jobId: EXAMPLE_JOB_ID, status: 'queued', duplicate: false }],
});
export type UploadResult = z.output<typeof UploadResult>;

export const BatchUploadItem = z.union([
  z.object({ filename: z.string(), ...UploadFields }),
  z.object({
    filename: z.string(),
    error: z.object({ code: z.enum(ErrorCode), message: z.string() }).meta({ description: 'Why this file was refused (the rest of the batch is unaffected).' }),
  }),
]);

export const BatchUploadResult = z
  .object({ documents: z.array(BatchUploadItem).meta({ description: 'One entry per file, in the order sent.' }) })
  .meta({
    description: 'Each file of the batch, stored and queued or refused with its reason.',
    examples: [
      {
        documents: [
          { filename: 'handbook.md', documentId: EXAMPLE_ID, jobId: EXAMPLE_JOB_ID, status: 'queued', duplicate: false },
          { filename: 'empty.txt', error: { code: 'EMPTY_DOCUMENT', message: '"empty.txt" is empty' } },
        ],
      },
    ],
  });
export type BatchUploadResult = z.output<typeof BatchUploadResult>;
