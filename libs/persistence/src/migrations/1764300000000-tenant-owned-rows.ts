import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Rows that belong to a tenant's document: their foreign key now carries the tenant. */
const DOCUMENT_CHILDREN = ['document_contents', 'document_artifacts', 'processing_jobs'] as const;

/**
 * Every row that belongs to a tenant carries the tenant, and the database holds it to its owner's:
 * document_contents, document_artifacts, processing_jobs (and chunks, which had the column) refer to
 * `documents (id, tenant_id)`, messages to `conversations (id, tenant_id)`. A child row whose tenant
 * differs from its owner's cannot be written at all, and every repository query on a child table
 * filters on its own `tenant_id`, as on every other tenant table — no join needed to stay inside a
 * tenant, and nothing for a later query to forget beyond that one predicate.
 *
 * Existing rows take their owner's tenant. Chunks written under another tenant than their document's
 * (only a bug could have done it) are moved to the document's tenant, which owns them.
 */
export class TenantOwnedRows1764300000000 implements MigrationInterface {
  name = 'TenantOwnedRows1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The targets of the composite foreign keys (id alone is already unique, so this never fails).
    await queryRunner.query(`ALTER TABLE documents ADD CONSTRAINT documents_id_tenant_key UNIQUE (id, tenant_id)`);
    await queryRunner.query(`ALTER TABLE conversations ADD CONSTRAINT conversations_id_tenant_key UNIQUE (id, tenant_id)`);

    for (const table of DOCUMENT_CHILDREN) {
      await queryRunner.query(`ALTER TABLE ${table} ADD COLUMN tenant_id text`);
      await queryRunner.query(`UPDATE ${table} x SET tenant_id = d.tenant_id FROM documents d WHERE d.id = x.document_id`);
      await queryRunner.query(`ALTER TABLE ${table} ALTER COLUMN tenant_id SET NOT NULL`);
      await this.referToOwner(queryRunner, table, 'document_id', 'documents');
    }

    await queryRunner.query(`UPDATE chunks c SET tenant_id = d.tenant_id FROM documents d WHERE d.id = c.document_id AND c.tenant_id <> d.tenant_id`);
    await this.referToOwner(queryRunner, 'chunks', 'document_id', 'documents');

    await queryRunner.query(`ALTER TABLE messages ADD COLUMN tenant_id text`);
    await queryRunner.query(`UPDATE messages m SET tenant_id = c.tenant_id FROM conversations c WHERE c.id = m.conversation_id`);
    await queryRunner.query(`ALTER TABLE messages ALTER COLUMN tenant_id SET NOT NULL`);
    await this.referToOwner(queryRunner, 'messages', 'conversation_id', 'conversations');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, column, owner] of [
      ['messages', 'conversation_id', 'conversations'],
      ['chunks', 'document_id', 'documents'],
      ...DOCUMENT_CHILDREN.map((table) => [table, 'document_id', 'documents']),
    ] as const) {
      await queryRunner.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${table}_owner_tenant_fkey`);
      await queryRunner.query(`ALTER TABLE ${table} ADD CONSTRAINT ${table}_${column}_fkey FOREIGN KEY (${column}) REFERENCES ${owner}(id) ON DELETE CASCADE`);
      if (table !== 'chunks') await queryRunner.query(`ALTER TABLE ${table} DROP COLUMN IF EXISTS tenant_id`);
    }
    await queryRunner.query(`ALTER TABLE conversations DROP CONSTRAINT IF EXISTS conversations_id_tenant_key`);
    await queryRunner.query(`ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_id_tenant_key`);
  }

  /** Replaces the foreign key on the owner's id by one on (owner id, tenant), still cascading deletes. */
  private async referToOwner(queryRunner: QueryRunner, table: string, column: string, owner: string): Promise<void> {
    await queryRunner.query(`ALTER TABLE ${table} DROP CONSTRAINT IF EXISTS ${table}_${column}_fkey`);
    await queryRunner.query(
      `ALTER TABLE ${table} ADD CONSTRAINT ${table}_owner_tenant_fkey FOREIGN KEY (${column}, tenant_id) REFERENCES ${owner} (id, tenant_id) ON DELETE CASCADE`,
    );
  }
}
