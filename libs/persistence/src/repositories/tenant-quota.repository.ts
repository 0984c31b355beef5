import type { DataSource, EntityManager } from 'typeorm';
import type { NewDocument, StoredDocument } from './document.repository';

/** The deployment's quotas (TENANT_MAX_DOCUMENTS, TENANT_MAX_STORED_BYTES); 0 means no limit. */
export interface QuotaDefaults {
  maxDocuments: number;
  maxStoredBytes: number;
}

/** A tenant's own quotas (the `tenants` columns): null keeps the default, 0 lifts the limit. */
export interface QuotaOverrides {
  maxDocuments?: number | null;
  maxStoredBytes?: number | null;
}

/** What a tenant holds and may hold (limits already resolved: the tenant's own, else the default; 0: none). */
export interface TenantUsage {
  documents: number;
  storedBytes: number;
  maxDocuments: number;
  maxStoredBytes: number;
}

export type QuotaCheckedUpload =
  | { outcome: 'created' | 'duplicate'; document: StoredDocument }
  | { outcome: 'refused'; quota: 'documents' | 'stored-bytes'; usage: TenantUsage };

const LIVE = `('queued', 'processing', 'indexed')`;

interface UsageRow {
  live_id: string | null;
  live_status: StoredDocument['status'] | null;
  live_sha256: string | null;
  documents: string;
  stored_bytes: string;
  max_documents: string | null;
  max_stored_bytes: string | null;
}

// Every document counts, whatever its status, until it is deleted: a failed or cancelled
// document keeps its bytes. The covering index (tenant_id) INCLUDE (size_bytes) answers this.
const USAGE_SQL = `
  SELECT live.id AS live_id, live.status AS live_status, live.sha256 AS live_sha256,
         usage.documents::text AS documents, usage.stored_bytes::text AS stored_bytes,
         t.max_documents::text AS max_documents, t.max_stored_bytes::text AS max_stored_bytes
  FROM (SELECT count(*) AS documents, coalesce(sum(size_bytes), 0) AS stored_bytes FROM documents WHERE tenant_id = $1) usage
  LEFT JOIN LATERAL (SELECT id, status, sha256 FROM documents WHERE tenant_id = $1 AND sha256 = $2 AND status IN ${LIVE} LIMIT 1) live ON true
  LEFT JOIN tenants t ON t.id = $1`;

function resolvedUsage(row: UsageRow, defaults: QuotaDefaults): TenantUsage {
  return {
    documents: Number(row.documents),
    storedBytes: Number(row.stored_bytes),
    maxDocuments: row.max_documents === null ? defaults.maxDocuments : Number(row.max_documents),
    maxStoredBytes: row.max_stored_bytes === null ? defaults.maxStoredBytes : Number(row.max_stored_bytes),
  };
}

/** Which quota one more document of `size` bytes would break, if any. */
function brokenQuota(usage: TenantUsage, size: number): 'documents' | 'stored-bytes' | undefined {
  if (usage.maxDocuments > 0 && usage.documents + 1 > usage.maxDocuments) return 'documents';
  if (usage.maxStoredBytes > 0 && usage.storedBytes + size > usage.maxStoredBytes) return 'stored-bytes';
  return undefined;
}

/**
 * Per-tenant quotas on documents and stored bytes. Uploads go through `createWithinQuota`, which
 * counts and inserts under a per-tenant advisory lock, so concurrent uploads of one tenant (on any
 * gateway replica: the lock is in Postgres) are checked one after another and never overshoot.
 */
export class TenantQuotaRepository {
  // Tenants are created on first use and never renamed, so each process inserts each one once.
  private readonly knownTenants = new Set<string>();

  constructor(private readonly dataSource: DataSource) {}

  /**
   * DocumentRepository.createOrFindLive with the quotas: stores the document and its bytes unless
   * the tenant already has a live document with this content (that one is returned, whatever the
   * quota: a duplicate adds nothing) or one more document of this size would break a quota (then
   * nothing is written). Exact: the count and the insert run in one transaction holding the
   * tenant's advisory lock, so two uploads racing for the last slot cannot both get it. The price
   * is that one tenant's uploads are stored one at a time (a few milliseconds each); other tenants
   * are not held up. Imports that bypass this (createWithContent) still count once stored.
   */
  async createWithinQuota(input: NewDocument, bytes: Buffer, defaults: QuotaDefaults): Promise<QuotaCheckedUpload> {
    await this.ensureTenantOnce(input.tenantId);
    for (let attempt = 0; ; attempt++) {
      const result = await this.dataSource.transaction((manager) => this.createLocked(manager, input, bytes, defaults));
      // Undefined: the live duplicate that blocked the insert finished failing before it could be
      // read; the upload is tried again (it is then a new document). Twice in a row is not chance.
      if (result) return result;
      if (attempt >= 2) throw new Error(`document of tenant ${input.tenantId} with sha256 ${input.sha256} keeps colliding with a failing duplicate`);
    }
  }

  /** The tenant's usage and its resolved quotas. */
  async usage(tenantId: string, defaults: QuotaDefaults): Promise<TenantUsage> {
    // No content to look for: an empty sha256 matches no document.
    const rows: UsageRow[] = await this.dataSource.query(USAGE_SQL, [tenantId, '']);
    return resolvedUsage(rows[0], defaults);
  }

  /** Sets the tenant's own quotas (creating the tenant if needed); a field left out keeps its value. */
  async setQuota(tenantId: string, overrides: QuotaOverrides): Promise<void> {
    const keep = (value: number | null | undefined) => value === undefined;
    await this.dataSource.query(
      `INSERT INTO tenants (id, name, max_documents, max_stored_bytes) VALUES ($1, $1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET
         max_documents = CASE WHEN $4 THEN tenants.max_documents ELSE EXCLUDED.max_documents END,
         max_stored_bytes = CASE WHEN $5 THEN tenants.max_stored_bytes ELSE EXCLUDED.max_stored_bytes END`,
      [tenantId, overrides.maxDocuments ?? null, overrides.maxStoredBytes ?? null, keep(overrides.maxDocuments), keep(overrides.maxStoredBytes)],
    );
    this.knownTenants.add(tenantId);
  }

  private async createLocked(manager: EntityManager, input: NewDocument, bytes: Buffer, defaults: QuotaDefaults): Promise<QuotaCheckedUpload | undefined> {
    // Transaction-scoped: released by the commit or rollback, whatever happens. The schema is part
    // of the key, so deployments sharing a database on different schemas do not wait for each other.
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('quarry:tenant-quota:' || current_schema() || ':' || $1, 0))`, [input.tenantId]);
    // A statement after the lock: in READ COMMITTED its snapshot includes every upload committed before.
    const [row]: UsageRow[] = await manager.query(USAGE_SQL, [input.tenantId, input.sha256]);
    if (row.live_id !== null && row.live_status !== null && row.live_sha256 !== null) {
      return { outcome: 'duplicate', document: { id: row.live_id, status: row.live_status, sha256: row.live_sha256.trim() } };
    }
    const usage = resolvedUsage(row, defaults);
    const quota = brokenQuota(usage, bytes.length);
    if (quota) return { outcome: 'refused', quota, usage };

    // The same statement as createOrFindLive. The conflict clause still matters: writers that do
    // not take the lock (createOrFindLive itself) may store the same content meanwhile.
    const inserted: Array<{ id: string; status: StoredDocument['status']; sha256: string }> = await manager.query(
      `WITH created AS (
         INSERT INTO documents (tenant_id, filename, media_type, size_bytes, sha256, tags, folder, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued')
         ON CONFLICT (tenant_id, sha256) WHERE status IN ${LIVE} DO NOTHING
         RETURNING id, status, sha256
       ), content AS (
         INSERT INTO document_contents (tenant_id, document_id, bytes) SELECT $1, id, $8 FROM created
       )
       SELECT id, status, sha256 FROM created`,
      [input.tenantId, input.filename, input.mediaType, bytes.length, input.sha256, input.tags, input.folder, bytes],
    );
    const stored = inserted[0] ?? (await this.liveDuplicate(manager, input));
    if (!stored) return undefined;
    return { outcome: inserted.length > 0 ? 'created' : 'duplicate', document: { id: stored.id, status: stored.status, sha256: stored.sha256.trim() } };
  }

  private async liveDuplicate(manager: EntityManager, input: NewDocument): Promise<{ id: string; status: StoredDocument['status']; sha256: string } | undefined> {
    const rows: Array<{ id: string; status: StoredDocument['status']; sha256: string }> = await manager.query(
      `SELECT id, status, sha256 FROM documents WHERE tenant_id = $1 AND sha256 = $2 AND status IN ${LIVE}`,
      [input.tenantId, input.sha256],
    );
    return rows[0];
  }

  private async ensureTenantOnce(tenantId: string): Promise<void> {
    if (this.knownTenants.has(tenantId)) return;
    await this.dataSource.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [tenantId]);
    this.knownTenants.add(tenantId);
  }
}
