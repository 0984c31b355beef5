import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Quarry's first schema. Unqualified names: the connection's search_path picks the schema. */
export class InitialSchema1763700000000 implements MigrationInterface {
  name = 'InitialSchema1763700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE tenants (
        id text PRIMARY KEY,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE documents (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        filename text NOT NULL,
        media_type text NOT NULL,
        size_bytes integer NOT NULL CHECK (size_bytes >= 0),
        sha256 char(64) NOT NULL,
        tags text[] NOT NULL DEFAULT '{}',
        folder text NOT NULL DEFAULT '/',
        status text NOT NULL CHECK (status IN ('queued', 'processing', 'indexed', 'failed')),
        error text,
        chunk_count integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        indexed_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX documents_tenant_created_idx ON documents (tenant_id, created_at DESC)`);
    await queryRunner.query(`CREATE INDEX documents_tenant_sha256_idx ON documents (tenant_id, sha256)`);
    await queryRunner.query(`CREATE INDEX documents_status_idx ON documents (status) WHERE status IN ('queued', 'processing')`);
    await queryRunner.query(`
      CREATE TABLE document_contents (
        document_id uuid PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
        bytes bytea NOT NULL
      )`);
    await queryRunner.query(`
      CREATE TABLE chunks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        tenant_id text NOT NULL,
        ordinal integer NOT NULL,
        text text NOT NULL CHECK (length(btrim(text)) > 0),
        token_count integer NOT NULL,
        provenance jsonb NOT NULL DEFAULT '{}',
        embedding bytea NOT NULL,
        embedding_model text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (document_id, ordinal)
      )`);
    await queryRunner.query(`CREATE INDEX chunks_tenant_idx ON chunks (tenant_id)`);
    await queryRunner.query(`
      CREATE TABLE index_changes (
        seq bigserial PRIMARY KEY,
        tenant_id text NOT NULL,
        document_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('upsert', 'delete')),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE processing_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        document_id uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        queue_job_id text NOT NULL,
        kind text NOT NULL,
        status text NOT NULL CHECK (status IN ('active', 'completed', 'failed')),
        attempt integer NOT NULL,
        error text,
        correlation_id text,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`);
    await queryRunner.query(`CREATE INDEX processing_jobs_document_idx ON processing_jobs (document_id, started_at DESC)`);
    await queryRunner.query(`
      CREATE TABLE conversations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        title text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE messages (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('user', 'assistant')),
        content text NOT NULL,
        citations jsonb NOT NULL DEFAULT '[]',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at)`);
    await queryRunner.query(`
      CREATE TABLE query_log (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id text NOT NULL,
        question text NOT NULL,
        hit_count integer NOT NULL,
        citation_count integer NOT NULL,
        generator text NOT NULL,
        retrieval_ms real NOT NULL,
        generation_ms real NOT NULL,
        total_ms real NOT NULL,
        correlation_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX query_log_created_idx ON query_log (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['query_log', 'messages', 'conversations', 'processing_jobs', 'index_changes', 'chunks', 'document_contents', 'documents', 'tenants']) {
      await queryRunner.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
