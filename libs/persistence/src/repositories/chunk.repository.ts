import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ChunkEntity } from '../entities/chunk.entity';
import { DocumentArtifactEntity } from '../entities/document-artifact.entity';
import { DocumentEntity } from '../entities/document.entity';
import { IndexChangeEntity } from '../entities/index-change.entity';
import { EmbeddingVersionRepository } from './embedding-version.repository';
import { bytesToVector, vectorToBytes } from './vector-bytes';

export interface NewChunk {
  ordinal: number;
  text: string;
  tokenCount: number;
  provenance: Record<string, unknown>;
  embedding: Float32Array;
}

/** A chunk with its document's metadata, as the retrieval index needs it. */
export interface ChunkForIndex {
  chunkId: string;
  documentId: string;
  tenantId: string;
  ordinal: number;
  text: string;
  provenance: Record<string, unknown>;
  /** The chunk's embedding (named as the search index expects it, so rows index as they are). */
  vector: Float32Array;
  embeddingModel: string;
  filename: string;
  tags: string[];
  folder: string;
}

/** Vectors of the embedding version being built, written beside the active ones. */
export interface BuildingVectors {
  versionId: number;
  vectors: Float32Array[];
}

/** The embedding versions changed between embedding and indexing: embed again and retry. */
export class EmbeddingVersionChangedError extends Error {
  override readonly name = 'EmbeddingVersionChangedError';
}

export interface IndexChange {
  seq: bigint;
  tenantId: string;
  documentId: string;
  kind: 'upsert' | 'delete';
}

interface ChunkRow {
  chunk_id: string;
  document_id: string;
  tenant_id: string;
  ordinal: number;
  text: string;
  provenance: Record<string, unknown>;
  embedding: Buffer;
  embedding_model: string;
  filename: string;
  tags: string[];
  folder: string;
}

const CHUNK_FOR_INDEX_COLUMNS = `
  c.id AS chunk_id, c.document_id, c.tenant_id, c.ordinal, c.text, c.provenance, c.embedding,
  c.embedding_model, d.filename, d.tags, d.folder`;

/** Chunks, their embeddings, and the index change log that keeps every retrieval replica current. */
export class ChunkRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Replaces a document's chunks, marks it indexed and appends an index change, atomically: readers
   * see the old chunks or the new ones, never a mix, and a retry of the step is harmless.
   * Returns false (writing nothing) when the document was deleted meanwhile.
   */
  async replaceDocumentChunks(
    tenantId: string,
    documentId: string,
    embeddingModel: string,
    chunks: NewChunk[],
    expectedSha256?: string,
    building?: BuildingVectors,
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      // Shares the embedding versions with a concurrent switch: either this write lands before the
      // switch (and its building vectors move with everything else) or after it (and it must use the
      // new active model). A mismatch means the caller embedded for versions that no longer hold.
      const versions: Array<{ id: number; model: string; state: string }> = await manager.query(
        `SELECT id, model, state FROM embedding_versions WHERE state IN ('active', 'building') FOR SHARE`,
      );
      const active = versions.find((version) => version.state === 'active');
      const buildingNow = versions.find((version) => version.state === 'building');
      if ((active && active.model !== embeddingModel) || (buildingNow?.id ?? null) !== (building?.versionId ?? null)) {
        throw new EmbeddingVersionChangedError(`embedding versions changed while indexing (active ${active?.model ?? 'none'})`);
      }
      // The row lock orders this write against a concurrent cancel or delete of the document.
      const locked: Array<{ status: string; sha256: string }> = await manager.query(
        'SELECT status, sha256 FROM documents WHERE id = $1 FOR UPDATE',
        [documentId],
      );
      const current = locked[0];
      if (!current || current.status === 'cancelled' || current.status === 'failed') return false;
      if (expectedSha256 && current.sha256 !== expectedSha256) return false;
      await manager.delete(ChunkEntity, { documentId });
      for (let start = 0; start < chunks.length; start += 500) {
        const rows = chunks.slice(start, start + 500).map((chunk): QueryDeepPartialEntity<ChunkEntity> => ({
          documentId,
          tenantId,
          ordinal: chunk.ordinal,
          text: chunk.text,
          tokenCount: chunk.tokenCount,
          provenance: chunk.provenance as QueryDeepPartialEntity<Record<string, unknown>>,
          embedding: vectorToBytes(chunk.embedding),
          embeddingModel,
        }));
        const inserted = await manager.insert(ChunkEntity, rows);
        if (building) {
          const ids = inserted.identifiers.map((identifier) => String(identifier.id));
          await new EmbeddingVersionRepository(this.dataSource).saveVectors(
            building.versionId,
            ids.map((chunkId, offset) => ({ chunkId, vector: building.vectors[start + offset] })),
            manager,
          );
        }
      }
      await manager.update(
        DocumentEntity,
        { id: documentId },
        { status: 'indexed', error: null, chunkCount: chunks.length, indexedAt: new Date(), stage: 'index', progress: 100 },
      );
      await manager.delete(DocumentArtifactEntity, { documentId });
      await manager.insert(IndexChangeEntity, { tenantId, documentId, kind: 'upsert' });
      return true;
    });
  }

  /** The newest change sequence number; a replica that loaded everything starts from here. */
  async latestChangeSeq(): Promise<bigint> {
    const rows: Array<{ seq: string | null }> = await this.dataSource.query('SELECT max(seq)::text AS seq FROM index_changes');
    return BigInt(rows[0]?.seq ?? '0');
  }

  async changesSince(seq: bigint, limit = 1000): Promise<IndexChange[]> {
    const rows: Array<{ seq: string; tenant_id: string; document_id: string; kind: 'upsert' | 'delete' }> = await this.dataSource.query(
      'SELECT seq::text AS seq, tenant_id, document_id, kind FROM index_changes WHERE seq > $1 ORDER BY seq LIMIT $2',
      [seq.toString(), limit],
    );
    return rows.map((row) => ({ seq: BigInt(row.seq), tenantId: row.tenant_id, documentId: row.document_id, kind: row.kind }));
  }

  /** Pages through every chunk of every indexed document, keyed by chunk id, for an index rebuild. */
  async *allIndexedChunks(pageSize = 2000): AsyncGenerator<ChunkForIndex[]> {
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: ChunkRow[] = await this.dataSource.query(
        `SELECT ${CHUNK_FOR_INDEX_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id
         WHERE d.status = 'indexed' AND c.id > $1 ORDER BY c.id LIMIT $2`,
        [after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map(toChunkForIndex);
      after = rows[rows.length - 1].chunk_id;
    }
  }

  async chunksOfDocuments(documentIds: string[]): Promise<ChunkForIndex[]> {
    if (documentIds.length === 0) return [];
    const rows: ChunkRow[] = await this.dataSource.query(
      `SELECT ${CHUNK_FOR_INDEX_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id
       WHERE d.status = 'indexed' AND c.document_id = ANY($1::uuid[]) ORDER BY c.document_id, c.ordinal`,
      [documentIds],
    );
    return rows.map(toChunkForIndex);
  }
}

function toChunkForIndex(row: ChunkRow): ChunkForIndex {
  return {
    chunkId: row.chunk_id,
    documentId: row.document_id,
    tenantId: row.tenant_id,
    ordinal: row.ordinal,
    text: row.text,
    provenance: row.provenance,
    vector: bytesToVector(row.embedding),
    embeddingModel: row.embedding_model,
    filename: row.filename,
    tags: row.tags,
    folder: row.folder,
  };
}
