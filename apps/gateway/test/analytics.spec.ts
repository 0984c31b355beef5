import { createHash, randomUUID } from 'node:crypto';
import { QueueName } from '@quarry/contracts';
import { ConversationRepository, DocumentRepository, SystemAlertRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Queue } from 'bullmq';
import type { GatewayConfig } from '../src/config';
import { issueTestKey, startGateway } from './start-gateway';

const DAY = 24 * 3600_000;

/** Linear interpolation between the closest ranks — what percentile_cont computes, written out independently. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = p * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}
const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10);

interface Asked {
  question: string;
  totalMs: number;
  citations: number;
  /** Days before the test started. */
  age: number;
}

/**
 * The analytics routes on real Postgres and Redis, over seeded data: every figure is checked
 * against one computed here from the seed itself, and the other tenant's rows (more questions,
 * slower, citing the first tenant's documents) must move none of them.
 */
describe('GET /api/analytics/*', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  let queue: Queue;
  const keys: Record<string, Record<string, string>> = {};
  const started = Date.now();
  const documents: Record<'handbook' | 'policy' | 'archive' | 'unused' | 'draft' | 'globexOwn', string> = {} as never;

  // acme's questions: in the 7-day window and older ones that must not count. The "real" times are
  // chosen so that percentiles fall between values (interpolation is checked too).
  const acme: Asked[] = [
    { question: 'How many vacation days do we get?', totalMs: 12, citations: 2, age: 0.1 },
    { question: 'how many  VACATION days do we get?', totalMs: 30, citations: 1, age: 0.2 },
    { question: 'How many vacation days do we get?', totalMs: 18, citations: 1, age: 2.3 },
    { question: 'Where is the vault?', totalMs: 250, citations: 0, age: 2.4 },
    { question: 'Where is the vault?', totalMs: 7, citations: 0, age: 4.5 },
    { question: 'Who signs expenses?', totalMs: 41, citations: 3, age: 6.5 },
    { question: 'Too old to count', totalMs: 9999, citations: 0, age: 8 },
    { question: 'Too old to count', totalMs: 9999, citations: 0, age: 40 },
  ];
  // globex asks more, slower, and mostly what acme asks: any leak shows in every figure.
  const globex: Asked[] = Array.from({ length: 12 }, (_, index) => ({ question: index % 2 ? 'Where is the vault?' : 'Globex secret question', totalMs: 5000 + index, citations: 0, age: index % 6 }));

  const sql = (text: string, values: unknown[] = []) => service.kit.dataSource.query(text, values);

  async function seedQuestions(tenantId: string, asked: Asked[]): Promise<void> {
    for (const { question, totalMs, citations, age } of asked) {
      await sql(
        `INSERT INTO query_log (tenant_id, question, hit_count, citation_count, generator, retrieval_ms, generation_ms, total_ms, created_at) VALUES ($1, $2, $3, $3, 'extractive', 1, 1, $4, $5)`,
        [tenantId, question, citations, totalMs, new Date(started - age * DAY)],
      );
    }
  }

  async function document(tenantId: string, filename: string, indexedDaysAgo: number | null): Promise<string> {
    const { document: stored } = await new DocumentRepository(service.kit.dataSource).createOrFindLive(
      { tenantId, filename, mediaType: 'text/markdown', sha256: createHash('sha256').update(`${tenantId}/${filename}`).digest('hex'), tags: [], folder: '/' },
      Buffer.from(filename),
    );
    if (indexedDaysAgo !== null) await sql(`UPDATE documents SET status = 'indexed', indexed_at = $2 WHERE id = $1`, [stored.id, new Date(started - indexedDaysAgo * DAY)]);
    return stored.id;
  }

  /** An answer of the tenant citing these documents (a document may be cited twice), `age` days ago. */
  async function answer(tenantId: string, cited: string[], age: number): Promise<void> {
    const conversationId = randomUUID();
    const citations = cited.map((documentId, index) => ({ index: index + 1, documentId, chunkId: randomUUID(), snippet: 's', score: 0.5 }));
    await new ConversationRepository(service.kit.dataSource).appendExchange({ tenantId, conversationId, startsConversation: true, question: 'q', answer: 'a', citations });
    await sql(`UPDATE messages SET created_at = $2 WHERE conversation_id = $1`, [conversationId, new Date(started - age * DAY)]);
  }

  beforeAll(async () => {
    schema = await createTestSchema('gwanalytics');
    redis = createTestRedisPrefix('gwanalytics');
    service = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, RATE_LIMIT_PER_MINUTE: '0', OPERATOR_TENANT: 'acme' });
    for (const role of ['read', 'write', 'admin'] as const) keys[role] = (await issueTestKey(service, 'acme', role)).headers;
    keys.globex = (await issueTestKey(service, 'globex', 'admin')).headers;
    keys.empty = (await issueTestKey(service, 'initech', 'admin')).headers;
    queue = new Queue(QueueName.Ingestion, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });

    await seedQuestions('acme', acme);
    await seedQuestions('globex', globex);

    documents.handbook = await document('acme', 'handbook.md', 20);
    documents.policy = await document('acme', 'policy.md', 15);
    documents.archive = await document('acme', 'archive.md', 60);
    documents.unused = await document('acme', 'unused.md', 10);
    documents.draft = await document('acme', 'draft.md', null); // queued: not indexed, so not "never cited"
    documents.globexOwn = await document('globex', 'globex.md', 5);
    // handbook: three answers (one citing it twice), policy: one; archive only before the window.
    await answer('acme', [documents.handbook, documents.handbook, documents.policy], 1);
    await answer('acme', [documents.handbook], 2);
    await answer('acme', [documents.handbook], 3);
    await answer('acme', [documents.archive], 45);
    await answer('acme', [], 1);
    // globex's answers cite its own document and — forged — acme's, many times: neither may count for acme.
    for (let index = 0; index < 6; index++) await answer('globex', [documents.globexOwn, documents.policy, documents.archive, documents.unused], 1);
  });

  afterAll(async () => {
    await queue?.close();
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const get = async (path: string, headers = keys.admin) => {
    const response = await fetch(`${service.url}/api/analytics/${path}`, { headers });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> & { error?: { code: string } } };
  };

  it("queries: volume, no-answer rate, latency percentiles, top questions and days of the tenant's own log", async () => {
    const { status, body } = await get('queries?days=7&top=2');
    expect(status).toBe(200);
    const inWindow = acme.filter((row) => row.age < 7);
    const latency = (rows: Asked[]) => ({ p50: percentile(rows.map((row) => row.totalMs), 0.5), p95: percentile(rows.map((row) => row.totalMs), 0.95), p99: percentile(rows.map((row) => row.totalMs), 0.99) });
    // Six questions, two without citations; times 7, 12, 18, 30, 41, 250 → p50 = (18 + 30) / 2.
    expect(latency(inWindow).p50).toBe(24);
    expect(body).toMatchObject({ days: 7, queries: 6, noAnswer: 2 });
    expect(body.noAnswerRate).toBeCloseTo(2 / 6, 10);
    const served = body.latencyMs as Record<string, number>;
    for (const [name, expected] of Object.entries(latency(inWindow))) expect({ name, value: served[name].toFixed(4) }).toEqual({ name, value: (expected as number).toFixed(4) });
    expect(body.topQuestions).toEqual([
      { question: 'How many vacation days do we get?', asked: 3 },
      { question: 'Where is the vault?', asked: 2 },
    ]);

    const since = Date.parse(body.since as string);
    expect(Math.abs(since - (started - 7 * DAY))).toBeLessThan(60_000);
    const days: string[] = [];
    for (let day = Date.parse(`${utcDay(since)}T00:00:00Z`); day <= Date.now(); day += DAY) days.push(utcDay(day));
    const byDay = body.byDay as Array<{ day: string; queries: number; noAnswer: number; latencyMs: { p50: number | null } }>;
    expect(byDay.map((day) => day.day)).toEqual(days);
    for (const day of byDay) {
      const rows = inWindow.filter((row) => utcDay(started - row.age * DAY) === day.day);
      expect({ day: day.day, queries: day.queries, noAnswer: day.noAnswer, p50: day.latencyMs.p50 === null ? null : Number(day.latencyMs.p50.toFixed(4)) }).toEqual({
        day: day.day,
        queries: rows.length,
        noAnswer: rows.filter((row) => row.citations === 0).length,
        p50: rows.length === 0 ? null : Number((percentile(rows.map((row) => row.totalMs), 0.5) as number).toFixed(4)),
      });
    }
    expect(byDay.reduce((sum, day) => sum + day.queries, 0)).toBe(6);

    // The wider window takes in the question of 8 days ago, not the one of 40.
    expect((await get('queries?days=30')).body).toMatchObject({ queries: 7, noAnswer: 3 });
  });

  it('documents: the most cited by answers of the window, and the indexed ones no answer of it cited', async () => {
    const { status, body } = await get('documents?days=30');
    expect(status).toBe(200);
    expect(body.mostCited).toEqual([
      { documentId: documents.handbook, filename: 'handbook.md', answers: 3, lastCitedAt: new Date(started - 1 * DAY).toISOString() },
      { documentId: documents.policy, filename: 'policy.md', answers: 1, lastCitedAt: new Date(started - 1 * DAY).toISOString() },
    ]);
    expect(body.neverCited).toEqual({
      total: 2,
      items: [
        { documentId: documents.archive, filename: 'archive.md', indexedAt: new Date(started - 60 * DAY).toISOString() },
        { documentId: documents.unused, filename: 'unused.md', indexedAt: new Date(started - 10 * DAY).toISOString() },
      ],
    });
    // A window that reaches the archive's citation; limit cuts each list, not the total.
    const wide = (await get('documents?days=60&limit=1')).body;
    expect((wide.mostCited as Array<{ documentId: string }>).map((item) => item.documentId)).toEqual([documents.handbook]);
    expect(wide.neverCited).toEqual({ total: 1, items: [expect.objectContaining({ documentId: documents.unused })] });
  });

  it("another tenant's figures are its own, and a tenant with nothing has zeros", async () => {
    const globexQueries = (await get('queries?days=7', keys.globex)).body;
    expect(globexQueries).toMatchObject({ queries: 12, noAnswer: 12, noAnswerRate: 1 });
    expect(JSON.stringify(globexQueries)).not.toContain('vacation');
    const globexDocuments = (await get('documents?days=30', keys.globex)).body;
    expect(globexDocuments).toMatchObject({ mostCited: [expect.objectContaining({ documentId: documents.globexOwn, answers: 6 })], neverCited: { total: 0, items: [] } });
    for (const id of Object.values(documents).filter((id) => id !== documents.globexOwn)) expect(JSON.stringify(globexDocuments)).not.toContain(id);

    expect((await get('queries?days=7', keys.empty)).body).toMatchObject({ queries: 0, noAnswer: 0, noAnswerRate: null, latencyMs: { p50: null, p95: null, p99: null }, topQuestions: [] });
    expect((await get('documents', keys.empty)).body).toMatchObject({ days: 30, mostCited: [], neverCited: { total: 0, items: [] } });
  });

  it('system: queue depths per state (prioritized apart), the caller tenant\'s tasks, the cache\'s hit rates, active alerts', async () => {
    await queue.add('ingestion.ingest-document', { probe: true }, { priority: 3 });
    await queue.add('ingestion.ingest-document', { probe: true }, { priority: 5 });
    await queue.add('ingestion.ingest-document', { probe: true }, { delay: 3_600_000 });
    await sql(`INSERT INTO tasks (id, tenant_id, type, priority, status, max_retries, timeout_seconds) VALUES ($1, 'acme', 'cache.warm', 'low', 'pending', 0, 60), ($2, 'globex', 'retention.purge', 'low', 'pending', 0, 60), ($3, 'globex', 'retention.purge', 'low', 'scheduled', 0, 60)`, [randomUUID(), randomUUID(), randomUUID()]);
    await new SystemAlertRepository(service.kit.dataSource).recordTransition({ origin: { service: 'retrieval', replica: 'r-0', pid: 1 }, resource: 'memory', level: 'critical', value: 0.95, threshold: 0.9, at: new Date() });

    const { status, body } = await get('system');
    expect(status).toBe(200);
    const queues = body.queues as Array<Record<string, number | string>>;
    expect(queues.map((entry) => entry.queue).sort()).toEqual(Object.values(QueueName).sort());
    expect(queues.find((entry) => entry.queue === QueueName.Ingestion)).toEqual({ queue: QueueName.Ingestion, waiting: 0, prioritized: 2, active: 0, delayed: 1, 'waiting-children': 0, paused: 0, failed: 0, completed: 0 });
    expect(body.tasks).toMatchObject({ byStatus: { pending: 1 }, byType: { 'cache.warm': { pending: 1 } } });
    expect(body.cache).toMatchObject({ service: 'gateway', requests: expect.any(Number) as unknown, hitRate: expect.any(Number) as unknown, kinds: expect.any(Array) as unknown });
    expect((body.resources as { active: Array<Record<string, unknown>> }).active).toEqual([expect.objectContaining({ service: 'retrieval', resource: 'memory', level: 'critical', clearedAt: null })]);
    // The installation's figures are for operators (acme's admins here), not for another tenant's admin.
    expect((await get('system', keys.globex)).status).toBe(403);
  });

  it('every analytics route is for admin keys only, and refuses a window it cannot read', async () => {
    for (const path of ['queries', 'documents', 'system']) {
      for (const role of ['read', 'write'] as const) {
        const { status, body } = await get(path, keys[role]);
        expect({ path, role, status, code: body.error?.code }).toEqual({ path, role, status: 403, code: 'FORBIDDEN' });
      }
    }
    for (const path of ['queries?days=0', 'queries?days=366', 'queries?top=101', 'documents?limit=0', 'documents?days=many']) {
      const { status, body } = await get(path);
      expect({ path, status, code: body.error?.code }).toEqual({ path, status: 400, code: 'INVALID_PAYLOAD' });
    }
  });
});
