import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The LISTEN/NOTIFY channel corpus versions are announced on (payload: `{"schema","tenant","version"}`). */
export const CORPUS_VERSION_CHANNEL = 'quarry_corpus_version';

/**
 * Every tenant's corpus version: a counter bumped by every index change (a document indexed,
 * re-indexed, re-embedded or deleted), in the transaction that makes the change — a trigger on
 * `index_changes`, so no write path can forget it. Caches key what they derive from a tenant's
 * documents by this version: invalidation is a bump, never a scan, and a cached answer cannot
 * outlive the documents it came from. The trigger also NOTIFYs the new version; Postgres delivers a
 * notification only when its transaction commits, so a listener never sees a version it cannot read.
 */
export class CorpusVersion1764600000000 implements MigrationInterface {
  name = 'CorpusVersion1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE tenants ADD COLUMN corpus_version bigint NOT NULL DEFAULT 0`);
    // A constraint trigger deferred to commit: the tenant's row is locked only while the change
    // commits, so index transactions of one tenant never wait on each other's work (a plain
    // trigger would hold the lock from the change to the end of the transaction).
    await queryRunner.query(`
      CREATE FUNCTION bump_corpus_version() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        bumped bigint;
      BEGIN
        UPDATE tenants SET corpus_version = corpus_version + 1 WHERE id = NEW.tenant_id RETURNING corpus_version INTO bumped;
        IF bumped IS NOT NULL THEN
          PERFORM pg_notify('${CORPUS_VERSION_CHANNEL}', json_build_object('schema', current_schema(), 'tenant', NEW.tenant_id, 'version', bumped::text)::text);
        END IF;
        RETURN NULL;
      END $$`);
    await queryRunner.query(`
      CREATE CONSTRAINT TRIGGER index_changes_bump_corpus_version
        AFTER INSERT ON index_changes
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION bump_corpus_version()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER IF EXISTS index_changes_bump_corpus_version ON index_changes`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS bump_corpus_version()`);
    await queryRunner.query(`ALTER TABLE tenants DROP COLUMN IF EXISTS corpus_version`);
  }
}
