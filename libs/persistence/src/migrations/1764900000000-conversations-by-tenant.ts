import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /api/conversations lists a tenant's conversations, most recently active first: an index on
 * (tenant_id, updated_at DESC, id) — the list's order — instead of a scan of every tenant's.
 */
export class ConversationsByTenant1764900000000 implements MigrationInterface {
  name = 'ConversationsByTenant1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX conversations_tenant_updated_idx ON conversations (tenant_id, updated_at DESC, id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX conversations_tenant_updated_idx`);
  }
}
