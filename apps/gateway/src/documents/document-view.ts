import type { DocumentEntity } from '@quarry/persistence';
import type { DocumentView } from './documents.schemas';

/** The public JSON shape of a document (its schema is in documents.schemas.ts, for the OpenAPI document). */
export type { DocumentView };

export function toDocumentView(document: DocumentEntity): DocumentView {
  return {
    id: document.id,
    filename: document.filename,
    mediaType: document.mediaType,
    sizeBytes: document.sizeBytes,
    sha256: document.sha256.trim(),
    tags: document.tags,
    folder: document.folder,
    status: document.status,
    error: document.error,
    chunkCount: document.chunkCount,
    stage: document.stage,
    progress: document.status === 'indexed' ? 100 : document.progress,
    pageCount: document.pageCount,
    analysis: document.analysis,
    createdAt: document.createdAt.toISOString(),
    updatedAt: document.updatedAt.toISOString(),
    indexedAt: document.indexedAt?.toISOString() ?? null,
  };
}
