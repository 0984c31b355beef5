import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Embedding versions for zero-downtime re-embedding: the active version's vectors live in
 * chunks.embedding; a version being built keeps its vectors in chunk_vectors until it is complete
 * and is switched to in one transaction.
 */
export class EmbeddingVersions1763900000000 implements MigrationInterface {
  name = 'EmbeddingVersions1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE embedding_versions (
        id serial PRIMARY KEY,
        provider text NOT NULL,
        model text NOT NULL,
        dimensions integer NOT NULL CHECK (dimensions > 0),
        base_url text,
        state text NOT NULL CHECK (state IN ('building', 'active', 'retired')),
        created_at timestamptz NOT NULL DEFAULT now(),
        activated_at timestamptz
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX embedding_versions_one_active ON embedding_versions (state) WHERE state = 'active'`);
    await queryRunner.query(`CREATE UNIQUE INDEX embedding_versions_one_building ON embedding_versions (state) WHERE state = 'building'`);
    await queryRunner.query(`
      CREATE TABLE chunk_vectors (
        chunk_id uuid NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
        version_id integer NOT NULL REFERENCES embedding_versions(id) ON DELETE CASCADE,
        vector bytea NOT NULL,
        PRIMARY KEY (version_id, chunk_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS chunk_vectors`);
    await queryRunner.query(`DROP TABLE IF EXISTS embedding_versions`);
  }
}
