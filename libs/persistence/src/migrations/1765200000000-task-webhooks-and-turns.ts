import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tasks push their end to a webhook (the address, the signing secret — never returned — and
 * where the delivery stands), and take turns between tenants: a task's queue priority counts
 * the tenant's tasks already pending in its band, which the partial index keeps cheap however
 * many tasks wait. The task reconciler finds pushes that may have lost their job by index too.
 */
export class TaskWebhooksAndTurns1765200000000 implements MigrationInterface {
  name = 'TaskWebhooksAndTurns1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tasks ADD COLUMN webhook_url text, ADD COLUMN webhook_secret text, ADD COLUMN webhook_delivery jsonb`);
    await queryRunner.query(`ALTER TABLE tasks ADD CONSTRAINT tasks_webhook_pair CHECK ((webhook_url IS NULL) = (webhook_secret IS NULL))`);
    await queryRunner.query(`CREATE INDEX tasks_tenant_pending_idx ON tasks (tenant_id, priority) WHERE status = 'pending'`);
    // The task reconciler's look for pushes whose job may be lost.
    await queryRunner.query(`CREATE INDEX tasks_push_pending_idx ON tasks (finished_at) WHERE webhook_delivery->>'status' IN ('pending', 'retrying')`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX tasks_push_pending_idx`);
    await queryRunner.query(`DROP INDEX tasks_tenant_pending_idx`);
    await queryRunner.query(`ALTER TABLE tasks DROP CONSTRAINT tasks_webhook_pair, DROP COLUMN webhook_delivery, DROP COLUMN webhook_secret, DROP COLUMN webhook_url`);
  }
}
