import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import type { DeepHealthReport, RunningService } from '@quarry/service-kit';
import { type FakeOpenAiServer, type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, startFakeOpenAiServer, waitFor } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Worker } from 'bullmq';
import type { AgentConfig } from '../src/config';
import { startAgent } from './start-agent';

describe('GET /health/deep on the agent, with a chat model configured', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let model: FakeOpenAiServer;
  let service: RunningService<AgentConfig>;
  let retrieval: Worker | undefined;

  const deep = async (): Promise<{ status: number; body: DeepHealthReport }> => {
    const response = await fetch(`${service.url}/health/deep`);
    return { status: response.status, body: (await response.json()) as DeepHealthReport };
  };

  beforeAll(async () => {
    schema = await createTestSchema('agdeep');
    redis = createTestRedisPrefix('agdeep');
    model = await startFakeOpenAiServer();
    ({ service } = await startAgent({
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      LLM_BASE_URL: model.baseUrl,
      LLM_MODEL: 'fake-model',
      LLM_API_KEY: 'sk-agent-test-key',
    }));
  });

  afterAll(async () => {
    await retrieval?.close();
    await service?.close();
    await model?.close().catch(() => undefined); // closed already by the last test
    await redis?.cleanup();
    await schema?.drop();
  });

  it('checks its own worker, the retrieval queue it searches through and the model endpoint', async () => {
    const before = await deep();
    expect(before.status).toBe(503);
    expect(Object.keys(before.body.checks)).toEqual(['postgres', 'redis', 'redis-maxmemory-policy', 'worker.agent', 'consumers.retrieval', 'llm']);
    expect(before.body.checks['worker.agent']).toEqual({ ok: true, detail: { workers: 1 } });
    expect(before.body.checks['consumers.retrieval']).toMatchObject({ ok: false });
    expect(before.body.checks.llm).toEqual({ ok: true, detail: { endpoint: model.baseUrl, models: 'not listed (GET /models answered 404)' } });
    expect(model.requests.filter((request) => request.path === '/v1/models').at(-1)?.headers.authorization).toBe('Bearer sk-agent-test-key');

    retrieval = new Worker(QueueName.Retrieval, () => Promise.resolve(), { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
    retrieval.on('error', () => undefined);
    await waitFor(async () => (await deep()).status === 200, { timeoutMs: 10_000, intervalMs: 100, description: '/health/deep to answer 200' });
  });

  it('fails when the model endpoint stops answering', async () => {
    await model.close();
    const { status, body } = await deep();
    expect(status).toBe(503);
    expect(body.checks.llm).toEqual({ ok: false, error: `${model.baseUrl} is unreachable (ECONNREFUSED)` });
    expect(JSON.stringify(body)).not.toContain('sk-agent-test-key');
  });
});
