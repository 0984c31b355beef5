import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import type { DeepHealthReport, RunningService } from '@quarry/service-kit';
import { PrivateRedis, type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Worker } from 'bullmq';
import Redis from 'ioredis';
import type { GatewayConfig } from '../src/config';
import { startGateway } from './start-gateway';

/** The queues the gateway sends to; stand-in consumers play the services that consume them. */
const DEPENDENCIES = [QueueName.Ingestion, QueueName.Agent, QueueName.Scheduler] as const;

describe('GET /health/deep on the gateway', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  const consumers = new Map<QueueName, Worker>();

  const deep = async (): Promise<{ status: number; body: DeepHealthReport }> => {
    const response = await fetch(`${service.url}/health/deep`);
    return { status: response.status, body: (await response.json()) as DeepHealthReport };
  };
  const consume = async (queue: QueueName) => {
    // Never takes a job: its presence on the queue is all that is checked.
    const worker = new Worker(queue, () => Promise.resolve(), { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix, autorun: false });
    worker.on('error', () => undefined);
    void worker.run();
    await worker.waitUntilReady();
    consumers.set(queue, worker);
  };

  beforeAll(async () => {
    schema = await createTestSchema('gwdeep');
    redis = createTestRedisPrefix('gwdeep');
    service = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });
  });

  afterAll(async () => {
    await Promise.all([...consumers.values()].map((worker) => worker.close()));
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('is 503 while nobody consumes the queues the gateway sends to, and names each', async () => {
    const { status, body } = await deep();
    expect(status).toBe(503);
    expect(body.healthy).toBe(false);
    expect(Object.keys(body.checks).sort()).toEqual(['consumers.agent', 'consumers.ingestion', 'consumers.task-scheduler', 'postgres', 'redis', 'redis-maxmemory-policy']);
    expect(body.checks.postgres).toEqual({ ok: true });
    expect(body.checks.redis).toEqual({ ok: true });
    expect(body.checks['redis-maxmemory-policy']).toEqual({ ok: true, detail: 'noeviction' });
    expect(body.checks['consumers.agent']).toEqual({ ok: false, error: 'no worker consumes queue agent: jobs sent there wait until its service runs', detail: { workers: 0 } });
  });

  it('is 200 once every queue it sends to has a consumer', async () => {
    for (const queue of DEPENDENCIES) await consume(queue);
    const { body } = await waitFor(async () => {
      const answer = await deep();
      return answer.status === 200 ? answer : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100, description: '/health/deep to answer 200' });
    expect(body.healthy).toBe(true);
    for (const queue of DEPENDENCIES) expect(body.checks[`consumers.${queue}`]).toEqual({ ok: true, detail: { workers: 1 } });
  });

  it('is 503 again when one dependency loses its last consumer (the agent stops)', async () => {
    await consumers.get(QueueName.Agent)?.close();
    consumers.delete(QueueName.Agent);
    const { body } = await waitFor(async () => {
      const answer = await deep();
      return answer.status === 503 ? answer : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100, description: '/health/deep to answer 503' });
    expect(body.checks['consumers.agent']).toMatchObject({ ok: false });
    expect(body.checks['consumers.ingestion']).toMatchObject({ ok: true });
  });

  it('reports Redis\'s eviction policy as the gauge quarry_redis_noeviction', async () => {
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^quarry_redis_noeviction\{service="gateway"\} 1$/m);
  });
});

describe('the gateway on a Redis that evicts keys (maxmemory-policy allkeys-lru)', () => {
  let schema: TestSchema;
  let redis: PrivateRedis;
  let service: RunningService<GatewayConfig>;
  let bullWarnings: jest.SpyInstance;

  beforeAll(async () => {
    // BullMQ says so too, on every connection (console.warn): kept out of the test output.
    bullWarnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    schema = await createTestSchema('gwlru');
    redis = await PrivateRedis.start();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    admin.disconnect();
    service = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: 'gwlru' });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.stop();
    await schema?.drop();
    bullWarnings.mockRestore();
  });

  it('sets quarry_redis_noeviction to 0 at boot, and fails the deep check with the policy named', async () => {
    // Scraped before any deep check ran: the value comes from the check at boot.
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/^quarry_redis_noeviction\{service="gateway"\} 0$/m);
    const response = await fetch(`${service.url}/health/deep`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as DeepHealthReport;
    expect(body.checks['redis-maxmemory-policy']).toEqual({ ok: false, error: 'maxmemory-policy is allkeys-lru; BullMQ needs noeviction', detail: 'allkeys-lru' });
    // Readiness does not depend on it: the service still takes traffic.
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    expect(bullWarnings).toHaveBeenCalledWith(expect.stringContaining('Eviction policy is allkeys-lru'));
  });
});
