import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The query log read per tenant and period (the answer cache's warming reads a tenant's most asked
 * questions of the last days): an index on (tenant_id, created_at) instead of a scan of every
 * tenant's questions.
 */
export class QueryLogByTenant1764700000000 implements MigrationInterface {
  name = 'QueryLogByTenant1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX query_log_tenant_created_idx ON query_log (tenant_id, created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX query_log_tenant_created_idx`);
  }
}
