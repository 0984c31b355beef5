import type { DataSource, EntityManager } from 'typeorm';
import { type ArtifactKind, DocumentArtifactEntity } from '../entities/document-artifact.entity';

/**
 * Outputs of pipeline steps, per document and content. Every method takes the document's tenant:
 * an artifact row carries it, and a foreign key on (document_id, tenant_id) refuses one whose
 * tenant is not its document's.
 */
export class ArtifactRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores (or replaces) a step's output. Replacing happens only within the tenant: an existing row
   * of another tenant's document is left alone, and a new row for it is refused by the foreign key.
   * False when nothing was written.
   */
  async save(tenantId: string, documentId: string, kind: ArtifactKind, sha256: string, content: { data?: unknown; bytes?: Buffer }): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO document_artifacts (tenant_id, document_id, kind, sha256, data, bytes) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (document_id, kind) DO UPDATE SET sha256 = EXCLUDED.sha256, data = EXCLUDED.data, bytes = EXCLUDED.bytes, created_at = now()
       WHERE document_artifacts.tenant_id = EXCLUDED.tenant_id
       RETURNING kind`,
      [tenantId, documentId, kind, sha256, content.data == null ? null : JSON.stringify(content.data), content.bytes ?? null],
    );
    return rows.length > 0;
  }

  /** The artifact made from this content, or null (missing, another tenant's, or made from other content). */
  async load(tenantId: string, documentId: string, kind: ArtifactKind, sha256: string): Promise<DocumentArtifactEntity | null> {
    const artifact = await this.dataSource.getRepository(DocumentArtifactEntity).findOneBy({ tenantId, documentId, kind });
    return artifact && artifact.sha256 === sha256 ? artifact : null;
  }

  /** Which step outputs exist for this content (without reading them: they can be large). */
  async kinds(tenantId: string, documentId: string, sha256: string): Promise<Set<ArtifactKind>> {
    const rows: Array<{ kind: ArtifactKind }> = await this.dataSource.query(
      'SELECT kind FROM document_artifacts WHERE tenant_id = $1 AND document_id = $2 AND sha256 = $3',
      [tenantId, documentId, sha256],
    );
    return new Set(rows.map((row) => row.kind));
  }

  /** Deletes a document's step outputs (inside the caller's transaction when given one). */
  async deleteAll(tenantId: string, documentId: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.delete(DocumentArtifactEntity, { tenantId, documentId });
  }
}
