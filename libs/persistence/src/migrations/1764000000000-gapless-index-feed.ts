import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A gapless index change feed. `seq` (bigserial) is drawn when a transaction writes its change, not
 * when it commits, so transactions commit out of seq order: a replica that read seq 11 could never
 * see a seq 10 that committed afterwards. Each change now also records the id of the transaction
 * that wrote it (`tx_id`, xid8: 64-bit, never wraps). A reader orders the feed by (tx_id, seq) and
 * reads only changes of transactions below its snapshot's xmin — all of which have ended — so no
 * change can later appear below what it has read (see ChunkRepository.changesAfter).
 *
 * Existing rows get the migrating transaction's id: they are read once more by replicas that start
 * after the migration, which is harmless (replaying a change is idempotent).
 */
export class GaplessIndexFeed1764000000000 implements MigrationInterface {
  name = 'GaplessIndexFeed1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE index_changes ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()`);
    await queryRunner.query(`CREATE INDEX index_changes_feed_idx ON index_changes (tx_id, seq)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX IF EXISTS index_changes_feed_idx`);
    await queryRunner.query(`ALTER TABLE index_changes DROP COLUMN IF EXISTS tx_id`);
  }
}
