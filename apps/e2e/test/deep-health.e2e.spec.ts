import { SERVICE_NAMES, ServiceStack, type ServiceName, type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';

/** GET /health/deep's body (libs/service-kit DeepHealth; e2e tests see the services only from outside). */
interface DeepHealthReport {
  healthy: boolean;
  checks: Record<string, { ok: boolean; error?: string; detail?: unknown }>;
}

/** The five services as processes (from dist/, as deployed): each one's /health/deep, and what a stopped service does to its producers'. */
describe('/health/deep across the platform', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let stack: ServiceStack;

  const deep = async (service: ServiceName): Promise<{ status: number; body: DeepHealthReport }> => {
    const response = await fetch(`${stack.urlOf(service)}/health/deep`);
    return { status: response.status, body: (await response.json()) as DeepHealthReport };
  };

  beforeAll(async () => {
    schema = await createTestSchema('e2edeep');
    redis = createTestRedisPrefix('e2edeep');
    stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix });
    await stack.start();
  });

  afterAll(async () => {
    await stack?.stop();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('is 200 on every service while all five run, each checking what it depends on', async () => {
    const reports = Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (service) => [service, await deep(service)] as const)));
    for (const service of SERVICE_NAMES) expect({ service, status: reports[service].status, body: reports[service].body }).toMatchObject({ service, status: 200, body: { healthy: true } });
    const names = (service: ServiceName) => Object.keys(reports[service].body.checks).filter((name) => !['postgres', 'redis', 'redis-maxmemory-policy'].includes(name));
    expect(names('gateway')).toEqual(['consumers.ingestion', 'consumers.agent', 'consumers.task-scheduler']);
    expect(names('ingestion')).toEqual(['worker.ingestion', 'llm', 'embeddings']);
    expect(names('retrieval')).toEqual(['worker.retrieval', 'embeddings', 'index', 'qdrant']);
    expect(names('agent')).toEqual(['worker.agent', 'consumers.retrieval', 'llm']);
    expect(names('task-scheduler')).toEqual(['worker.task-scheduler', 'worker.tasks', 'consumers.ingestion', 'consumers.agent', 'consumers.retrieval']);
  });

  it('fails the deep health of the agent\'s producers (gateway, task-scheduler) while the agent is stopped, not their readiness', async () => {
    await stack.stopService('agent');
    for (const service of ['gateway', 'task-scheduler'] as const) {
      const { status, body } = await deep(service);
      expect({ service, status }).toEqual({ service, status: 503 });
      expect(body.checks['consumers.agent']).toEqual({ ok: false, error: 'no worker consumes queue agent: jobs sent there wait until its service runs', detail: { workers: 0 } });
      expect((await fetch(`${stack.urlOf(service)}/health/ready`)).status).toBe(200);
    }
    expect((await deep('retrieval')).status).toBe(200);
    await stack.startService('agent');
    await waitFor(async () => (await deep('gateway')).status === 200, { timeoutMs: 30_000, intervalMs: 200, description: "the gateway's deep health to pass again" });
  });
});
