import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-tenant quotas (issue 9, abuse limits). `max_documents` and `max_stored_bytes` override the
 * gateway's TENANT_MAX_DOCUMENTS / TENANT_MAX_STORED_BYTES for one tenant: null keeps the default,
 * 0 lifts the limit. The covering index lets the upload's quota check count a tenant's documents
 * and add up their sizes from the index alone (an index-only scan), however many the tenant has.
 */
export class TenantQuotas1764400000000 implements MigrationInterface {
  name = 'TenantQuotas1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE tenants
         ADD COLUMN max_documents bigint CHECK (max_documents >= 0),
         ADD COLUMN max_stored_bytes bigint CHECK (max_stored_bytes >= 0)`,
    );
    await queryRunner.query(`CREATE INDEX documents_tenant_usage_idx ON documents (tenant_id) INCLUDE (size_bytes)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS documents_tenant_usage_idx`);
    await queryRunner.query(`ALTER TABLE tenants DROP COLUMN IF EXISTS max_stored_bytes, DROP COLUMN IF EXISTS max_documents`);
  }
}
