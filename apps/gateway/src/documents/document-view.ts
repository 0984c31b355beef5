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
  /** Pipeline step reached (parse, chunk, embed, index) and overall percent. */
  stage: string | null;
  progress: number;
  pageCount: number | null;
  /** Language, size, structure, chunking recommendation; with a model also summary and tags. */
  analysis: Record<string, unknown> | null;
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
    stage: document.stage,
    progress: document.status === 'indexed' ? 100 : document.progress,
    pageCount: document.pageCount,
    analysis: document.analysis,
    createdAt: document.createdAt.toISOString(),
    updatedAt: document.updatedAt.toISOString(),
    indexedAt: document.indexedAt?.toISOString() ?? null,
  };
}
