import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail of each query (issue 11): one row per answered question, keyed by the query id
 * the reply named, holding the agent's QueryTrace as JSON (libs/contracts trace.contract.ts).
 *
 * Tenant-owned like messages (1764300000000-tenant-owned-rows): the row carries its tenant, and a
 * foreign key on (conversation_id, tenant_id) holds it to its conversation's, so a trace can never
 * sit under another tenant's conversation, and deleting a conversation (or the tenant) deletes the
 * traces of its questions with it — a trace repeats the question and the answer, which must not
 * outlive them. Reads go by (id, tenant_id); the retention purge and per-tenant listings by
 * (tenant_id, created_at).
 */
export class QueryTraces1764800000000 implements MigrationInterface {
  name = 'QueryTraces1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE query_traces (
        id uuid PRIMARY KEY,
        tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
        conversation_id uuid NOT NULL,
        question text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        trace jsonb NOT NULL,
        CONSTRAINT query_traces_owner_tenant_fkey FOREIGN KEY (conversation_id, tenant_id) REFERENCES conversations (id, tenant_id) ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX query_traces_tenant_created_idx ON query_traces (tenant_id, created_at)`);
    // The cascade from a deleted conversation finds its traces by this, not by a scan.
    await queryRunner.query(`CREATE INDEX query_traces_conversation_idx ON query_traces (conversation_id, tenant_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS query_traces`);
  }
}
