import { randomUUID } from 'node:crypto';
import { createLogger } from '@quarry/observability';
import { ConversationRepository, type DataSource, ExchangeBatchRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { PrivatePostgres, waitFor } from '@quarry/testing';
import { ConversationRecords } from '../src/services/conversation-records';
import { DeferredWrites } from '../src/services/deferred-writes';
import { ExchangeLog } from '../src/services/exchange-log';

const logger = createLogger({ service: 'agent-test', level: 'error', silent: true });

describe('writes deferred while Postgres is down (a Postgres of its own)', () => {
  let postgres: PrivatePostgres;
  let dataSource: DataSource;
  let conversations: ConversationRepository;

  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
    dataSource = await createDataSource({ url: postgres.url, schema: 'public', poolMax: 2, statementTimeoutMs: 5000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    conversations = new ConversationRepository(dataSource);
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await postgres?.destroy();
  });

  const exchangeOf = (conversationId: string, question: string, startsConversation = false, tenantId = 'acme') => ({
    tenantId,
    conversationId,
    startsConversation,
    question,
    answer: `answer to ${question}`,
    citations: [],
  });
  const logEntry = (tenantId: string, question: string) => ({
    tenantId,
    question,
    hitCount: 1,
    citationCount: 0,
    generator: 'test',
    retrievalMs: 1,
    generationMs: 1,
    totalMs: 2,
    correlationId: null,
  });

  it('writes at once while Postgres is up, holds writes during an outage, and writes them in order once it is back', async () => {
    const dropped: number[] = [];
    const deferred = new DeferredWrites({ maxPending: 100, retryMs: 100, maxRetryMs: 400, logger, onDrop: () => dropped.push(1) });
    const conversationId = randomUUID();
    await expect(deferred.writeOrDefer('first', () => conversations.appendExchange(exchangeOf(conversationId, 'one', true)))).resolves.toBe(true);

    await postgres.stopServer('immediate');
    await expect(deferred.writeOrDefer('second', () => conversations.appendExchange(exchangeOf(conversationId, 'two')))).resolves.toBe(false);
    await expect(deferred.writeOrDefer('third', () => conversations.appendExchange(exchangeOf(conversationId, 'three')))).resolves.toBe(false);
    expect(deferred.size).toBe(2);

    await postgres.startServer();
    await waitFor(() => deferred.size === 0, { timeoutMs: 15_000, description: 'the held writes to reach Postgres' });
    const messages = await conversations.messages('acme', conversationId);
    expect(messages.filter((message) => message.role === 'user').map((message) => message.content)).toEqual(['one', 'two', 'three']);
    expect(dropped).toEqual([]);
    await deferred.close();
  }, 60_000);

  it('answers a continued conversation while Postgres is down, and drops its held write when the conversation turns out to be another tenant\'s', async () => {
    const dropped: string[] = [];
    const deferred = new DeferredWrites({ maxPending: 100, retryMs: 100, maxRetryMs: 400, logger, onDrop: () => dropped.push('dropped') });
    const log = new ExchangeLog({ writer: new ExchangeBatchRepository(dataSource), deferred, logger, intervalMs: 10, maxBatch: 100, onLost: () => dropped.push('dropped') });
    const records = new ConversationRecords(conversations, deferred, log, logger, { recheckMs: 10 });
    const record = (exchange: ReturnType<typeof exchangeOf>) => records.record({ exchange, log: logEntry(exchange.tenantId, exchange.question) });
    const acmes = randomUUID();
    record(exchangeOf(acmes, 'acme asks', true));
    await log.flush();
    expect(deferred.size).toBe(0);

    await postgres.stopServer('immediate');
    // Not checkable now: the question is answered (verify lets it through) and its record is held.
    await expect(records.verify('globex', acmes)).resolves.toBeUndefined();
    record(exchangeOf(acmes, 'globex takes over', false, 'globex'));
    await log.flush();
    // acme's own continuation, held behind it, still gets written.
    record(exchangeOf(acmes, 'acme again'));
    await log.flush();
    expect(deferred.size).toBe(2);
    await postgres.startServer();
    await waitFor(() => deferred.size === 0, { timeoutMs: 15_000, description: 'the held writes to reach Postgres' });

    expect(dropped).toEqual(['dropped']);
    expect(await dataSource.query('SELECT tenant_id, title FROM conversations WHERE id = $1', [acmes])).toEqual([{ tenant_id: 'acme', title: 'acme asks' }]);
    expect((await conversations.messages('acme', acmes)).filter((message) => message.role === 'user').map((message) => message.content)).toEqual(['acme asks', 'acme again']);
    expect(await dataSource.query(`SELECT 1 FROM messages WHERE tenant_id = 'globex'`)).toEqual([]);
    // With Postgres up again, the check answers at once.
    await expect(records.verify('globex', acmes)).rejects.toMatchObject({ code: 'NOT_FOUND', message: `conversation ${acmes} not found` });
    await log.close();
    await deferred.close();
  }, 60_000);

  it('drops the oldest held write past its bound, and never holds a write that failed for another reason', async () => {
    const dropped: number[] = [];
    const deferred = new DeferredWrites({ maxPending: 2, retryMs: 60_000, maxRetryMs: 60_000, logger, onDrop: () => dropped.push(1) });
    const outage = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    for (let i = 0; i < 3; i++) await deferred.writeOrDefer(`write ${i}`, outage);
    expect(deferred.size).toBe(2);
    expect(dropped).toHaveLength(1);

    const fresh = new DeferredWrites({ maxPending: 2, retryMs: 60_000, maxRetryMs: 60_000, logger });
    await expect(fresh.writeOrDefer('bug', () => Promise.reject(new TypeError('not an outage')))).rejects.toThrow('not an outage');
    expect(fresh.size).toBe(0);
    await deferred.close();
    await fresh.close();
  });
});
