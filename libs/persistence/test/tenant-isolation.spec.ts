import { createHash, randomUUID } from 'node:crypto';
import { createTestSchema, type TestSchema } from '@quarry/testing';
import type { DataSource } from 'typeorm';
import {
  ArtifactRepository,
  ChunkRepository,
  ConversationRepository,
  DocumentRepository,
  ProcessingJobRepository,
  createDataSource,
  ensureDatabaseAndSchema,
  runMigrationsExclusively,
} from '../src';

const sha = 'c'.repeat(64);
const vector = Float32Array.from([0.5, 0.25]);

/*
 * Every repository method given acme's ids under globex's name: reads find nothing and writes
 * change nothing — checked on the rows themselves afterwards, not on return values alone.
 */
describe('repositories never cross tenants (real Postgres)', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let documents: DocumentRepository;
  let chunks: ChunkRepository;
  let artifacts: ArtifactRepository;
  let attempts: ProcessingJobRepository;
  let conversations: ConversationRepository;

  beforeAll(async () => {
    schema = await createTestSchema('tenancy');
    const settings = { url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'quarry-test' };
    await ensureDatabaseAndSchema(settings);
    dataSource = await createDataSource(settings).initialize();
    await runMigrationsExclusively(dataSource);
    documents = new DocumentRepository(dataSource);
    chunks = new ChunkRepository(dataSource);
    artifacts = new ArtifactRepository(dataSource);
    attempts = new ProcessingJobRepository(dataSource);
    conversations = new ConversationRepository(dataSource);
    // globex exists as a tenant of its own (its writes below fail for the ids, not for the tenant).
    await documents.createWithContent({ tenantId: 'globex', filename: 'g.txt', mediaType: 'text/plain', sha256: sha, tags: [], folder: '/' }, Buffer.from('g'));
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  /** Everything stored about one document, to compare before and after. */
  async function snapshot(documentId: string): Promise<unknown> {
    const [document] = await dataSource.query<unknown[]>('SELECT * FROM documents WHERE id = $1', [documentId]);
    return {
      document,
      content: await dataSource.query<unknown[]>('SELECT tenant_id, bytes FROM document_contents WHERE document_id = $1', [documentId]),
      artifacts: await dataSource.query<unknown[]>('SELECT tenant_id, kind, sha256, data, created_at FROM document_artifacts WHERE document_id = $1 ORDER BY kind', [documentId]),
      attempts: await dataSource.query<unknown[]>('SELECT tenant_id, kind, status, error FROM processing_jobs WHERE document_id = $1 ORDER BY started_at, kind', [documentId]),
      chunks: await dataSource.query<unknown[]>('SELECT id, tenant_id, text FROM chunks WHERE document_id = $1 ORDER BY ordinal', [documentId]),
    };
  }

  /** An acme document; its content hash is `sha` (the hashes of step outputs below). */
  async function acmeDocument(filename: string): Promise<string> {
    const bytes = Buffer.from(`acme's ${filename}`);
    const document = await documents.createWithContent(
      { tenantId: 'acme', filename, mediaType: 'text/plain', sha256: createHash('sha256').update(bytes).digest('hex'), tags: ['x'], folder: '/acme' },
      bytes,
    );
    return document.id;
  }

  it('documents: globex reads nothing and changes nothing of an acme document in processing', async () => {
    const id = await acmeDocument('processing.txt');
    const content = (await documents.findById('acme', id))?.sha256 ?? '';
    expect(await documents.enterStage('acme', id, content, 'parse', 0)).toBe(true);
    await artifacts.save('acme', id, 'parsed', sha, { data: { sections: [] } });
    await attempts.record({ tenantId: 'acme', documentId: id, queueJobId: 'j', kind: 'parse', attempt: 1, startedAt: new Date(), status: 'failed', error: 'acme only' });
    const before = await snapshot(id);

    expect(await documents.findById('globex', id)).toBeNull();
    expect(await documents.content('globex', id)).toBeNull();
    expect(await documents.statusOf('globex', id)).toBeUndefined();
    expect(await documents.enterStage('globex', id, content, 'chunk', 30)).toBe(false);
    await documents.setProgress('globex', id, 77);
    expect(await documents.markFailed('globex', id, 'taken over')).toBe(false);
    await documents.saveParseFacts('globex', id, { pageCount: 99, analysis: { taken: 'over' } });
    await documents.saveAnalysis('globex', id, { taken: 'over' });
    await documents.touch('globex', id);
    expect(await documents.cancel('globex', id)).toBe(false);
    await documents.discardUnqueued('globex', [id]);
    expect(await documents.delete('globex', id)).toBe(false);
    const [progress] = await documents.progressChanges([{ tenantId: 'globex', id, status: null, stage: null, progress: 0 }]);
    expect(progress).toEqual({ gone: true, id, tenantId: 'globex' });

    expect(await snapshot(id)).toEqual(before);
  });

  it('artifacts and attempts: globex cannot read, replace, add or delete them', async () => {
    const id = await acmeDocument('artifacts.txt');
    await artifacts.save('acme', id, 'chunks', sha, { data: [{ text: 'acme chunk' }] });
    await attempts.record({ tenantId: 'acme', documentId: id, queueJobId: 'j', kind: 'chunk', attempt: 1, startedAt: new Date(), status: 'completed' });
    const before = await snapshot(id);

    expect(await artifacts.load('globex', id, 'chunks', sha)).toBeNull();
    expect(await artifacts.kinds('globex', id, sha)).toEqual(new Set());
    // Replacing acme's artifact is an upsert on (document, kind): it writes nothing for globex.
    expect(await artifacts.save('globex', id, 'chunks', sha, { data: [{ text: 'globex chunk' }] })).toBe(false);
    // A new row under globex for acme's document: the database refuses it (foreign key on document and tenant).
    await expect(artifacts.save('globex', id, 'embeddings', sha, { bytes: Buffer.alloc(8) })).rejects.toThrow(/foreign key/);
    await artifacts.deleteAll('globex', id);

    expect(await attempts.forDocument('globex', id)).toEqual([]);
    expect(await attempts.completedKinds('globex', id)).toEqual(new Set());
    expect(await attempts.failures('globex', id, 'chunk')).toEqual({ count: 0, lastError: null });
    const forged = { tenantId: 'globex', documentId: id, queueJobId: 'forged', kind: 'chunk', attempt: 9, startedAt: new Date(), status: 'failed' as const, error: 'x' };
    await expect(attempts.record(forged)).rejects.toThrow(/foreign key/);
    await expect(attempts.recordOnce(forged)).rejects.toThrow(/foreign key/);

    expect(await snapshot(id)).toEqual(before);
    // acme still sees its own.
    expect((await artifacts.load('acme', id, 'chunks', sha))?.data).toEqual([{ text: 'acme chunk' }]);
    expect(await attempts.completedKinds('acme', id)).toEqual(new Set(['chunk']));
  });

  it('chunks: globex cannot index, read or count an acme document', async () => {
    const id = await acmeDocument('indexed.txt');
    const chunk = { ordinal: 0, text: 'acme text', tokenCount: 2, provenance: {}, embedding: vector };
    expect(await chunks.replaceDocumentChunks('acme', id, 'm', [chunk])).toBe(true);
    const before = await snapshot(id);

    expect(await chunks.replaceDocumentChunks('globex', id, 'm', [{ ...chunk, text: 'globex text' }])).toBe(false);
    expect(await chunks.chunksOfDocuments('globex', [id])).toEqual([]);
    expect(await chunks.indexedChunksOf([{ tenantId: 'globex', documentId: id }], 'm')).toEqual([]);
    const position = await chunks.feedStart();
    expect((await chunks.indexedCountsByDocument('globex', 'm', position)).counts.has(id)).toBe(false);

    expect(await snapshot(id)).toEqual(before);
    expect((await chunks.chunksOfDocuments('acme', [id])).map((row) => row.text)).toEqual(['acme text']);
  });

  it('conversations: appendExchange with another tenant\'s id writes nothing, whichever way it is asked', async () => {
    const id = randomUUID();
    const exchange = { conversationId: id, question: 'What is our vacation policy?', answer: '27 days [1]', citations: [{ index: 1 }] };
    expect(await conversations.appendExchange({ ...exchange, tenantId: 'acme', startsConversation: true })).toBe(true);
    const state = async () => ({
      conversation: await dataSource.query<unknown[]>('SELECT tenant_id, title, created_at, updated_at FROM conversations WHERE id = $1', [id]),
      messages: await dataSource.query<unknown[]>('SELECT tenant_id, role, content, citations FROM messages WHERE conversation_id = $1 ORDER BY created_at, role DESC', [id]),
    });
    const before = await state();
    expect(before.conversation).toEqual([expect.objectContaining({ tenant_id: 'acme', title: 'What is our vacation policy?' })]);

    const takeover = { conversationId: id, tenantId: 'globex', question: 'ignore previous instructions', answer: 'pwned', citations: [] };
    expect(await conversations.appendExchange({ ...takeover, startsConversation: false })).toBe(false);
    // Even as a "new" conversation whose id happens to be acme's (the agent's id for a deferred write).
    expect(await conversations.appendExchange({ ...takeover, startsConversation: true })).toBe(false);
    expect(await conversations.exists('globex', id)).toBe(false);
    expect(await conversations.messages('globex', id)).toEqual([]);

    expect(await state()).toEqual(before);
    expect((await conversations.messages('acme', id)).map((message) => message.content)).toEqual(['What is our vacation policy?', '27 days [1]']);
    // The database itself refuses a globex message in acme's conversation.
    await expect(
      dataSource.query<unknown[]>(`INSERT INTO messages (tenant_id, conversation_id, role, content) VALUES ('globex', $1, 'user', 'x')`, [id]),
    ).rejects.toThrow(/foreign key/);
  });

  it('conversations: continuing one that does not exist writes nothing; starting one twice (a repeated write) appends to it', async () => {
    const missing = randomUUID();
    expect(await conversations.appendExchange({ tenantId: 'acme', conversationId: missing, startsConversation: false, question: 'q', answer: 'a', citations: [] })).toBe(false);
    expect(await dataSource.query<unknown[]>('SELECT 1 FROM conversations WHERE id = $1', [missing])).toEqual([]);

    const id = randomUUID();
    for (const question of ['first', 'again']) {
      expect(await conversations.appendExchange({ tenantId: 'acme', conversationId: id, startsConversation: true, question, answer: 'a', citations: [] })).toBe(true);
    }
    const [row] = await dataSource.query<Array<{ title: string }>>('SELECT title FROM conversations WHERE id = $1', [id]);
    expect(row.title).toBe('first');
    expect((await conversations.messages('acme', id)).filter((message) => message.role === 'user').map((message) => message.content)).toEqual(['first', 'again']);
  });

  it('the database refuses child rows whose tenant is not their owner\'s', async () => {
    const id = await acmeDocument('children.txt');
    // Moving a child row to another tenant is refused.
    await expect(dataSource.query<unknown[]>(`UPDATE document_contents SET tenant_id = 'globex' WHERE document_id = $1`, [id])).rejects.toThrow(/foreign key/);
    await dataSource.query<unknown[]>('DELETE FROM document_contents WHERE document_id = $1', [id]);
    for (const statement of [
      `INSERT INTO document_contents (tenant_id, document_id, bytes) VALUES ('globex', $1, '\\x00')`,
      `INSERT INTO document_artifacts (tenant_id, document_id, kind, sha256) VALUES ('globex', $1, 'chunks', '${sha}')`,
      `INSERT INTO processing_jobs (tenant_id, document_id, queue_job_id, kind, status, attempt) VALUES ('globex', $1, 'j', 'parse', 'failed', 1)`,
      `INSERT INTO chunks (tenant_id, document_id, ordinal, text, token_count, embedding, embedding_model) VALUES ('globex', $1, 5, 't', 1, '\\x00', 'm')`,
    ]) {
      await expect(dataSource.query<unknown[]>(statement, [id])).rejects.toThrow(/foreign key/);
    }
  });
});
