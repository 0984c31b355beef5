import { randomUUID } from 'node:crypto';
import { ConversationRepository, type DataSource, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { type TestSchema, createTestSchema } from '@quarry/testing';
import { loadHistory, loadTurns } from './load-history';

/** Against the real repository and Postgres: what the agent reads back is what it wrote, and only the tenant's. */
describe('loadHistory / loadTurns', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let repository: ConversationRepository;

  beforeAll(async () => {
    schema = await createTestSchema('memory');
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 2, statementTimeoutMs: 10_000, applicationName: 'memory-test' }).initialize();
    await runMigrationsExclusively(dataSource);
    repository = new ConversationRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  it("reads the tenant's conversation oldest first, with the cited documents of each answer", async () => {
    const conversationId = randomUUID();
    const handbook = randomUUID();
    const cite = (documentId: string, filename: string) => ({ index: 1, documentId, chunkId: randomUUID(), filename, snippet: 's', score: 1, provenance: {} });
    await repository.appendExchange({ tenantId: 'mem-a', conversationId, startsConversation: true, question: 'What is the vacation policy?', answer: '31 days [1].', citations: [cite(handbook, 'handbook.md')] });
    await repository.appendExchange({ tenantId: 'mem-a', conversationId, startsConversation: false, question: 'And sick leave?', answer: 'Ten days [1].', citations: [cite(handbook, 'handbook.md')] });

    expect(await loadHistory(repository, 'mem-a', conversationId)).toEqual([
      { role: 'user', content: 'What is the vacation policy?' },
      { role: 'assistant', content: '31 days [1].' },
      { role: 'user', content: 'And sick leave?' },
      { role: 'assistant', content: 'Ten days [1].' },
    ]);
    expect(await loadTurns(repository, 'mem-a', conversationId)).toEqual([
      { question: 'What is the vacation policy?', answer: '31 days [1].', citedDocumentIds: [handbook], citedFilenames: ['handbook.md'] },
      { question: 'And sick leave?', answer: 'Ten days [1].', citedDocumentIds: [handbook], citedFilenames: ['handbook.md'] },
    ]);
    // Another tenant naming the id reads nothing.
    expect(await loadHistory(repository, 'mem-b', conversationId)).toEqual([]);
    expect(await loadTurns(repository, 'mem-a', randomUUID())).toEqual([]);
  });
});
