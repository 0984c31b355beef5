import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Staged ingestion: documents carry their pipeline stage, progress and analysis, may be cancelled,
 * and are unique per tenant by content while live (dedup). Stage outputs are kept as artifacts so a
 * retry re-runs only the failed step; embeddings are cached by content hash and model.
 */
export class StagedIngestion1763800000000 implements MigrationInterface {
  name = 'StagedIngestion1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_status_check`);
    await queryRunner.query(
      `ALTER TABLE documents ADD CONSTRAINT documents_status_check CHECK (status IN ('queued', 'processing', 'indexed', 'failed', 'cancelled'))`,
    );
    await queryRunner.query(`ALTER TABLE documents ADD COLUMN stage text`);
    await queryRunner.query(`ALTER TABLE documents ADD COLUMN progress smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100)`);
    await queryRunner.query(`ALTER TABLE documents ADD COLUMN analysis jsonb`);
    await queryRunner.query(`ALTER TABLE documents ADD COLUMN page_count integer`);
    // Earlier duplicates (before dedup existed) are left alone: keep the newest live one unique.
    await queryRunner.query(`
      UPDATE documents d SET status = 'failed', error = 'duplicate of an earlier upload'
      WHERE status IN ('queued', 'processing', 'indexed')
        AND EXISTS (SELECT 1 FROM documents o WHERE o.tenant_id = d.tenant_id AND o.sha256 = d.sha256
                    AND o.status IN ('queued', 'processing', 'indexed') AND o.created_at < d.created_at)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX documents_live_content_idx ON documents (tenant_id, sha256) WHERE status IN ('queued', 'processing', 'indexed')`,
    );
    await queryRunner.query(`
      CREATE TABLE document_artifacts (
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('parsed', 'chunks', 'embeddings')),
        sha256 char(64) NOT NULL,
        data jsonb,
        bytes bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (document_id, kind)
      )`);
    await queryRunner.query(`
      CREATE TABLE embedding_cache (
        model text NOT NULL,
        content_sha256 char(64) NOT NULL,
        vector bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (model, content_sha256)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS embedding_cache`);
    await queryRunner.query(`DROP TABLE IF EXISTS document_artifacts`);
    await queryRunner.query(`DROP INDEX IF EXISTS documents_live_content_idx`);
    for (const column of ['page_count', 'analysis', 'progress', 'stage']) {
      await queryRunner.query(`ALTER TABLE documents DROP COLUMN IF EXISTS ${column}`);
    }
    await queryRunner.query(`UPDATE documents SET status = 'failed' WHERE status = 'cancelled'`);
    await queryRunner.query(`ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_status_check`);
    await queryRunner.query(`ALTER TABLE documents ADD CONSTRAINT documents_status_check CHECK (status IN ('queued', 'processing', 'indexed', 'failed'))`);
  }
}
