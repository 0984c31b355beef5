import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { type ArtifactKind, DocumentArtifactEntity } from '../entities/document-artifact.entity';

/** Outputs of pipeline steps, per document and content. */
export class ArtifactRepository {
  constructor(private readonly dataSource: DataSource) {}

  async save(documentId: string, kind: ArtifactKind, sha256: string, content: { data?: unknown; bytes?: Buffer }): Promise<void> {
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(DocumentArtifactEntity)
      .values({ documentId, kind, sha256, data: (content.data ?? null) as QueryDeepPartialEntity<unknown>, bytes: content.bytes ?? null })
      .orUpdate(['sha256', 'data', 'bytes', 'created_at'], ['document_id', 'kind'])
      .execute();
  }

  /** The artifact made from this content, or null (missing, or made from other content). */
  async load(documentId: string, kind: ArtifactKind, sha256: string): Promise<DocumentArtifactEntity | null> {
    const artifact = await this.dataSource.getRepository(DocumentArtifactEntity).findOneBy({ documentId, kind });
    return artifact && artifact.sha256 === sha256 ? artifact : null;
  }

  /** Which step outputs exist for this content (without reading them: they can be large). */
  async kinds(documentId: string, sha256: string): Promise<Set<ArtifactKind>> {
    const rows: Array<{ kind: ArtifactKind }> = await this.dataSource.query(
      'SELECT kind FROM document_artifacts WHERE document_id = $1 AND sha256 = $2',
      [documentId, sha256],
    );
    return new Set(rows.map((row) => row.kind));
  }

  async deleteAll(documentId: string): Promise<void> {
    await this.dataSource.getRepository(DocumentArtifactEntity).delete({ documentId });
  }
}
