import { randomUUID } from 'node:crypto';
import { createTestSchema, type TestSchema } from '@quarry/testing';
import { DataSource } from 'typeorm';
import { ALL_ENTITIES } from '../src/entities';
import { ALL_MIGRATIONS } from '../src/migrations';
import { TenantOwnedRows1764300000000 } from '../src/migrations/1764300000000-tenant-owned-rows';

/** An installation upgraded to 1764300000000: rows written before it take their owner's tenant. */
describe('migration 1764300000000 (tenant on every tenant-owned row) on existing data', () => {
  let schema: TestSchema;
  let dataSource: DataSource;

  const sourceWith = (migrations: typeof ALL_MIGRATIONS) =>
    new DataSource({
      type: 'postgres',
      url: schema.url,
      schema: schema.schema,
      entities: ALL_ENTITIES,
      migrations,
      migrationsTableName: 'migrations',
      extra: { max: 2, options: `-c search_path=${schema.schema}` },
    });

  beforeAll(async () => {
    schema = await createTestSchema('ownedrows');
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  it('backfills the tenant from the owner, moves a stray chunk to its document\'s tenant, and then refuses mismatches', async () => {
    const upTo = ALL_MIGRATIONS.findIndex((migration) => migration === TenantOwnedRows1764300000000);
    dataSource = await sourceWith(ALL_MIGRATIONS.slice(0, upTo)).initialize();
    await dataSource.runMigrations();
    // The rows of a tenant as the code before this migration wrote them (no tenant on the child rows).
    const documentId = randomUUID();
    const conversationId = randomUUID();
    await dataSource.query<unknown[]>(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme'), ('globex', 'globex')`);
    await dataSource.query(
      `INSERT INTO documents (id, tenant_id, filename, media_type, size_bytes, sha256, status) VALUES ($1, 'acme', 'a.txt', 'text/plain', 1, $2, 'processing')`,
      [documentId, 'd'.repeat(64)],
    );
    await dataSource.query<unknown[]>(`INSERT INTO document_contents (document_id, bytes) VALUES ($1, '\\x61')`, [documentId]);
    await dataSource.query<unknown[]>(`INSERT INTO document_artifacts (document_id, kind, sha256) VALUES ($1, 'parsed', $2)`, [documentId, 'd'.repeat(64)]);
    await dataSource.query<unknown[]>(`INSERT INTO processing_jobs (document_id, queue_job_id, kind, status, attempt) VALUES ($1, 'j', 'parse', 'completed', 1)`, [documentId]);
    // A chunk under the wrong tenant: only a bug could have written it; the document owns it.
    await dataSource.query(
      `INSERT INTO chunks (document_id, tenant_id, ordinal, text, token_count, embedding, embedding_model) VALUES ($1, 'globex', 0, 't', 1, '\\x00', 'm')`,
      [documentId],
    );
    await dataSource.query<unknown[]>(`INSERT INTO conversations (id, tenant_id, title) VALUES ($1, 'acme', 'hello')`, [conversationId]);
    await dataSource.query<unknown[]>(`INSERT INTO messages (conversation_id, role, content) VALUES ($1, 'user', 'hello')`, [conversationId]);
    await dataSource.destroy();

    dataSource = await sourceWith(ALL_MIGRATIONS).initialize();
    await dataSource.runMigrations();
    for (const table of ['document_contents', 'document_artifacts', 'processing_jobs', 'chunks']) {
      expect({ table, rows: await dataSource.query<unknown[]>(`SELECT tenant_id FROM ${table} WHERE document_id = $1`, [documentId]) }).toEqual({ table, rows: [{ tenant_id: 'acme' }] });
    }
    expect(await dataSource.query<unknown[]>('SELECT tenant_id FROM messages WHERE conversation_id = $1', [conversationId])).toEqual([{ tenant_id: 'acme' }]);
    await expect(dataSource.query<unknown[]>(`UPDATE processing_jobs SET tenant_id = 'globex' WHERE document_id = $1`, [documentId])).rejects.toThrow(/foreign key/);
    await expect(dataSource.query<unknown[]>(`UPDATE messages SET tenant_id = 'globex' WHERE conversation_id = $1`, [conversationId])).rejects.toThrow(/foreign key/);
    // Deleting the owner still takes its rows with it.
    await dataSource.query<unknown[]>('DELETE FROM documents WHERE id = $1', [documentId]);
    await dataSource.query<unknown[]>('DELETE FROM conversations WHERE id = $1', [conversationId]);
    for (const table of ['document_contents', 'document_artifacts', 'processing_jobs', 'chunks']) {
      expect(await dataSource.query<unknown[]>(`SELECT 1 FROM ${table} WHERE document_id = $1`, [documentId])).toEqual([]);
    }
    expect(await dataSource.query<unknown[]>('SELECT 1 FROM messages WHERE conversation_id = $1', [conversationId])).toEqual([]);

    // And it can be undone.
    const runner = dataSource.createQueryRunner();
    try {
      // Later migrations go first, as a revert takes them (query_traces refers to conversations (id, tenant_id)).
      for (const Later of ALL_MIGRATIONS.slice(upTo + 1).reverse()) await new Later().down(runner);
      await new TenantOwnedRows1764300000000().down(runner);
    } finally {
      await runner.release();
    }
    const columns: Array<{ table_name: string }> = await dataSource.query(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'tenant_id' ORDER BY table_name`,
      [schema.schema],
    );
    expect(columns.map((column) => column.table_name)).not.toContain('messages');
    expect(columns.map((column) => column.table_name)).toContain('chunks');
  });
});
