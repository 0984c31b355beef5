import type { DocumentStatus } from '@quarry/contracts';
import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { DocumentArtifactEntity } from '../entities/document-artifact.entity';
import { DocumentContentEntity } from '../entities/document-content.entity';
import { DocumentEntity } from '../entities/document.entity';
import { IndexChangeEntity } from '../entities/index-change.entity';
import { TenantEntity } from '../entities/tenant.entity';

export interface NewDocument {
  tenantId: string;
  filename: string;
  mediaType: string;
  sha256: string;
  tags: string[];
  folder: string;
}

/** What an upload needs to know about the document it stored or found. */
export interface StoredDocument {
  id: string;
  status: DocumentStatus;
  sha256: string;
}

interface StoredDocumentRow {
  id: string;
  status: DocumentStatus;
  sha256: string;
}

function toStored(row: StoredDocumentRow): StoredDocument {
  return { id: row.id, status: row.status, sha256: row.sha256.trim() };
}

export interface DocumentPage {
  items: DocumentEntity[];
  total: number;
}

/** A live document the reconciler looks at, with its place in the scan. */
export interface StuckDocument {
  id: string;
  tenantId: string;
  sha256: string;
  status: DocumentStatus;
  stage: string | null;
  /** Keyset position (exact to the microsecond): pass a page's last one as `after` for the next page. */
  position: StuckPosition;
}

export interface StuckPosition {
  updatedAt: string;
  id: string;
}

/** Where a document is in the pipeline: what progress streams watch. */
export interface DocumentProgress {
  id: string;
  tenantId: string;
  status: DocumentStatus;
  stage: string | null;
  progress: number;
  error: string | null;
  updatedAt: Date;
}

/** What a watcher last saw of a document (`status` null: nothing yet, so any state counts as a change). */
export interface KnownProgress {
  tenantId: string;
  id: string;
  status: DocumentStatus | null;
  stage: string | null;
  progress: number;
}

export type ProgressChange = ({ gone: false } & DocumentProgress) | { gone: true; id: string; tenantId: string };

/**
 * Documents and their stored bytes. Every method takes the tenant and matches it in its WHERE,
 * writes included, so an id from one tenant never reaches another tenant's row; the reconciler's
 * scan (`findStuck`) is the one read across tenants, and returns each document's tenant.
 */
export class DocumentRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a new document with its original bytes, unless the tenant already has a live document
   * with the same content: then that one is returned (`created: false`) and nothing is written. A
   * unique index decides between concurrent uploads of the same file, so exactly one is created.
   * Document and bytes go in with one statement (atomic without a transaction round trip): uploads
   * are the hot path of bulk ingestion.
   */
  async createOrFindLive(input: NewDocument, bytes: Buffer): Promise<{ document: StoredDocument; created: boolean }> {
    await this.ensureTenantOnce(input.tenantId);
    const inserted: StoredDocumentRow[] = await this.dataSource.query(
      `WITH created AS (
         INSERT INTO documents (tenant_id, filename, media_type, size_bytes, sha256, tags, folder, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued')
         ON CONFLICT (tenant_id, sha256) WHERE status IN ('queued', 'processing', 'indexed') DO NOTHING
         RETURNING id, status, sha256
       ), content AS (
         INSERT INTO document_contents (tenant_id, document_id, bytes) SELECT $1, id, $8 FROM created
       )
       SELECT id, status, sha256 FROM created`,
      [input.tenantId, input.filename, input.mediaType, bytes.length, input.sha256, input.tags, input.folder, bytes],
    );
    if (inserted.length > 0) return { document: toStored(inserted[0]), created: true };
    const existing: StoredDocumentRow[] = await this.dataSource.query(
      `SELECT id, status, sha256 FROM documents WHERE tenant_id = $1 AND sha256 = $2 AND status IN ('queued', 'processing', 'indexed')`,
      [input.tenantId, input.sha256],
    );
    if (existing.length === 0) {
      // The live duplicate finished failing between the two statements: store this one after all.
      return this.createOrFindLive(input, bytes);
    }
    return { document: toStored(existing[0]), created: false };
  }

  // Tenants are created on first use and never renamed, so each process inserts each one once.
  private readonly knownTenants = new Set<string>();

  private async ensureTenantOnce(tenantId: string): Promise<void> {
    if (this.knownTenants.has(tenantId)) return;
    await this.dataSource.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [tenantId]);
    this.knownTenants.add(tenantId);
  }

  /** Stores the document and its bytes without the dedup check (tests and imports). */
  async createWithContent(input: NewDocument, bytes: Buffer): Promise<DocumentEntity> {
    return this.dataSource.transaction(async (manager) => {
      await ensureTenant(manager, input.tenantId);
      const { tenantId, filename, mediaType, sha256, tags, folder } = input;
      const document = manager.create(DocumentEntity, { tenantId, filename, mediaType, sha256, tags, folder, sizeBytes: bytes.length, status: 'queued', error: null });
      // An insert, never a save: a save given an existing id would update that row, whosever it is.
      await manager.insert(DocumentEntity, document as QueryDeepPartialEntity<DocumentEntity>);
      await manager.insert(DocumentContentEntity, { tenantId: input.tenantId, documentId: document.id, bytes });
      return document;
    });
  }

  /** The tenant's document, or null (missing, or another tenant's). */
  findById(tenantId: string, id: string): Promise<DocumentEntity | null> {
    return this.dataSource.getRepository(DocumentEntity).findOneBy({ tenantId, id });
  }

  /** The tenant's documents, newest first, a page at a time. */
  async list(tenantId: string, options: { status?: DocumentStatus; limit: number; offset: number }): Promise<DocumentPage> {
    const [items, total] = await this.dataSource.getRepository(DocumentEntity).findAndCount({
      where: { tenantId, ...(options.status ? { status: options.status } : {}) },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: options.limit,
      skip: options.offset,
    });
    return { items, total };
  }

  /** Of `ids`, the tenant's documents and their status; a missing id, or another tenant's, is simply absent. */
  async statusesOf(tenantId: string, ids: readonly string[]): Promise<Map<string, DocumentStatus>> {
    if (ids.length === 0) return new Map();
    const rows: Array<{ id: string; status: DocumentStatus }> = await this.dataSource.query(
      'SELECT id, status FROM documents WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
      [tenantId, [...ids]],
    );
    return new Map(rows.map((row) => [row.id, row.status]));
  }

  /** The ids of the tenant's indexed documents after `after` (by id), a page at a time: keyset paging, so documents indexed meanwhile shift nothing. */
  async indexedIds(tenantId: string, options: { after?: string; limit: number }): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM documents WHERE tenant_id = $1 AND status = 'indexed' AND id > $2::uuid ORDER BY id LIMIT $3`,
      [tenantId, options.after ?? '00000000-0000-0000-0000-000000000000', options.limit],
    );
    return rows.map((row) => row.id);
  }

  /** The stored bytes of the tenant's document. */
  async content(tenantId: string, documentId: string): Promise<Buffer | null> {
    const row = await this.dataSource.getRepository(DocumentContentEntity).findOneBy({ tenantId, documentId });
    return row?.bytes ?? null;
  }

  /**
   * Records that a pipeline step started on this content. False (and nothing written) when the
   * document is gone, not the tenant's, holds other content, or is final (indexed, failed, cancelled).
   */
  async enterStage(tenantId: string, id: string, sha256: string, stage: string, progress: number): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(DocumentEntity)
      .set({ status: 'processing', stage, progress, error: null })
      .where('id = :id AND tenant_id = :tenantId AND sha256 = :sha256 AND status IN (:...live)', { id, tenantId, sha256, live: ['queued', 'processing'] })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** A processing document's overall progress, 0..100. */
  async setProgress(tenantId: string, id: string, progress: number): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .update(DocumentEntity)
      .set({ progress: Math.max(0, Math.min(100, Math.round(progress))) })
      .where('id = :id AND tenant_id = :tenantId AND status = :status', { id, tenantId, status: 'processing' })
      .execute();
  }

  /** Current status, or undefined when the document is gone (or not the tenant's); cheap enough to poll during work. */
  async statusOf(tenantId: string, id: string): Promise<DocumentStatus | undefined> {
    const rows: Array<{ status: DocumentStatus }> = await this.dataSource.query('SELECT status FROM documents WHERE id = $1 AND tenant_id = $2', [id, tenantId]);
    return rows[0]?.status;
  }

  /**
   * Of the given documents (each of its own tenant), those whose status, stage or progress differ
   * from what the caller knows, with their current fields, and those that are gone (deleted, or
   * not the tenant's): one statement for any number of documents, comparing in the database, so
   * nothing comes back while nothing changes (a gateway polls every watched document with it).
   */
  async progressChanges(known: readonly KnownProgress[]): Promise<ProgressChange[]> {
    if (known.length === 0) return [];
    // One JSON parameter: serialising thousands of array elements one by one costs the caller more
    // than the query does.
    const watched = JSON.stringify(known.map((item) => ({ t: item.tenantId, i: item.id, s: item.status, g: item.stage, p: item.progress })));
    const rows: Array<{
      id: string;
      tenant_id: string;
      gone: boolean;
      status: DocumentStatus;
      stage: string | null;
      progress: number;
      error: string | null;
      updated_at: Date;
    }> = await this.dataSource.query(
      `SELECT w.i AS id, w.t AS tenant_id, d.id IS NULL AS gone, d.status, d.stage, d.progress, d.error, d.updated_at
       FROM json_to_recordset($1::json) AS w(t text, i uuid, s text, g text, p int)
       LEFT JOIN documents d ON d.id = w.i AND d.tenant_id = w.t
       WHERE d.id IS NULL OR (d.status, d.stage, d.progress) IS DISTINCT FROM (w.s, w.g, w.p)`,
      [watched],
    );
    return rows.map((row) =>
      row.gone
        ? { gone: true, id: row.id, tenantId: row.tenant_id }
        : {
            gone: false,
            id: row.id,
            tenantId: row.tenant_id,
            status: row.status,
            stage: row.stage,
            progress: row.progress,
            error: row.error,
            updatedAt: row.updated_at,
          },
    );
  }

  /** Marks a live document failed with a readable reason; a cancelled or indexed one stays as it is. */
  async markFailed(tenantId: string, id: string, error: string): Promise<boolean> {
    const result = await this.dataSource
      .createQueryBuilder()
      .update(DocumentEntity)
      .set({ status: 'failed', error: error.slice(0, 2000) })
      .where('id = :id AND tenant_id = :tenantId AND status IN (:...live)', { id, tenantId, live: ['queued', 'processing'] })
      .execute();
    return (result.affected ?? 0) > 0;
  }

  /** Cancels a document that is still queued or processing; its partial work is deleted. */
  async cancel(tenantId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(DocumentEntity)
        .set({ status: 'cancelled', error: 'cancelled by request' })
        .where('id = :id AND tenant_id = :tenantId AND status IN (:...live)', { id, tenantId, live: ['queued', 'processing'] })
        .execute();
      if ((result.affected ?? 0) === 0) return false;
      await manager.delete(DocumentArtifactEntity, { tenantId, documentId: id });
      return true;
    });
  }

  /** What parsing learned about the document, in one write. */
  async saveParseFacts(tenantId: string, id: string, facts: { pageCount: number | null; analysis: Record<string, unknown> }): Promise<void> {
    await this.dataSource
      .getRepository(DocumentEntity)
      .update({ id, tenantId }, { pageCount: facts.pageCount, analysis: facts.analysis as QueryDeepPartialEntity<Record<string, unknown>> });
  }

  /** The document's analysis (replacing the heuristic one with the model's). */
  async saveAnalysis(tenantId: string, id: string, analysis: Record<string, unknown>): Promise<void> {
    await this.dataSource.getRepository(DocumentEntity).update({ id, tenantId }, { analysis: analysis as QueryDeepPartialEntity<Record<string, unknown>> });
  }

  /**
   * Documents still queued or processing whose row has not changed for `seconds` (crash, lost job),
   * oldest first, a page at a time: keyset paging by (updated_at, id), so a scan reaches every
   * candidate however many there are (an offset would skip or repeat rows that move meanwhile).
   * @allTenants system work: the reconciler's stuck scan; each row names its tenant, which the
   * reconciler passes to every write that follows.
   */
  async findStuck(seconds: number, options: { limit?: number; after?: StuckPosition } = {}): Promise<StuckDocument[]> {
    const { limit = 500, after } = options;
    const rows: Array<{ id: string; tenant_id: string; sha256: string; status: DocumentStatus; stage: string | null; updated_at: string }> =
      await this.dataSource.query(
        `SELECT id, tenant_id, sha256, status, stage, updated_at::text AS updated_at FROM documents
         WHERE status IN ('queued', 'processing') AND updated_at < now() - make_interval(secs => $1)
           AND ($2::timestamptz IS NULL OR (updated_at, id) > ($2::timestamptz, $3::uuid))
         ORDER BY updated_at, id
         LIMIT $4`,
        [seconds, after?.updatedAt ?? null, after?.id ?? null, limit],
      );
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      sha256: row.sha256.trim(),
      status: row.status,
      stage: row.stage,
      position: { updatedAt: row.updated_at, id: row.id },
    }));
  }

  /** Marks a live document as looked at now, so the reconciler does not re-drive it again at once. */
  async touch(tenantId: string, id: string): Promise<void> {
    await this.dataSource.query(`UPDATE documents SET updated_at = now() WHERE id = $1 AND tenant_id = $2 AND status IN ('queued', 'processing')`, [id, tenantId]);
  }

  /** Live documents of a tenant that are still waiting or in work: the tenant's share of the queue. */
  async inFlightCount(tenantId: string): Promise<number> {
    const rows: Array<{ count: string }> = await this.dataSource.query(
      `SELECT count(*)::text AS count FROM documents WHERE tenant_id = $1 AND status IN ('queued', 'processing')`,
      [tenantId],
    );
    return Number(rows[0]?.count ?? 0);
  }

  /**
   * Removes documents of an upload that could not be queued (never processed, so nothing else refers
   * to them): the client is told the upload failed, and its retry must find no trace of it.
   */
  async discardUnqueued(tenantId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query(`DELETE FROM documents WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'queued'`, [tenantId, ids]);
  }

  /** Deletes the document, its bytes and chunks, and tells every retrieval replica to drop it. */
  async delete(tenantId: string, id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const result = await manager.delete(DocumentEntity, { tenantId, id });
      if ((result.affected ?? 0) === 0) return false;
      await manager.insert(IndexChangeEntity, { tenantId, documentId: id, kind: 'delete' });
      return true;
    });
  }
}

export async function ensureTenant(manager: EntityManager, tenantId: string): Promise<void> {
  await manager.createQueryBuilder().insert().into(TenantEntity).values({ id: tenantId, name: tenantId }).orIgnore().execute();
}
