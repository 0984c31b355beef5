import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The third tier of `@quarry/cache` (issue 10): entries that survive a restart of every replica
 * and of Redis. One row per kind and key; the value is the entry's JSON as UTF-8 bytes (bytea, not
 * jsonb: jsonb refuses \u0000 in strings, which extracted document text may hold, and would parse
 * and re-serialise every value on the server). `bytes` is the value's length, for accounting. An
 * expired row is a miss (and is deleted when read); `TieredCache.purgeExpired` deletes the rest in
 * batches through the index on `expires_at`.
 */
export class CacheEntries1764500000000 implements MigrationInterface {
  name = 'CacheEntries1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE cache_entries (
         kind text NOT NULL,
         key text NOT NULL,
         value bytea NOT NULL,
         bytes integer NOT NULL CHECK (bytes >= 0),
         expires_at timestamptz NOT NULL,
         PRIMARY KEY (kind, key)
       )`,
    );
    await queryRunner.query(`CREATE INDEX cache_entries_expires_at_idx ON cache_entries (expires_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS cache_entries`);
  }
}
