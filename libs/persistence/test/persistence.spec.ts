import { randomUUID } from 'node:crypto';
import { createTestSchema, type TestSchema } from '@quarry/testing';
import type { DataSource } from 'typeorm';
import {
  ChunkRepository,
  ConversationRepository,
  DocumentRepository,
  QueryLogRepository,
  createDataSource,
  ensureDatabaseAndSchema,
  runMigrationsExclusively,
} from '../src';
import { ALL_MIGRATIONS } from '../src/migrations';

const sha = 'a'.repeat(64);

describe('persistence against a real Postgres', () => {
  let schema: TestSchema;
  let dataSource: DataSource;

  beforeAll(async () => {
    schema = await createTestSchema('persistence');
    const settings = { url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'quarry-test' };
    await ensureDatabaseAndSchema(settings);
    dataSource = await createDataSource(settings).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  it('migrates exactly once when several processes boot together', async () => {
    const others = [1, 2].map(() =>
      createDataSource({ url: schema.url, schema: schema.schema, poolMax: 2, statementTimeoutMs: 10_000, applicationName: 'quarry-test' }),
    );
    await Promise.all(others.map((source) => source.initialize()));
    const applied = await Promise.all([dataSource, ...others].map((source) => runMigrationsExclusively(source)));
    await Promise.all(others.map((source) => source.destroy()));
    // Each migration applied once in all, in order, whichever process got the lock.
    expect(applied.flat()).toEqual(ALL_MIGRATIONS.map((migration) => new migration().name));
    expect(applied.flat().slice(0, 4)).toEqual(['InitialSchema1763700000000', 'StagedIngestion1763800000000', 'EmbeddingVersions1763900000000', 'GaplessIndexFeed1764000000000']);
    const tables: Array<{ table_name: string }> = await dataSource.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [schema.schema],
    );
    expect(tables.map((row) => row.table_name)).toEqual(
      expect.arrayContaining(['chunks', 'documents', 'document_contents', 'index_changes', 'messages', 'query_log', 'tenants']),
    );
  });

  it('stores a document with its bytes, chunks and embeddings, and logs index changes', async () => {
    const documents = new DocumentRepository(dataSource);
    const chunks = new ChunkRepository(dataSource);
    const before = await chunks.feedStart();
    const document = await documents.createWithContent(
      { tenantId: 'acme', filename: 'notes.md', mediaType: 'text/markdown', sha256: sha, tags: ['a', 'b'], folder: '/team' },
      Buffer.from('# Notes\nhello'),
    );
    expect(document.status).toBe('queued');
    expect((await documents.content('acme', document.id))?.toString()).toBe('# Notes\nhello');
    expect(await documents.enterStage('acme', document.id, sha, 'parse', 0)).toBe(true);
    expect(await documents.enterStage('acme', document.id, 'b'.repeat(64), 'parse', 0)).toBe(false);

    const vector = Float32Array.from([0.25, -0.5, 0.125]);
    const stored = await chunks.replaceDocumentChunks('acme', document.id, 'local-test', [
      { ordinal: 0, text: 'hello', tokenCount: 1, provenance: { headingPath: ['Notes'] }, embedding: vector },
    ]);
    expect(stored).toBe(true);

    const reloaded = await documents.findById('acme', document.id);
    expect(reloaded).toMatchObject({ status: 'indexed', chunkCount: 1, error: null });
    expect(await documents.findById('other-tenant', document.id)).toBeNull();

    // Settled or not yet (another transaction on the cluster may still be running): committed either way.
    const committedAfter = async (position: Parameters<typeof chunks.changesAfter>[0]) => {
      const page = await chunks.changesAfter(position);
      return [...page.settled, ...page.unsettled];
    };
    const changes = await committedAfter(before);
    expect(changes).toEqual([expect.objectContaining({ tenantId: 'acme', documentId: document.id, kind: 'upsert' })]);
    const [indexed] = await chunks.chunksOfDocuments('acme', [document.id]);
    expect(Array.from(indexed.vector)).toEqual([0.25, -0.5, 0.125]);
    expect(indexed).toMatchObject({ filename: 'notes.md', tags: ['a', 'b'], folder: '/team', provenance: { headingPath: ['Notes'] } });

    const pages: string[] = [];
    for await (const page of chunks.indexedChunkPages('local-test', 1)) pages.push(...page.map((chunk) => chunk.chunkId));
    expect(pages).toContain(indexed.chunkId);

    expect(await documents.delete('acme', document.id)).toBe(true);
    expect(await documents.delete('acme', document.id)).toBe(false);
    expect(await chunks.chunksOfDocuments('acme', [document.id])).toEqual([]);
    const afterDelete = await committedAfter(changes[0]);
    expect(afterDelete).toEqual([expect.objectContaining({ documentId: document.id, kind: 'delete' })]);
    // A late ingestion step for a deleted document writes nothing.
    expect(await chunks.replaceDocumentChunks('acme', document.id, 'local-test', [])).toBe(false);
  });

  it('refuses whitespace-only chunks at the database level', async () => {
    const documents = new DocumentRepository(dataSource);
    const document = await documents.createWithContent(
      { tenantId: 'acme', filename: 'x.txt', mediaType: 'text/plain', sha256: sha, tags: [], folder: '/' },
      Buffer.from('x'),
    );
    await expect(
      new ChunkRepository(dataSource).replaceDocumentChunks('acme', document.id, 'm', [
        { ordinal: 0, text: '   ', tokenCount: 0, provenance: {}, embedding: new Float32Array(2) },
      ]),
    ).rejects.toThrow(/check constraint/);
    expect((await documents.findById('acme', document.id))?.status).toBe('queued');
  });

  it('lists documents newest first with a total', async () => {
    const documents = new DocumentRepository(dataSource);
    const page = await documents.list('acme', { limit: 1, offset: 0 });
    expect(page.total).toBeGreaterThanOrEqual(1);
    expect(page.items).toHaveLength(1);
  });

  it('keeps conversations and purges old query log entries', async () => {
    const conversations = new ConversationRepository(dataSource);
    const id = randomUUID();
    expect(await conversations.appendExchange({ tenantId: 'acme', conversationId: id, startsConversation: true, question: 'q?', answer: 'a [1]', citations: [{ index: 1 }] })).toBe(true);
    expect(await conversations.appendExchange({ tenantId: 'acme', conversationId: id, startsConversation: false, question: 'q2?', answer: 'a2', citations: [] })).toBe(true);
    expect((await conversations.messages('acme', id)).map((message) => message.content)).toEqual(['q?', 'a [1]', 'q2?', 'a2']);
    expect(await conversations.exists('acme', id)).toBe(true);

    const log = new QueryLogRepository(dataSource);
    const entry = { tenantId: 'acme', question: 'q', hitCount: 1, citationCount: 1, generator: 'x', retrievalMs: 1, generationMs: 1, totalMs: 2, correlationId: null };
    await log.record(entry);
    await log.record(entry);
    await dataSource.query(`UPDATE query_log SET created_at = now() - interval '40 days' WHERE id = (SELECT id FROM query_log LIMIT 1)`);
    expect(await log.purgeOlderThan(30)).toBe(1);
    expect(await log.count('acme')).toBe(1);
  });
});
