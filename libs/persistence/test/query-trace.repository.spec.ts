import { randomUUID } from 'node:crypto';
import type { QueryTrace } from '@quarry/contracts';
import { createTestSchema, type TestSchema } from '@quarry/testing';
import type { DataSource } from 'typeorm';
import { ConversationRepository, QueryTraceRepository, createDataSource, ensureDatabaseAndSchema, runMigrationsExclusively } from '../src';

describe('QueryTraceRepository against a real Postgres', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let traces: QueryTraceRepository;
  let conversations: ConversationRepository;

  beforeAll(async () => {
    schema = await createTestSchema('traces');
    const settings = { url: schema.url, schema: schema.schema, poolMax: 2, statementTimeoutMs: 10_000, applicationName: 'quarry-test' };
    await ensureDatabaseAndSchema(settings);
    dataSource = await createDataSource(settings).initialize();
    await runMigrationsExclusively(dataSource);
    traces = new QueryTraceRepository(dataSource);
    conversations = new ConversationRepository(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  const traceIn = (conversationId: string): QueryTrace => ({
    queryId: randomUUID(),
    conversationId,
    question: 'q?',
    source: 'agent',
    startedAt: new Date().toISOString(),
    durationMs: 1,
    generator: 'extractive',
    answer: 'a',
    citations: [],
    sentences: [],
    refinements: 0,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    steps: [],
  });
  const conversationOf = async (tenantId: string) => {
    const id = randomUUID();
    await conversations.appendExchange({ tenantId, conversationId: id, startsConversation: true, question: 'q?', answer: 'a', citations: [] });
    return id;
  };

  it('stores a trace once per query id, under its own tenant and conversation only', async () => {
    const acme = await conversationOf('acme');
    const trace = traceIn(acme);
    expect(await traces.insertMany([{ tenantId: 'acme', conversationId: acme, trace }])).toBe(1);
    expect(await traces.insertMany([{ tenantId: 'acme', conversationId: acme, trace: { ...trace, answer: 'changed' } }])).toBe(0);
    expect(await traces.find('acme', trace.queryId)).toEqual(trace);
    expect(await traces.find('globex', trace.queryId)).toBeUndefined();
    // A trace cannot be filed under another tenant's conversation (the owner foreign key).
    await conversationOf('globex');
    await expect(traces.insertMany([{ tenantId: 'globex', conversationId: acme, trace: traceIn(acme) }])).rejects.toThrow(/query_traces_owner_tenant_fkey/);
  });

  it("reads a cached serving's answer and citations from the first answer of its own conversation", async () => {
    const conversation = randomUUID();
    const citation = { index: 1, documentId: randomUUID(), chunkId: randomUUID(), filename: 'a.md', snippet: 's', score: 0.5, provenance: {} };
    await conversations.appendExchange({ tenantId: 'acme', conversationId: conversation, startsConversation: true, question: 'q?', answer: 'served [1]', citations: [citation] });
    await conversations.appendExchange({ tenantId: 'acme', conversationId: conversation, startsConversation: false, question: 'and then?', answer: 'a follow-up', citations: [] });
    const { answer: _answer, citations: _citations, sentences: _sentences, ...rest } = traceIn(conversation);
    const stored = { ...rest, source: 'answer-cache' as const };
    await traces.insertMany([{ tenantId: 'acme', conversationId: conversation, trace: stored }]);
    expect(await traces.find('acme', stored.queryId)).toEqual({ ...stored, answer: 'served [1]', citations: [citation] });
    expect(await traces.find('globex', stored.queryId)).toBeUndefined();
  });

  it('purges traces past the retention window', async () => {
    const conversation = await conversationOf('acme');
    const [old, recent] = [traceIn(conversation), traceIn(conversation)];
    await traces.insertMany([old, recent].map((trace) => ({ tenantId: 'acme', conversationId: conversation, trace })));
    await dataSource.query(`UPDATE query_traces SET created_at = now() - interval '40 days' WHERE id = $1`, [old.queryId]);
    expect(await traces.purgeOlderThan(30)).toBe(1);
    expect(await traces.find('acme', old.queryId)).toBeUndefined();
    expect(await traces.find('acme', recent.queryId)).toEqual(recent);
  });
});
