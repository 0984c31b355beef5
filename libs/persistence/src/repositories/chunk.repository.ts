import type { DataSource, EntityManager } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ChunkEntity } from '../entities/chunk.entity';
import { DocumentArtifactEntity } from '../entities/document-artifact.entity';
import { DocumentEntity } from '../entities/document.entity';
import { IndexChangeEntity } from '../entities/index-change.entity';
import { EmbeddingVersionRepository } from './embedding-version.repository';
import { type FinishedAttempt, ProcessingJobRepository } from './processing-job.repository';
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

/**
 * A position in the index change feed, which is ordered by (txId, seq): a reader that holds this
 * position has applied every change at or below it (see `ChunkRepository.changesAfter`).
 */
export interface FeedPosition {
  readonly txId: bigint;
  readonly seq: bigint;
}

export interface IndexChange extends FeedPosition {
  tenantId: string;
  documentId: string;
  kind: 'upsert' | 'delete';
}

export interface FeedPage {
  /** Changes after the position whose transactions have all ended, in feed order: a reader may move past them. */
  settled: IndexChange[];
  /** Committed changes after those, not settled yet (an older transaction is still running): apply early at most, never move past. */
  unsettled: IndexChange[];
  /** The page was full of settled changes: more may follow. */
  more: boolean;
}

export interface PendingDocument {
  tenantId: string;
  documentId: string;
}

/** Indexed chunks per tenant (or per document), without the documents that have changes in flight. */
export interface IndexedCounts {
  counts: Map<string, number>;
  pending: PendingDocument[];
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

/**
 * Chunks, their embeddings, and the index change log that keeps every retrieval replica current.
 * Writes and per-document reads take the tenant; the feed, the full load and the per-tenant counts
 * are the retrieval replicas' own work over all tenants (marked `@allTenants`) and take no ids.
 */
export class ChunkRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Replaces a document's chunks, marks it indexed and appends an index change, atomically: readers
   * see the old chunks or the new ones, never a mix, and a retry of the step is harmless. The steps'
   * attempt rows (`history`) are written in the same transaction, so a process killed right after
   * the commit cannot leave an indexed document without its processing history.
   * Returns false (writing nothing) when the document was deleted meanwhile, or is not the tenant's.
   */
  async replaceDocumentChunks(
    tenantId: string,
    documentId: string,
    embeddingModel: string,
    chunks: NewChunk[],
    options: { expectedSha256?: string; building?: BuildingVectors; history?: FinishedAttempt[] } = {},
  ): Promise<boolean> {
    const { expectedSha256, building, history = [] } = options;
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
        'SELECT status, sha256 FROM documents WHERE id = $1 AND tenant_id = $2 FOR UPDATE',
        [documentId, tenantId],
      );
      const current = locked[0];
      if (!current || current.status === 'cancelled' || current.status === 'failed') return false;
      if (expectedSha256 && current.sha256 !== expectedSha256) return false;
      await manager.delete(ChunkEntity, { tenantId, documentId });
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
        { id: documentId, tenantId },
        { status: 'indexed', error: null, chunkCount: chunks.length, indexedAt: new Date(), stage: 'index', progress: 100 },
      );
      await manager.delete(DocumentArtifactEntity, { tenantId, documentId });
      await manager.insert(IndexChangeEntity, { tenantId, documentId, kind: 'upsert' });
      await new ProcessingJobRepository(this.dataSource).recordMany(history, manager);
      return true;
    });
  }

  /**
   * Where a replica that is about to load every indexed chunk starts reading the change feed: just
   * below the oldest transaction still running. Every transaction below it has ended, so the load
   * (which starts afterwards) sees all their writes; changes of the transactions from there on are
   * replayed after the load, whether or not the load saw them — replay is idempotent (an upsert
   * reloads the document's current chunks).
   * @allTenants system work: a retrieval replica's position in the feed of every tenant's changes.
   */
  async feedStart(): Promise<FeedPosition> {
    const rows: Array<{ xmin: string }> = await this.dataSource.query('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
    // seq starts at 1, so (xmin, 0) lies below every change of transaction xmin and above all older ones.
    return { txId: BigInt(rows[0].xmin), seq: 0n };
  }

  /**
   * The next changes after `position`, in feed order (tx_id, seq), split into the settled ones —
   * which no change can ever come before again, so a reader may move its position past them — and
   * the committed ones that are not settled yet.
   *
   * Why not `seq > watermark`: a sequence number is drawn when a transaction writes its change, not
   * when it commits, so a smaller seq can commit after a larger one has been read — and be skipped
   * for good. Instead each change carries the id of its transaction (tx_id, xid8), and a change is
   * settled when its transaction lies below the snapshot's xmin (the oldest transaction still
   * running). Every transaction below xmin has ended: whatever it wrote is visible now, and no
   * transaction still running or started later can get an id below xmin. So once a reader's
   * position has passed a settled change, nothing can ever appear below it.
   *
   * A committed change of a transaction at or above xmin is visible but not settled: an older
   * transaction still running may yet commit a change that sorts before it. Such changes come in
   * `unsettled`: a reader may apply them early (for read-your-writes, when applying is idempotent)
   * but must not move its position past them; it reads them again once they are settled.
   * Transaction ids are cluster-wide, so a long write transaction anywhere on the Postgres cluster
   * (another database included) keeps changes unsettled for as long as it runs — it delays, never
   * loses, them.
   *
   * Settled changes sort before unsettled ones (their tx_id is lower), so a page that holds an
   * unsettled change holds every settled one; `more` says a page was full of settled changes.
   * @allTenants system work: every retrieval replica follows every tenant's changes; each change names its tenant.
   */
  async changesAfter(position: FeedPosition, limit = 500): Promise<FeedPage> {
    const rows: Array<{
      tx_id: string | null;
      seq: string | null;
      tenant_id: string | null;
      document_id: string | null;
      kind: 'upsert' | 'delete' | null;
      settled: boolean | null;
    }> = await this.dataSource.query(
      // One statement: the page and the xmin that splits it come from one snapshot.
      `SELECT c.tx_id::text AS tx_id, c.seq::text AS seq, c.tenant_id, c.document_id, c.kind, c.tx_id < h.xmin AS settled
       FROM (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin) h
       JOIN LATERAL (
         SELECT tx_id, seq, tenant_id, document_id, kind FROM index_changes
         WHERE (tx_id, seq) > ($1::xid8, $2::bigint)
         ORDER BY tx_id, seq LIMIT $3
       ) c ON true
       ORDER BY c.tx_id, c.seq`,
      [position.txId.toString(), position.seq.toString(), limit],
    );
    const page: FeedPage = { settled: [], unsettled: [], more: false };
    for (const row of rows) {
      const change: IndexChange = {
        txId: BigInt(row.tx_id as string),
        seq: BigInt(row.seq as string),
        tenantId: row.tenant_id as string,
        documentId: row.document_id as string,
        kind: row.kind as 'upsert' | 'delete',
      };
      (row.settled ? page.settled : page.unsettled).push(change);
    }
    page.more = page.settled.length === limit;
    return page;
  }

  /**
   * Deletes index changes older than `hours`; returns how many went. A retrieval replica that boots
   * loads the chunks and follows the feed from then on (feedStart), and a running one catches up
   * before every search, so only a replica that has been behind for longer than this could still
   * need them — and it would have long been unready.
   * @allTenants system work: the retention purge; it takes an age, never an id.
   */
  async purgeChangesOlderThan(hours: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(`DELETE FROM index_changes WHERE created_at < now() - make_interval(hours => $1)`, [hours]);
    return result[1];
  }

  /**
   * Every chunk of every indexed document embedded with `embeddingModel`, page by page, so a full
   * load never holds more than one page of rows. Keyset pagination on (document_id, ordinal) — the
   * unique index of chunks — keeps each page one index range scan and a document's chunks contiguous.
   * A document may span two pages; a document replaced between two pages can come out mixed, but
   * that replacement is a change in the feed, which the loader replays afterwards.
   * @allTenants system work: a retrieval replica's full load at boot; each chunk names its tenant.
   */
  async *indexedChunkPages(embeddingModel: string, pageSize = 500): AsyncGenerator<ChunkForIndex[]> {
    let after: { documentId: string; ordinal: number } | undefined;
    for (;;) {
      const rows: ChunkRow[] = await this.dataSource.query(
        `SELECT ${CHUNK_FOR_INDEX_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id
         WHERE d.status = 'indexed' AND c.embedding_model = $1 AND (c.document_id, c.ordinal) > ($2::uuid, $3::int)
         ORDER BY c.document_id, c.ordinal LIMIT $4`,
        [embeddingModel, after?.documentId ?? '00000000-0000-0000-0000-000000000000', after?.ordinal ?? -1, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map(toChunkForIndex);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1];
      after = { documentId: last.document_id, ordinal: last.ordinal };
    }
  }

  /** The current chunks of the given documents (each named with its tenant: a document is matched within it) embedded with `embeddingModel`. */
  async indexedChunksOf(documents: ReadonlyArray<{ tenantId: string; documentId: string }>, embeddingModel: string): Promise<ChunkForIndex[]> {
    if (documents.length === 0) return [];
    const rows: ChunkRow[] = await this.dataSource.query(
      `SELECT ${CHUNK_FOR_INDEX_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id
       JOIN unnest($1::text[], $2::uuid[]) AS wanted(tenant_id, document_id) ON wanted.document_id = c.document_id AND wanted.tenant_id = c.tenant_id
       WHERE d.status = 'indexed' AND c.embedding_model = $3 ORDER BY c.document_id, c.ordinal`,
      [documents.map((document) => document.tenantId), documents.map((document) => document.documentId), embeddingModel],
    );
    return rows.map(toChunkForIndex);
  }

  /**
   * What an index of `embeddingModel` that has applied the feed up to `position` should hold, per
   * tenant — for reconciliation. Documents with changes after `position` are still on their way to
   * the replica: they are listed in `pending` and left out of the counts, so a change in flight is
   * not taken for drift. Read in one snapshot (repeatable read), so counts and pending agree.
   * `counts` lists every tenant Quarry knows (0 for a tenant without indexed chunks).
   * @allTenants system work: a retrieval replica's reconciliation compares every tenant's count.
   */
  async indexedCountsByTenant(embeddingModel: string, position: FeedPosition): Promise<IndexedCounts> {
    return this.inOneSnapshot(async (manager) => {
      const pending = await this.pendingDocuments(manager, position);
      const rows: Array<{ tenant_id: string; chunks: number }> = await manager.query(
        `WITH pending AS (SELECT DISTINCT document_id FROM index_changes WHERE (tx_id, seq) > ($2::xid8, $3::bigint))
         SELECT t.id AS tenant_id, coalesce(counted.chunks, 0)::int AS chunks
         FROM tenants t LEFT JOIN (
           SELECT c.tenant_id, count(*) AS chunks FROM chunks c JOIN documents d ON d.id = c.document_id
           WHERE d.status = 'indexed' AND c.embedding_model = $1 AND c.document_id NOT IN (SELECT document_id FROM pending)
           GROUP BY c.tenant_id
         ) counted ON counted.tenant_id = t.id`,
        [embeddingModel, position.txId.toString(), position.seq.toString()],
      );
      return { counts: new Map(rows.map((row) => [row.tenant_id, row.chunks])), pending };
    });
  }

  /** `indexedCountsByTenant` for the documents of one tenant: chunks per indexed document, pending ones left out. */
  async indexedCountsByDocument(tenantId: string, embeddingModel: string, position: FeedPosition): Promise<IndexedCounts> {
    return this.inOneSnapshot(async (manager) => {
      const pending = await this.pendingDocuments(manager, position, tenantId);
      const rows: Array<{ document_id: string; chunks: number }> = await manager.query(
        `SELECT c.document_id, count(*)::int AS chunks FROM chunks c JOIN documents d ON d.id = c.document_id
         WHERE c.tenant_id = $1 AND d.status = 'indexed' AND c.embedding_model = $2
           AND c.document_id NOT IN (SELECT document_id FROM index_changes WHERE tenant_id = $1 AND (tx_id, seq) > ($3::xid8, $4::bigint))
         GROUP BY c.document_id`,
        [tenantId, embeddingModel, position.txId.toString(), position.seq.toString()],
      );
      return { counts: new Map(rows.map((row) => [row.document_id, row.chunks])), pending };
    });
  }

  private async pendingDocuments(manager: EntityManager, position: FeedPosition, tenantId?: string): Promise<PendingDocument[]> {
    const rows: Array<{ tenant_id: string; document_id: string }> = await manager.query(
      `SELECT DISTINCT tenant_id, document_id FROM index_changes
       WHERE (tx_id, seq) > ($1::xid8, $2::bigint) AND ($3::text IS NULL OR tenant_id = $3)`,
      [position.txId.toString(), position.seq.toString(), tenantId ?? null],
    );
    return rows.map((row) => ({ tenantId: row.tenant_id, documentId: row.document_id }));
  }

  private inOneSnapshot<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      await manager.query('SET TRANSACTION READ ONLY');
      return work(manager);
    });
  }

  /** How many of the tenant's documents are indexed, and their chunks. */
  async indexedTotals(tenantId: string): Promise<{ documents: number; chunks: number }> {
    const [row] = await this.dataSource.query<Array<{ documents: number; chunks: number }>>(
      `SELECT count(*)::int AS documents, coalesce(sum(chunk_count), 0)::int AS chunks FROM documents WHERE tenant_id = $1 AND status = 'indexed'`,
      [tenantId],
    );
    return row;
  }

  /**
   * Logs an upsert change for the tenant's next `limit` indexed documents after `after` (by id), in
   * one statement: every retrieval replica that follows the feed reloads their chunks from Postgres,
   * and the tenant's corpus version moves (cached results end). Returns the documents' ids, in order.
   */
  async requeueIndexedDocuments(tenantId: string, options: { after?: string; limit: number }): Promise<string[]> {
    const rows: Array<{ document_id: string }> = await this.dataSource.query(
      `WITH next AS (
         SELECT id FROM documents WHERE tenant_id = $1 AND status = 'indexed' AND id > $2::uuid ORDER BY id LIMIT $3
       )
       INSERT INTO index_changes (tenant_id, document_id, kind) SELECT $1, id, 'upsert' FROM next RETURNING document_id`,
      [tenantId, options.after ?? '00000000-0000-0000-0000-000000000000', options.limit],
    );
    return rows.map((row) => row.document_id).sort();
  }

  /** The chunks of the tenant's indexed documents among `documentIds`, in order. */
  async chunksOfDocuments(tenantId: string, documentIds: string[]): Promise<ChunkForIndex[]> {
    if (documentIds.length === 0) return [];
    const rows: ChunkRow[] = await this.dataSource.query(
      `SELECT ${CHUNK_FOR_INDEX_COLUMNS} FROM chunks c JOIN documents d ON d.id = c.document_id AND d.tenant_id = c.tenant_id
       WHERE c.tenant_id = $1 AND d.status = 'indexed' AND c.document_id = ANY($2::uuid[]) ORDER BY c.document_id, c.ordinal`,
      [tenantId, documentIds],
    );
    return rows.map(toChunkForIndex);
  }

  /** One chunk of the tenant's document (the agent's document tool), or null: missing, of another document, or another tenant's. */
  findInDocument(tenantId: string, documentId: string, chunkId: string): Promise<ChunkEntity | null> {
    return this.dataSource.getRepository(ChunkEntity).findOne({
      where: { tenantId, documentId, id: chunkId },
      select: { id: true, documentId: true, tenantId: true, ordinal: true, text: true, tokenCount: true, provenance: true },
    });
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
