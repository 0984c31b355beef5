import type { DataSource, EntityManager } from 'typeorm';
import { vectorToBytes } from './vector-bytes';

export interface EmbeddingSpec {
  provider: 'local' | 'openai';
  model: string;
  dimensions: number;
  baseUrl?: string | null;
}

export interface EmbeddingVersion extends EmbeddingSpec {
  id: number;
  state: 'building' | 'active' | 'retired';
}

interface VersionRow {
  id: number;
  provider: 'local' | 'openai';
  model: string;
  dimensions: number;
  base_url: string | null;
  state: EmbeddingVersion['state'];
}

const toVersion = (row: VersionRow): EmbeddingVersion => ({
  id: row.id,
  provider: row.provider,
  model: row.model,
  dimensions: row.dimensions,
  baseUrl: row.base_url,
  state: row.state,
});

export const sameEmbedding = (a: EmbeddingSpec, b: EmbeddingSpec): boolean =>
  a.provider === b.provider && a.model === b.model && a.dimensions === b.dimensions;

/**
 * Which embedding model the index serves (active) and which one is being built to replace it.
 * The switch is one transaction: building vectors move into chunks, the versions flip, and every
 * retrieval replica rebuilds on the new version while still serving the old one.
 * Embedding versions are one setting of the whole installation: every method here is system work
 * across all tenants, run by ingestion and retrieval themselves, never with an id from a client.
 */
export class EmbeddingVersionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** @allTenants system work: the installation's active embedding version. */
  async active(): Promise<EmbeddingVersion | undefined> {
    const rows: VersionRow[] = await this.dataSource.query(`SELECT * FROM embedding_versions WHERE state = 'active'`);
    return rows[0] && toVersion(rows[0]);
  }

  /** @allTenants system work: the version being built, if any. */
  async building(): Promise<EmbeddingVersion | undefined> {
    const rows: VersionRow[] = await this.dataSource.query(`SELECT * FROM embedding_versions WHERE state = 'building'`);
    return rows[0] && toVersion(rows[0]);
  }

  /**
   * Makes `spec` the target: the first version ever becomes active at once (adopting the chunks
   * that already exist); a different model than the active one becomes the building version
   * (replacing a building version of yet another model). Returns what should happen next.
   * @allTenants system work: the configured model, at ingestion's boot, or the one an admin's
   * corpus.reembed task names (a model name and size, never an id).
   */
  async target(spec: EmbeddingSpec): Promise<{ active: EmbeddingVersion; building?: EmbeddingVersion }> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('LOCK TABLE embedding_versions IN EXCLUSIVE MODE');
      const [activeRow] = await manager.query<VersionRow[]>(`SELECT * FROM embedding_versions WHERE state = 'active'`);
      if (!activeRow) return { active: await this.insert(manager, spec, 'active') };
      const active = toVersion(activeRow);
      const [buildingRow] = await manager.query<VersionRow[]>(`SELECT * FROM embedding_versions WHERE state = 'building'`);
      const building = buildingRow && toVersion(buildingRow);
      if (sameEmbedding(active, spec)) {
        if (building) await manager.query(`UPDATE embedding_versions SET state = 'retired' WHERE id = $1`, [building.id]);
        return { active };
      }
      if (building && sameEmbedding(building, spec)) return { active, building };
      if (building) await manager.query(`UPDATE embedding_versions SET state = 'retired' WHERE id = $1`, [building.id]);
      return { active, building: await this.insert(manager, spec, 'building') };
    });
  }

  /**
   * Chunks that have no vector yet for the building version (oldest first), with their text.
   * @allTenants system work: the re-embedding job goes through every tenant's chunks.
   */
  async chunksWithoutVector(versionId: number, limit: number): Promise<Array<{ chunkId: string; text: string }>> {
    const rows: Array<{ id: string; text: string }> = await this.dataSource.query(
      `SELECT c.id, c.text FROM chunks c
       WHERE NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.version_id = $1 AND v.chunk_id = c.id)
       ORDER BY c.created_at, c.id LIMIT $2`,
      [versionId, limit],
    );
    return rows.map((row) => ({ chunkId: row.id, text: row.text }));
  }

  /**
   * How far a re-embedding is: chunks that have a vector of the version, of all chunks.
   * @allTenants system work: the re-embedding covers every tenant's chunks; it takes a version, never a client's id.
   */
  async buildProgress(versionId: number): Promise<{ embedded: number; total: number }> {
    const [row] = await this.dataSource.query<Array<{ embedded: number; total: number }>>(
      `SELECT (SELECT count(*) FROM chunk_vectors WHERE version_id = $1)::int AS embedded, (SELECT count(*) FROM chunks)::int AS total`,
      [versionId],
    );
    return row;
  }

  /**
   * Stores vectors of the building version for the given chunks.
   * @allTenants system work: chunk ids come from `chunksWithoutVector` or from the index step's own
   * insert in the same transaction (`ChunkRepository.replaceDocumentChunks`), never from a client.
   */
  async saveVectors(versionId: number, vectors: Array<{ chunkId: string; vector: Float32Array }>, manager?: EntityManager): Promise<void> {
    if (vectors.length === 0) return;
    const values = vectors.map((_, index) => `($1, $${index * 2 + 2}, $${index * 2 + 3})`).join(', ');
    await (manager ?? this.dataSource).query(
      `INSERT INTO chunk_vectors (version_id, chunk_id, vector) VALUES ${values} ON CONFLICT (version_id, chunk_id) DO UPDATE SET vector = EXCLUDED.vector`,
      [versionId, ...vectors.flatMap((item) => [item.chunkId, vectorToBytes(item.vector)])],
    );
  }

  /**
   * Switches to the building version if every chunk has its vector: copies the vectors into chunks,
   * retires the old version, and logs an index change per document so replicas pick it up.
   * False (nothing changed) while chunks are still missing, or when the version is no longer building.
   * @allTenants system work: the switch moves every tenant's chunks at once.
   */
  async activate(versionId: number): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('LOCK TABLE embedding_versions IN EXCLUSIVE MODE');
      const [row] = await manager.query<VersionRow[]>(`SELECT * FROM embedding_versions WHERE id = $1 AND state = 'building'`, [versionId]);
      if (!row) return false;
      const [missing] = await manager.query<Array<{ count: number }>>(
        `SELECT count(*)::int AS count FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.version_id = $1 AND v.chunk_id = c.id)`,
        [versionId],
      );
      if (missing.count > 0) return false;
      await manager.query(
        `UPDATE chunks c SET embedding = v.vector, embedding_model = $2 FROM chunk_vectors v WHERE v.version_id = $1 AND v.chunk_id = c.id`,
        [versionId, row.model],
      );
      await manager.query(`UPDATE embedding_versions SET state = 'retired' WHERE state = 'active'`);
      await manager.query(`UPDATE embedding_versions SET state = 'active', activated_at = now() WHERE id = $1`, [versionId]);
      await manager.query(`DELETE FROM chunk_vectors WHERE version_id = $1`, [versionId]);
      return true;
    });
  }

  private async insert(manager: EntityManager, spec: EmbeddingSpec, state: 'active' | 'building'): Promise<EmbeddingVersion> {
    const [row] = await manager.query<VersionRow[]>(
      `INSERT INTO embedding_versions (provider, model, dimensions, base_url, state, activated_at)
       VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'active' THEN now() END) RETURNING *`,
      [spec.provider, spec.model, spec.dimensions, spec.baseUrl ?? null, state],
    );
    return toVersion(row);
  }
}
