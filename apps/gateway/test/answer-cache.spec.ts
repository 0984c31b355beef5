import { randomUUID } from 'node:crypto';
import { JobName, QueueName } from '@quarry/contracts';
import type { CacheStatsReport } from '@quarry/cache';
import type { DataSource } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { type Job, Worker } from 'bullmq';
import type { GatewayConfig } from '../src/config';
import { CACHE_HEADER } from '../src/query/query.controller';
import { issueTestKey, startGateway } from './start-gateway';

interface Reply {
  answer: string;
  conversationId: string;
  generator: string;
  citations: unknown[];
}

/**
 * The gateway's answer cache, in-process against real Postgres and Redis, with a stand-in agent (a
 * plain BullMQ worker on the agent queue, as any consumer of the public contract may be) that
 * counts the questions it is asked.
 */
describe('answer cache at the gateway', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let gateway: RunningService<GatewayConfig>;
  let replica: RunningService<GatewayConfig>;
  let agent: Worker;
  const asked: string[] = [];
  const recorded: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    schema = await createTestSchema('answercache');
    redis = createTestRedisPrefix('answercache');
    const env = { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, RATE_LIMIT_PER_MINUTE: '0' };
    gateway = await startGateway(env);
    replica = await startGateway(env);
    const { hostname, port } = new URL(redis.url);
    agent = new Worker(
      QueueName.Agent,
      (job: Job) => {
        if (job.name === JobName.RecordExchanges) {
          recorded.push(...(job.data as { exchanges: Array<Record<string, unknown>> }).exchanges);
          return Promise.resolve(null);
        }
        const question = (job.data as { question: string }).question;
        asked.push(question);
        return Promise.resolve({ answer: `answer ${asked.length} to ${question}`, citations: [], generator: 'stand-in', conversationId: randomUUID(), timings: { retrievalMs: 1, generationMs: 1, totalMs: 2 } });
      },
      { connection: { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null }, prefix: redis.prefix },
    );
    await agent.waitUntilReady();
  });

  afterAll(async () => {
    await agent?.close();
    await replica?.close();
    await gateway?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const dataSource = (): DataSource => gateway.kit.dataSource;
  async function ask(service: RunningService<GatewayConfig>, headers: Record<string, string>, body: Record<string, unknown>): Promise<{ reply: Reply; cache: string | null }> {
    const response = await fetch(`${service.url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    return { reply: (await response.json()) as Reply, cache: response.headers.get(CACHE_HEADER) };
  }
  /** What ingestion or a deletion does in the transaction that changes a tenant's index. */
  const changeIndex = (tenantId: string) =>
    dataSource().query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, 'upsert')`, [tenantId, randomUUID()]);
  const ensureTenant = (tenantId: string) => dataSource().query(`INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING`, [tenantId]);

  it('answers a question asked before from the cache: no agent, a conversation of its own, the exchange still recorded', async () => {
    const { headers } = await issueTestKey(gateway, 'cache-a', 'read');
    const first = await ask(gateway, headers, { question: 'How many vacation days do we get?' });
    expect(first.cache).toBe('miss');
    const again = await ask(gateway, headers, { question: 'How many vacation days do we get?' });
    expect(again.cache).toBe('hit');
    expect(again.reply.answer).toBe(first.reply.answer);
    expect(again.reply.conversationId).not.toBe(first.reply.conversationId);
    expect(asked.filter((question) => question === 'How many vacation days do we get?')).toHaveLength(1);
    await waitFor(() => Promise.resolve(recorded.find((record) => record.conversationId === again.reply.conversationId)), { timeoutMs: 3000, description: 'the cached exchange to be recorded' });
    expect(recorded.find((record) => record.conversationId === again.reply.conversationId)).toMatchObject({ tenantId: 'cache-a', source: 'answer-cache', answer: first.reply.answer });
  });

  it('finds the same question however it is cased or spaced, but not with other filters, another topK, or in a conversation', async () => {
    const { headers } = await issueTestKey(gateway, 'cache-b', 'read');
    await ask(gateway, headers, { question: 'Who approves travel?' });
    expect((await ask(gateway, headers, { question: '  who APPROVES   travel? ' })).cache).toBe('hit');
    expect((await ask(gateway, headers, { question: 'Who approves travel?', topK: 3 })).cache).toBe('miss');
    expect((await ask(gateway, headers, { question: 'Who approves travel?', filters: { tags: ['hr'] } })).cache).toBe('miss');
    const conversation = await ask(gateway, headers, { question: 'Who approves travel?', conversationId: randomUUID() });
    expect(conversation.cache).toBe('bypass');
  });

  it('never serves one tenant an answer cached for another', async () => {
    const acme = await issueTestKey(gateway, 'cache-acme', 'read');
    const globex = await issueTestKey(gateway, 'cache-globex', 'read');
    const mine = await ask(gateway, acme.headers, { question: 'What is the secret project called?' });
    const theirs = await ask(gateway, globex.headers, { question: 'What is the secret project called?' });
    expect(theirs.cache).toBe('miss');
    expect(theirs.reply.answer).not.toBe(mine.reply.answer);
  });

  it('stops serving every cached answer of a tenant once its index changes, on every replica at once', async () => {
    const { headers } = await issueTestKey(gateway, 'cache-change', 'read');
    await ensureTenant('cache-change');
    const before = await ask(gateway, headers, { question: 'When is lunch served?' });
    // Both replicas serve it from the cache (the replica fills its own memory from Redis).
    expect((await ask(replica, headers, { question: 'When is lunch served?' })).cache).toBe('hit');
    expect((await ask(gateway, headers, { question: 'When is lunch served?' })).cache).toBe('hit');
    await changeIndex('cache-change');
    // The first to ask after the change gets a fresh answer (the agent is asked again); from then
    // on that one is what both replicas serve, never the one from before the change.
    for (const service of [replica, gateway, replica]) {
      await waitFor(async () => (await ask(service, headers, { question: 'When is lunch served?' })).reply.answer !== before.reply.answer, {
        timeoutMs: 2000,
        intervalMs: 10,
        description: 'the corpus version to reach the replica',
      });
    }
    const after = await ask(gateway, headers, { question: 'When is lunch served?' });
    expect(after.cache).toBe('hit');
    expect(after.reply.answer).not.toBe(before.reply.answer);
    expect(asked.filter((question) => question === 'When is lunch served?')).toHaveLength(2);
  });

  it('shows per-kind, per-tier figures to admins that add up, and to nobody else', async () => {
    const admin = await issueTestKey(gateway, 'cache-ops', 'admin');
    const reader = await issueTestKey(gateway, 'cache-ops', 'read');
    expect((await fetch(`${gateway.url}/api/admin/cache/stats`, { headers: reader.headers })).status).toBe(403);
    const response = await fetch(`${gateway.url}/api/admin/cache/stats`, { headers: admin.headers });
    expect(response.status).toBe(200);
    const stats = (await response.json()) as CacheStatsReport;
    expect(stats.health.map((tier) => [tier.tier, tier.state])).toEqual([
      ['memory', 'up'],
      ['redis', 'up'],
      ['postgres', 'up'],
    ]);
    const answers = stats.kinds.find((kind) => kind.kind === 'answer');
    expect(answers).toBeDefined();
    // Every request either hit at some tier or missed at the last one.
    expect(stats.totals.requests).toBe(stats.totals.hits + stats.totals.misses);
    expect(stats.totals.hits).toBe(Object.values(stats.totals.hitsByTier).reduce((sum, hits) => sum + hits, 0));
  });
});
