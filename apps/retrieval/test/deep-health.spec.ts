import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import { LocalHashingEmbedder } from '@quarry/llm';
import { ServiceMetrics } from '@quarry/observability';
import { InMemoryHybridIndex } from '@quarry/search';
import { BULLMQ_SERVER, type DeepHealthReport, type RunningService, runService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import type { BullMqServer } from '@quarry/transport';
import type { Worker } from 'bullmq';
import { RetrievalModule } from '../src/app.module';
import { type RetrievalConfig, loadRetrievalConfig } from '../src/config';
import { INDEX_STALE_AFTER_SECONDS, indexCheck, qdrantCheck } from '../src/services/index-health';
import type { IndexSynchronizer } from '../src/services/index-synchronizer.service';

describe('GET /health/deep on a retrieval replica', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<RetrievalConfig>;

  const deep = async (): Promise<{ status: number; body: DeepHealthReport }> => {
    const response = await fetch(`${service.url}/health/deep`);
    return { status: response.status, body: (await response.json()) as DeepHealthReport };
  };

  beforeAll(async () => {
    schema = await createTestSchema('rtdeep');
    redis = createTestRedisPrefix('rtdeep');
    const config = loadRetrievalConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      HOST: '127.0.0.1',
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      DATABASE_POOL_MAX: '4',
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      SHUTDOWN_TIMEOUT_MS: '2000',
    });
    service = await runService({ name: 'retrieval', config, http: { port: 0, host: '127.0.0.1' }, queues: [QueueName.Retrieval], module: RetrievalModule, silentLogs: true });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('is 200 with its worker running, its index loaded and current, and the local defaults skipped', async () => {
    const { status, body } = await deep();
    expect({ status, body }).toMatchObject({ status: 200, body: { healthy: true } });
    expect(Object.keys(body.checks)).toEqual(['postgres', 'redis', 'redis-maxmemory-policy', 'worker.retrieval', 'embeddings', 'index', 'qdrant']);
    expect(body.checks['worker.retrieval']).toEqual({ ok: true, detail: { workers: 1 } });
    expect(body.checks.embeddings).toEqual({ ok: true, detail: 'not configured' });
    expect(body.checks.qdrant).toEqual({ ok: true, detail: 'not selected (VECTOR_BACKEND=embedded)' });
    expect(body.checks.index).toEqual({
      ok: true,
      detail: { model: expect.any(String) as unknown, chunks: 0, tenants: 0, lastCatchUpSecondsAgo: expect.any(Number) as unknown, driftChunksAtLastReconciliation: 0 },
    });
  });

  it('is 503 while its own worker is paused, and 200 once it runs again', async () => {
    const [worker] = service.app.get<BullMqServer>(BULLMQ_SERVER).unwrap<Worker[]>();
    expect(worker.name).toBe(QueueName.Retrieval);
    await worker.pause(true);
    try {
      const { status, body } = await deep();
      expect(status).toBe(503);
      expect(body.checks['worker.retrieval']).toEqual({ ok: false, error: "this process's worker for queue retrieval is paused" });
    } finally {
      worker.resume();
    }
    expect((await deep()).status).toBe(200);
  });
});

describe('the index check', () => {
  const embedder = new LocalHashingEmbedder({ dimensions: 16 });
  const synchronizerServing = (served: unknown) => ({ served }) as unknown as IndexSynchronizer;

  it('fails before the index is loaded', async () => {
    const check = indexCheck(synchronizerServing(undefined), new ServiceMetrics('retrieval'));
    await expect(Promise.resolve(check())).resolves.toEqual({ ok: false, error: 'index not loaded yet' });
  });

  it('fails when the change feed has not been read for too long (Postgres away, feed stuck), and reports the drift found last', async () => {
    const metrics = new ServiceMetrics('retrieval');
    const check = indexCheck(synchronizerServing({ index: new InMemoryHybridIndex(), embedder }), metrics);
    metrics.indexDriftChunks.set(4);
    metrics.indexLastCatchUp.set(Date.now() / 1000 - 5);
    await expect(Promise.resolve(check())).resolves.toMatchObject({ ok: true, detail: { lastCatchUpSecondsAgo: 5, driftChunksAtLastReconciliation: 4, chunks: 0, model: embedder.model } });
    metrics.indexLastCatchUp.set(Date.now() / 1000 - INDEX_STALE_AFTER_SECONDS - 10);
    await expect(Promise.resolve(check())).resolves.toMatchObject({
      ok: false,
      error: `index not current: the change feed was last read ${INDEX_STALE_AFTER_SECONDS + 10} s ago (more than ${INDEX_STALE_AFTER_SECONDS} s)`,
    });
  });

  it('fails a Qdrant backend that is selected but not serving', async () => {
    const check = qdrantCheck(synchronizerServing({ index: new InMemoryHybridIndex(), embedder }), { VECTOR_BACKEND: 'qdrant' });
    await expect(Promise.resolve(check())).resolves.toEqual({ ok: false, error: 'the Qdrant index is not loaded yet' });
  });
});
