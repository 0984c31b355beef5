import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attempt outcomes: a step attempt may end `interrupted` — stopped by something other than the
 * document (a Postgres or Redis outage, a cancellation, a worker shutting down). Only `failed`
 * attempts count towards giving up on a document.
 */
export class AttemptOutcomes1764100000000 implements MigrationInterface {
  name = 'AttemptOutcomes1764100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE processing_jobs DROP CONSTRAINT IF EXISTS processing_jobs_status_check`);
    await queryRunner.query(
      `ALTER TABLE processing_jobs ADD CONSTRAINT processing_jobs_status_check CHECK (status IN ('active', 'completed', 'failed', 'interrupted'))`,
    );
    // Attempts stopped by a cancellation were recorded as failures before; they never counted.
    await queryRunner.query(`UPDATE processing_jobs SET status = 'interrupted' WHERE status = 'failed' AND error LIKE 'stopped: document is %'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`UPDATE processing_jobs SET status = 'failed' WHERE status = 'interrupted'`);
    await queryRunner.query(`ALTER TABLE processing_jobs DROP CONSTRAINT IF EXISTS processing_jobs_status_check`);
    await queryRunner.query(`ALTER TABLE processing_jobs ADD CONSTRAINT processing_jobs_status_check CHECK (status IN ('active', 'completed', 'failed'))`);
  }
}
