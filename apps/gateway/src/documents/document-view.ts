import type { DocumentEntity } from '@quarry/persistence';

/** The public JSON shape of a document. */
export interface DocumentView {
  id: string;
  filename: string;
  mediaType: string;
  sizeBytes: number;
  sha256: string;
  tags: string[];
  folder: string;
  status: string;
  error: string | null;
  chunkCount: number;
  createdAt: string;
  updatedAt: string;
  indexedAt: string | null;
}

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
    createdAt: document.createdAt.toISOString(),
    updatedAt: document.updatedAt.toISOString(),
    indexedAt: document.indexedAt?.toISOString() ?? null,
  };
}
