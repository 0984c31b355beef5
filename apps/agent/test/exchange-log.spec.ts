import { randomUUID } from 'node:crypto';
import { createLogger } from '@quarry/observability';
import type { QueryTrace } from '@quarry/contracts';
import { ConversationRepository, type DataSource, ExchangeBatchRepository, type ExchangeRecord, QueryTraceRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { PrivatePostgres, waitFor } from '@quarry/testing';
import { ConversationRecords } from '../src/services/conversation-records';
import { DeferredWrites } from '../src/services/deferred-writes';
import { ExchangeLog } from '../src/services/exchange-log';

const logger = createLogger({ service: 'agent-test', level: 'error', silent: true });

/** Answered questions written behind the reply (write-behind), on a Postgres the test stops and starts. */
describe('the write-behind log of answered questions (a Postgres of its own)', () => {
  let postgres: PrivatePostgres;
  let dataSource: DataSource;
  let conversations: ConversationRepository;

  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
    dataSource = await createDataSource({ url: postgres.url, schema: 'public', poolMax: 4, statementTimeoutMs: 5000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    conversations = new ConversationRepository(dataSource);
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await postgres?.destroy();
  });

  const record = (tenantId: string, conversationId: string, question: string, startsConversation: boolean): ExchangeRecord => ({
    exchange: { tenantId, conversationId, startsConversation, question, answer: `answer to ${question}`, citations: [{ index: 1, note: question }] },
    log: { tenantId, question, hitCount: 3, citationCount: 1, generator: 'test', retrievalMs: 1, generationMs: 2, totalMs: 3, correlationId: `c-${question}` },
  });

  /** A log over a writer that counts its writes (one write = one transaction). */
  const setUp = (options: { intervalMs?: number; maxBatch?: number; recheckMs?: number } = {}) => {
    const writer = new ExchangeBatchRepository(dataSource);
    const writes: number[] = [];
    const lost: number[] = [];
    const deferred = new DeferredWrites({ maxPending: 1000, retryMs: 100, maxRetryMs: 400, logger });
    const log = new ExchangeLog({
      writer: { write: (batch) => (writes.push(batch.length), writer.write(batch)) },
      deferred,
      logger,
      intervalMs: options.intervalMs ?? 20,
      maxBatch: options.maxBatch ?? 500,
      onLost: () => lost.push(1),
    });
    const records = new ConversationRecords(conversations, deferred, log, logger, { recheckMs: options.recheckMs ?? 20 });
    return { log, deferred, records, writes, lost };
  };

  const tenantQuestions = async (tenantId: string) =>
    (await dataSource.query<Array<{ question: string }>>('SELECT question FROM query_log WHERE tenant_id = $1 ORDER BY question', [tenantId])).map((row) => row.question);
  const userMessages = async (tenantId: string, conversationId: string) =>
    (await conversations.messages(tenantId, conversationId)).filter((message) => message.role === 'user').map((message) => message.content);

  it('writes the answers of one turn in one transaction, behind the reply, with the messages of one conversation in order', async () => {
    const { log, deferred, writes } = setUp();
    const tenant = `t-${randomUUID()}`;
    const started = randomUUID();
    const others = Array.from({ length: 20 }, () => randomUUID());
    log.record(record(tenant, started, 'first', true));
    // Continued before its start reached Postgres: written in the same batch, after it.
    log.record(record(tenant, started, 'second', false));
    for (const [position, id] of others.entries()) log.record(record(tenant, id, `q${String(position).padStart(2, '0')}`, true));
    // Nothing was written on the caller's time.
    expect(writes).toEqual([]);
    expect(log.buffered).toBe(22);
    await waitFor(() => log.buffered === 0 && writes.length === 1, { timeoutMs: 5000, description: 'the batch to be written' });
    await log.flush();
    expect(writes).toEqual([22]);
    expect(await userMessages(tenant, started)).toEqual(['first', 'second']);
    const messages = await conversations.messages(tenant, started);
    expect(messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(messages[1]).toMatchObject({ content: 'answer to first', citations: [{ index: 1, note: 'first' }] });
    expect((await tenantQuestions(tenant)).length).toBe(22);
    expect(await dataSource.query('SELECT count(*)::int AS n FROM conversations WHERE tenant_id = $1', [tenant])).toEqual([{ n: 21 }]);
    await log.close();
    await deferred.close();
  });

  it('writes many answers of a busy stretch in few transactions (one per interval, or per full batch)', async () => {
    const { log, deferred, writes } = setUp({ intervalMs: 100, maxBatch: 50 });
    const tenant = `t-${randomUUID()}`;
    for (let turn = 0; turn < 10; turn++) {
      for (let position = 0; position < 12; position++) log.record(record(tenant, randomUUID(), `t${turn}-${position}`, true));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await log.flush();
    expect(writes.reduce((sum, size) => sum + size, 0)).toBe(120);
    expect(writes.length).toBeLessThanOrEqual(6);
    expect(Math.max(...writes)).toBeLessThanOrEqual(50);
    expect((await tenantQuestions(tenant)).length).toBe(120);
    await log.close();
    await deferred.close();
  });

  it('writes what is buffered on shutdown (close), and answers recorded while closing too', async () => {
    const { log, deferred } = setUp({ intervalMs: 60_000 });
    const tenant = `t-${randomUUID()}`;
    // The first write starts at once; the next must wait a minute — unless the log is closed.
    log.record(record(tenant, randomUUID(), 'a', true));
    await waitFor(() => log.buffered === 0, { timeoutMs: 5000, description: 'the first write to start' });
    for (const question of ['b', 'c', 'd']) log.record(record(tenant, randomUUID(), question, true));
    expect(log.buffered).toBe(3);
    const closing = log.close();
    log.record(record(tenant, randomUUID(), 'e', true));
    await closing;
    await log.flush();
    expect(await tenantQuestions(tenant)).toEqual(['a', 'b', 'c', 'd', 'e']);
    await deferred.close();
  });

  it('lets a client continue a conversation whose first exchange is still buffered (read-your-writes), and only within its tenant', async () => {
    const { log, deferred, records } = setUp({ intervalMs: 60_000 });
    const tenant = `t-${randomUUID()}`;
    // A first write, so the next ones wait for the interval.
    log.record(record(tenant, randomUUID(), 'warm', true));
    await waitFor(() => log.buffered === 0, { timeoutMs: 5000, description: 'the first write to start' });
    const conversationId = randomUUID();
    log.record(record(tenant, conversationId, 'buffered start', true));
    expect(await conversations.exists(tenant, conversationId)).toBe(false);
    await expect(records.verify(tenant, conversationId)).resolves.toBeUndefined();
    await expect(records.verify('globex', conversationId)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `conversation ${conversationId} not found` });
    await log.flush();
    expect(log.unwrittenTenantOf(conversationId)).toBeUndefined();
    // Written: now Postgres answers, the same way.
    await expect(records.verify(tenant, conversationId)).resolves.toBeUndefined();
    await expect(records.verify('globex', conversationId)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await log.close();
    await deferred.close();
  });

  it('finds a conversation another replica started a moment ago and writes behind its reply (one recheck before NOT_FOUND)', async () => {
    const here = setUp({ recheckMs: 150 });
    const there = setUp({ intervalMs: 60_000 });
    const tenant = `t-${randomUUID()}`;
    there.log.record(record(tenant, randomUUID(), 'warm', true));
    await waitFor(() => there.log.buffered === 0, { timeoutMs: 5000, description: 'the first write to start' });
    const conversationId = randomUUID();
    there.log.record(record(tenant, conversationId, 'started there', true));
    setTimeout(() => void there.log.flush(), 50);
    await expect(here.records.verify(tenant, conversationId)).resolves.toBeUndefined();
    // A conversation that nobody started is NOT_FOUND after the recheck.
    const started = Date.now();
    await expect(here.records.verify(tenant, randomUUID())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    for (const side of [here, there]) {
      await side.log.close();
      await side.deferred.close();
    }
  });

  it('holds the buffered answers through a Postgres outage (conversations still continuable), and writes them in order once it is back', async () => {
    const { log, deferred, records, lost } = setUp({ intervalMs: 10 });
    const tenant = `t-${randomUUID()}`;
    const conversationId = randomUUID();
    await postgres.stopServer('immediate');
    try {
      log.record(record(tenant, conversationId, 'during outage 1', true));
      await log.flush();
      expect(deferred.size).toBe(1);
      // Still held: the client's follow-up is let through, and recorded behind it.
      await expect(records.verify(tenant, conversationId)).resolves.toBeUndefined();
      log.record(record(tenant, conversationId, 'during outage 2', false));
      log.record(record(tenant, randomUUID(), 'during outage 3', true));
      await log.flush();
      expect(deferred.size).toBe(3);
      expect(log.unwrittenTenantOf(conversationId)).toBe(tenant);
    } finally {
      await postgres.startServer();
    }
    await waitFor(() => deferred.size === 0, { timeoutMs: 15_000, description: 'the held answers to reach Postgres' });
    expect(await userMessages(tenant, conversationId)).toEqual(['during outage 1', 'during outage 2']);
    expect(await tenantQuestions(tenant)).toEqual(['during outage 1', 'during outage 2', 'during outage 3']);
    expect(log.unwrittenTenantOf(conversationId)).toBeUndefined();
    expect(lost).toEqual([]);
    await log.close();
    await deferred.close();
  }, 60_000);

  it("writes a query's trace with its exchange, readable by the exchange's tenant only, and holds it through a Postgres outage", async () => {
    const { log, deferred, lost } = setUp({ intervalMs: 10 });
    const traces = new QueryTraceRepository(dataSource);
    const acme = `acme-${randomUUID()}`;
    const globex = `globex-${randomUUID()}`;
    const conversationId = randomUUID();
    const traceOf = (question: string, claimed: { conversationId: string }): QueryTrace => ({
      queryId: randomUUID(),
      conversationId: claimed.conversationId,
      question,
      source: 'agent',
      route: 'simple',
      startedAt: new Date().toISOString(),
      durationMs: 12,
      generator: 'extractive',
      answer: `answer to ${question}`,
      citations: [],
      sentences: [{ text: `answer to ${question}`, cited: [], supportedBy: null }],
      refinements: 0,
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      steps: [{ type: 'node', node: 'retrieve', atMs: 1, durationMs: 3, outcome: 'ok' }],
    });
    const withTrace = (tenantId: string, conversation: string, question: string, startsConversation: boolean, trace: QueryTrace): ExchangeRecord => ({
      ...record(tenantId, conversation, question, startsConversation),
      trace,
    });

    const first = traceOf('acme asks', { conversationId });
    log.record(withTrace(acme, conversationId, 'acme asks', true, first));
    await log.flush();
    expect(await traces.find(acme, first.queryId)).toEqual(first);
    expect(await traces.find(globex, first.queryId)).toBeUndefined();

    // Another tenant's exchange on acme's conversation is refused, and its trace with it; one that
    // reuses acme's query id (a forged or redelivered trace) leaves acme's trace as it was; a trace
    // that names another conversation than its exchange's is stored under the exchange's.
    const refused = traceOf('globex continues acme', { conversationId });
    log.record(withTrace(globex, conversationId, 'globex continues acme', false, refused));
    const globexConversation = randomUUID();
    log.record(withTrace(globex, globexConversation, 'globex reuses the id', true, { ...traceOf('globex reuses the id', { conversationId }), queryId: first.queryId }));
    const own = traceOf('globex asks', { conversationId });
    log.record(withTrace(globex, globexConversation, 'globex asks', false, own));
    // The same exchange delivered twice: written once.
    log.record(withTrace(globex, globexConversation, 'globex asks', false, own));
    await log.flush();
    expect(lost).toEqual([1]);
    expect(await traces.find(globex, refused.queryId)).toBeUndefined();
    expect(await traces.find(acme, refused.queryId)).toBeUndefined();
    expect(await traces.find(acme, first.queryId)).toEqual(first);
    expect(await traces.find(globex, first.queryId)).toBeUndefined();
    expect(await traces.find(globex, own.queryId)).toEqual({ ...own, conversationId: globexConversation });
    expect(await dataSource.query('SELECT tenant_id, conversation_id::text FROM query_traces WHERE id = $1', [own.queryId])).toEqual([{ tenant_id: globex, conversation_id: globexConversation }]);
    expect(await traces.find(acme, 'not-a-uuid')).toBeUndefined();

    // Through an outage: held with its exchange, written once Postgres is back.
    const during = traceOf('acme during outage', { conversationId });
    await postgres.stopServer('immediate');
    try {
      log.record(withTrace(acme, conversationId, 'acme during outage', false, during));
      await log.flush();
      expect(deferred.size).toBe(1);
    } finally {
      await postgres.startServer();
    }
    await waitFor(() => deferred.size === 0, { timeoutMs: 15_000, description: 'the held trace to reach Postgres' });
    expect(await traces.find(acme, during.queryId)).toEqual(during);
    expect(await traces.find(globex, during.queryId)).toBeUndefined();
    expect(await userMessages(acme, conversationId)).toEqual(['acme asks', 'acme during outage']);
    expect(lost).toEqual([1]);

    // Deleting the conversation deletes the traces of its questions.
    await dataSource.query('DELETE FROM conversations WHERE id = $1 AND tenant_id = $2', [conversationId, acme]);
    expect(await traces.find(acme, first.queryId)).toBeUndefined();
    expect(await traces.find(globex, own.queryId)).toBeDefined();
    await log.close();
    await deferred.close();
  }, 60_000);

  it("refuses an exchange whose conversation is another tenant's, and writes the rest of its batch", async () => {
    const { log, deferred, lost } = setUp();
    const acme = `acme-${randomUUID()}`;
    const conversationId = randomUUID();
    log.record(record(acme, conversationId, 'acme starts', true));
    await log.flush();
    log.record(record('globex', conversationId, 'globex continues acme', false));
    log.record(record('globex', conversationId, 'globex claims acme', true));
    log.record(record(acme, conversationId, 'acme continues', false));
    await log.flush();
    expect(lost).toEqual([1, 1]);
    expect(await userMessages(acme, conversationId)).toEqual(['acme starts', 'acme continues']);
    expect(await dataSource.query('SELECT tenant_id FROM conversations WHERE id = $1', [conversationId])).toEqual([{ tenant_id: acme }]);
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND tenant_id = 'globex'`, [conversationId])).toEqual([{ n: 0 }]);
    await log.close();
    await deferred.close();
  });

  it('loses only the bad record of a batch that fails for another reason than an outage', async () => {
    const { log, deferred, lost } = setUp();
    const tenant = `t-${randomUUID()}`;
    log.record(record(tenant, randomUUID(), 'good 1', true));
    // Not a uuid: the batch fails, then the records are written one by one.
    log.record(record(tenant, 'not-a-uuid', 'bad', true));
    log.record(record(tenant, randomUUID(), 'good 2', true));
    await log.flush();
    expect(lost).toEqual([1]);
    expect(await tenantQuestions(tenant)).toEqual(['good 1', 'good 2']);
    expect(deferred.size).toBe(0);
    await log.close();
    await deferred.close();
  });
});
