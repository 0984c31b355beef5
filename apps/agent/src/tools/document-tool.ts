import { DocumentStatus } from '@quarry/contracts';
import { ChunkRepository, type DataSource, type DocumentEntity, DocumentRepository } from '@quarry/persistence';
import { z } from 'zod';
import { type AgentTool, type ToolContext, ToolInputError } from './agent-tool';

const input = z.object({
  documentId: z.uuid().describe('The document id, as a search result or citation gives it.'),
  chunkId: z.uuid().optional().describe("A passage (chunk) id of that document, as a search result gives it: returns the passage's full text. Leave out for the document's metadata only."),
});

const documentInfo = z.object({
  id: z.string(),
  filename: z.string(),
  mediaType: z.string(),
  status: DocumentStatus,
  tags: z.array(z.string()),
  folder: z.string(),
  sizeBytes: z.number().int(),
  pageCount: z.number().int().nullable(),
  chunkCount: z.number().int().describe('How many passages the document is indexed as.'),
  summary: z.string().nullable().describe("The document's summary from analysis, when there is one."),
  language: z.string().nullable(),
  createdAt: z.string().describe('Upload time, ISO 8601.'),
  updatedAt: z.string(),
  indexedAt: z.string().nullable(),
});

const chunkInfo = z.object({
  id: z.string(),
  ordinal: z.number().int().describe('Position of the passage in the document, from 0.'),
  text: z.string(),
  tokenCount: z.number().int(),
  provenance: z.record(z.string(), z.unknown()).describe('Where the passage comes from: character offsets, heading path, pages.'),
});

const output = z.object({
  document: documentInfo,
  chunk: chunkInfo.optional(),
});

export type DocumentToolInput = z.output<typeof input>;
export type DocumentToolOutput = z.output<typeof output>;

/**
 * A document's metadata, or one of its passages, by id — within the caller's tenant only: another
 * tenant's id gets the same "not found" as an id that does not exist, so the answer tells nothing
 * about other tenants.
 */
export class DocumentTool implements AgentTool<typeof input, typeof output> {
  readonly name = 'document';
  readonly description =
    "Fetches one document's metadata (file name, type, status, tags, folder, upload date, page and passage counts, summary) by its id, or with a chunkId the full text of one of its passages with its position. Use it to read more of a passage a search found, or to say which file a citation comes from.";
  readonly input = input;
  readonly output = output;
  readonly timeoutMs = 3000;

  constructor(
    private readonly documents: DocumentRepository,
    private readonly chunks: ChunkRepository,
  ) {}

  async run({ documentId, chunkId }: DocumentToolInput, { tenantId }: ToolContext): Promise<DocumentToolOutput> {
    const [document, chunk] = await Promise.all([
      this.documents.findById(tenantId, documentId),
      chunkId ? this.chunks.findInDocument(tenantId, documentId, chunkId) : Promise.resolve(null),
    ]);
    if (!document) throw new ToolInputError(`no document with id ${documentId} was found`);
    const info = toInfo(document);
    if (!chunkId) return { document: info };
    if (!chunk) throw new ToolInputError(`document ${documentId} has no passage with id ${chunkId}`);
    return {
      document: info,
      chunk: { id: chunk.id, ordinal: chunk.ordinal, text: chunk.text, tokenCount: chunk.tokenCount, provenance: chunk.provenance ?? {} },
    };
  }

  summarize({ document, chunk }: DocumentToolOutput): string {
    if (chunk) return `passage ${chunk.ordinal} of ${document.filename} (${chunk.text.length} characters)`;
    return `${document.filename}: ${document.mediaType}, ${document.status}, ${document.chunkCount} passages`;
  }
}

function toInfo(document: DocumentEntity): DocumentToolOutput['document'] {
  const analysis = document.analysis ?? {};
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null);
  return {
    id: document.id,
    filename: document.filename,
    mediaType: document.mediaType,
    status: document.status,
    tags: document.tags,
    folder: document.folder,
    sizeBytes: document.sizeBytes,
    pageCount: document.pageCount,
    chunkCount: document.chunkCount,
    summary: text(analysis.summary),
    language: text(analysis.language),
    createdAt: document.createdAt.toISOString(),
    updatedAt: document.updatedAt.toISOString(),
    indexedAt: document.indexedAt?.toISOString() ?? null,
  };
}

/** The document tool over the tenant-scoped document and chunk repositories. */
export function createDocumentTool(dataSource: DataSource): DocumentTool {
  return new DocumentTool(new DocumentRepository(dataSource), new ChunkRepository(dataSource));
}
