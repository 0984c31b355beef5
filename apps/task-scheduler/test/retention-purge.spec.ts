import { createHash, randomUUID } from 'node:crypto';
import { JobName, type TaskView } from '@quarry/contracts';
import { DocumentRepository, EmbeddingCacheRepository, ProcessingJobRepository, QueryLogRepository, SystemAlertRepository, TaskRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import type { SchedulerConfig } from '../src/config';
import { startScheduler } from './start-scheduler';

const OLD = 60; // days: past the 30-day window the task is given
const OLD_ROWS = 40;
const RECENT_ROWS = 10;

/**
 * retention.purge on a seeded database: it removes the submitting tenant's old query log, traces
 * and finished job records — none of another tenant's, none of the recent ones — and, for
 * everyone, old index changes, expired cache entries, embedding-cache rows no chunk uses and
 * resource alerts cleared long ago.
 */
describe('retention.purge (in-process task-scheduler, seeded database)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<SchedulerConfig>;

  beforeAll(async () => {
    schema = await createTestSchema('retention');
    redis = createTestRedisPrefix('retention');
    service = await startScheduler({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, INDEX_CHANGES_RETENTION_HOURS: '24', EMBEDDING_CACHE_RETENTION_DAYS: '30', SYSTEM_ALERTS_RETENTION_DAYS: '30' });
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const sql = <T = Record<string, unknown>>(text: string, values: unknown[] = []) => service.kit.dataSource.query<T[]>(text, values);
  const count = async (text: string, values: unknown[] = []) => Number((await sql<{ n: string }>(`SELECT count(*) AS n FROM ${text}`, values))[0].n);

  async function seed(tenantId: string): Promise<void> {
    const log = new QueryLogRepository(service.kit.dataSource);
    for (let row = 0; row < OLD_ROWS + RECENT_ROWS; row++) {
      await log.record({ tenantId, question: `q${row}`, hitCount: 1, citationCount: 1, generator: 'extractive', retrievalMs: 1, generationMs: 1, totalMs: 2, correlationId: null });
    }
    await sql(`UPDATE query_log SET created_at = now() - make_interval(days => $2) WHERE id IN (SELECT id FROM query_log WHERE tenant_id = $1 ORDER BY id LIMIT $3)`, [tenantId, OLD, OLD_ROWS]);

    const documents = new DocumentRepository(service.kit.dataSource);
    const { document } = await documents.createOrFindLive({ tenantId, filename: 'a.md', mediaType: 'text/markdown', sha256: createHash('sha256').update(tenantId).digest('hex'), tags: [], folder: '/' }, Buffer.from(tenantId));
    const jobs = new ProcessingJobRepository(service.kit.dataSource);
    const started = new Date(Date.now() - OLD * 24 * 3600_000);
    for (let attempt = 1; attempt <= OLD_ROWS; attempt++) {
      await jobs.recordOnce({ tenantId, documentId: document.id, queueJobId: `parse-${attempt}`, kind: 'parse', attempt, startedAt: started, finishedAt: started, status: 'completed' });
    }
    await jobs.recordOnce({ tenantId, documentId: document.id, queueJobId: 'parse-now', kind: 'parse', attempt: 99, startedAt: new Date(), status: 'completed' });

    for (let change = 0; change < OLD_ROWS; change++) await sql(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, 'upsert')`, [tenantId, document.id]);
    await sql(`UPDATE index_changes SET created_at = now() - interval '3 days' WHERE tenant_id = $1`, [tenantId]);
    await sql(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, 'upsert')`, [tenantId, document.id]);
  }

  it("removes the tenant's old records and everyone's dead rows, and keeps the rest", async () => {
    await seed('acme');
    await seed('globex');
    // Expired and live cache entries; embedding-cache rows for a chunk's text (kept) and for text nobody has (gone once old).
    for (let entry = 0; entry < OLD_ROWS; entry++) await sql(`INSERT INTO cache_entries (kind, key, value, bytes, expires_at) VALUES ('answer', $1, '\\x00', 1, now() - interval '1 minute')`, [`expired-${entry}`]);
    await sql(`INSERT INTO cache_entries (kind, key, value, bytes, expires_at) VALUES ('answer', 'live', '\\x00', 1, now() + interval '1 hour')`);
    const embeddings = new EmbeddingCacheRepository(service.kit.dataSource);
    const used = 'The vault is behind the third door.';
    const [{ id: documentId }] = await sql<{ id: string }>(`SELECT id FROM documents WHERE tenant_id = 'acme'`);
    await sql(
      `INSERT INTO chunks (id, document_id, tenant_id, ordinal, text, token_count, embedding, embedding_model) VALUES ($1, $2, 'acme', 0, $3, 8, '\\x00', 'm')`,
      [randomUUID(), documentId, used],
    );
    const hash = (text: string) => createHash('sha256').update(text).digest('hex');
    await embeddings.putMany('m', [used, ...Array.from({ length: OLD_ROWS }, (_, index) => `orphan ${index}`), 'fresh orphan'].map((text) => ({ contentSha256: hash(text), vector: new Float32Array([1, 2]) })));
    await sql(`UPDATE embedding_cache SET created_at = now() - make_interval(days => $1) WHERE content_sha256 <> $2`, [OLD, hash('fresh orphan')]);
    // Resource alerts: cleared long ago (gone), cleared yesterday (kept), raised long ago and still active (kept).
    // (The scheduler's own monitor may store real ones meanwhile: the checks look at this made-up service's.)
    const alerts = new SystemAlertRepository(service.kit.dataSource);
    const daysAgo = (days: number) => new Date(Date.now() - days * 24 * 3600_000);
    const origin = { service: 'ingestion', replica: 'i-0', pid: 1 };
    await alerts.recordTransition({ origin, resource: 'cpu', level: 'warning', value: 0.8, threshold: 0.7, at: daysAgo(OLD + 1) });
    await alerts.recordTransition({ origin, resource: 'cpu', level: 'ok', value: 0.1, threshold: null, at: daysAgo(OLD) });
    await alerts.recordTransition({ origin, resource: 'cpu', level: 'warning', value: 0.8, threshold: 0.7, at: daysAgo(2) });
    await alerts.recordTransition({ origin, resource: 'cpu', level: 'ok', value: 0.1, threshold: null, at: daysAgo(1) });
    await alerts.recordTransition({ origin, resource: 'disk', level: 'critical', value: 0.97, threshold: 0.95, at: daysAgo(3 * OLD) });

    const { task } = await service.kit.jobs.request(JobName.SubmitTask, { tenantId: 'acme', type: 'retention.purge', params: { olderThanDays: 30 } });
    const tasks = new TaskRepository(service.kit.dataSource);
    let done: TaskView | undefined;
    await waitFor(
      async () => {
        done = await tasks.find('acme', task.id);
        return done?.status === 'completed' || done?.status === 'failed';
      },
      { timeoutMs: 15_000, description: 'the purge to end' },
    );
    expect(done).toMatchObject({
      status: 'completed',
      progress: 100,
      result: { olderThanDays: 30, queryLog: OLD_ROWS, queryTraces: 0, processingJobs: OLD_ROWS, indexChanges: 2 * OLD_ROWS, cacheEntries: OLD_ROWS, embeddingCache: OLD_ROWS, systemAlerts: 1 },
    });
    // What is left: acme's recent rows, all of globex's own records, the fresh index changes, the live cache entry, the used and the fresh vectors.
    expect(await count(`query_log WHERE tenant_id = 'acme'`)).toBe(RECENT_ROWS);
    expect(await count(`query_log WHERE tenant_id = 'globex'`)).toBe(OLD_ROWS + RECENT_ROWS);
    expect(await count(`processing_jobs WHERE tenant_id = 'acme'`)).toBe(1);
    expect(await count(`processing_jobs WHERE tenant_id = 'globex'`)).toBe(OLD_ROWS + 1);
    expect(await count('index_changes')).toBe(2);
    expect(await count('cache_entries')).toBe(1);
    expect((await sql<{ resource: string; active: boolean }>(`SELECT resource, cleared_at IS NULL AS active FROM system_alerts WHERE service = 'ingestion' ORDER BY resource`)).map((row) => `${row.resource}:${row.active ? 'active' : 'cleared'}`)).toEqual(['cpu:cleared', 'disk:active']);
    expect((await sql<{ content_sha256: string }>('SELECT content_sha256 FROM embedding_cache ORDER BY 1')).map((row) => row.content_sha256).sort()).toEqual([hash(used), hash('fresh orphan')].sort());
  });
});
