import type { DataSource } from 'typeorm';
import { EmbeddingCacheEntity } from '../entities/embedding-cache.entity';
import { bytesToVector, vectorToBytes } from './vector-bytes';

/**
 * Persistent embedding cache keyed by model and content hash (shared by every ingestion replica).
 * Deliberately not per tenant: a vector is a function of the model and the text alone, and the
 * cache is read only by ingestion for text it already holds, never answered to a client; sharing
 * it saves re-embedding text that several tenants upload.
 */
export class EmbeddingCacheRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** @allTenants system work: keyed by content hash and model; the caller holds the text already. */
  async getMany(model: string, contentHashes: string[]): Promise<Map<string, Float32Array>> {
    if (contentHashes.length === 0) return new Map();
    const rows: Array<{ content_sha256: string; vector: Buffer }> = await this.dataSource.query(
      'SELECT content_sha256, vector FROM embedding_cache WHERE model = $1 AND content_sha256 = ANY($2::char(64)[])',
      [model, contentHashes],
    );
    return new Map(rows.map((row) => [row.content_sha256, bytesToVector(row.vector)]));
  }

  /**
   * Deletes vectors older than `days` that no chunk's text has any more (the key is the SHA-256 of
   * the text embedded, which is the chunk's text); returns how many went. A vector deleted by
   * mistake costs one embedding call when its text comes back, nothing else.
   * @allTenants system work: the cache is shared by content (no tenant in it); it takes an age, never an id.
   */
  async purgeUnusedOlderThan(days: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM embedding_cache e
        WHERE e.created_at < now() - make_interval(days => $1)
          AND NOT EXISTS (
            SELECT 1 FROM chunks c WHERE encode(sha256(convert_to(c.text, 'UTF8')), 'hex') = e.content_sha256
          )`,
      [days],
    );
    return result[1];
  }

  /** @allTenants system work: keyed by content hash and model, like `getMany`. */
  async putMany(model: string, entries: Array<{ contentSha256: string; vector: Float32Array }>): Promise<void> {
    if (entries.length === 0) return;
    await this.dataSource
      .createQueryBuilder()
      .insert()
      .into(EmbeddingCacheEntity)
      .values(entries.map((entry) => ({ model, contentSha256: entry.contentSha256, vector: vectorToBytes(entry.vector) })))
      .orIgnore()
      .execute();
  }
}
