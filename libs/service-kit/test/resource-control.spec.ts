import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { loadConfig, serviceEnv, serviceHttpEnv } from '@quarry/config';
import { QueueName, jobNamesOnQueue } from '@quarry/contracts';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import type { BullMqServer } from '@quarry/transport';
import type { Worker } from 'bullmq';
import { BULLMQ_SERVER, type RunningService, runService } from '../src';

@Controller()
class TaskHandlers {
  @EventPattern(jobNamesOnQueue(QueueName.Tasks))
  run(): void {}
}

@Module({ controllers: [TaskHandlers] })
class WorkerModule {}

/** Holds the event loop for most of each interval: induced CPU load on the worker's own process. */
function induceLoad(busyMs: number, everyMs: number): () => void {
  const timer = setInterval(() => {
    const until = performance.now() + busyMs;
    while (performance.now() < until) {
      // spin
    }
  }, everyMs);
  return () => clearInterval(timer);
}

/**
 * The resource watch of a real worker (own schema and Redis prefix): under induced CPU load its
 * event loop falls behind, the alert is raised and the queue workers' concurrency is lowered; once
 * the load passes, the alert clears and the concurrency climbs back to WORKER_CONCURRENCY.
 */
describe('resource monitor and adaptive concurrency', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<ReturnType<typeof loadWorkerConfig>>;

  const loadWorkerConfig = () =>
    loadConfig(serviceEnv.extend(serviceHttpEnv(0).shape), {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      LOG_LEVEL: 'error',
      WORKER_CONCURRENCY: '8',
      WORKER_CONCURRENCY_MIN: '1',
      RESOURCE_SAMPLE_MS: '200',
      RESOURCE_LAG_WARNING_MS: '60',
      RESOURCE_LAG_CRITICAL_MS: '120',
      // Only the event loop judges here: the machine's CPU, memory and disk are shared with other test runs.
      RESOURCE_CPU_WARNING: '1',
      RESOURCE_CPU_CRITICAL: '1',
      RESOURCE_MEMORY_WARNING: '1',
      RESOURCE_MEMORY_CRITICAL: '1',
      RESOURCE_DISK_WARNING: '1',
      RESOURCE_DISK_CRITICAL: '1',
    });

  beforeAll(async () => {
    schema = await createTestSchema('resources');
    redis = createTestRedisPrefix('resources');
    service = await runService({ name: 'worker', config: loadWorkerConfig(), http: { port: 0, host: '127.0.0.1' }, queues: [QueueName.Tasks], module: WorkerModule, silentLogs: true });
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const workerConcurrency = () => service.app.get<BullMqServer>(BULLMQ_SERVER).unwrap<Worker[]>()[0].concurrency;
  const alerts = async () => (await service.kit.metrics.registry.getSingleMetric('quarry_resource_alerts_total')?.get())?.values.filter((value) => value.labels.resource === 'eventLoopLag').reduce((sum, value) => sum + value.value, 0) ?? 0;

  it('lowers the concurrency under an induced CPU load and restores it once the load passes', async () => {
    expect(service.resources?.concurrency.concurrency).toBe(8);
    expect(workerConcurrency()).toBe(8);
    expect(await alerts()).toBe(0);

    const stopLoad = induceLoad(180, 200);
    let underLoad: { concurrency: number; worker: number; pressure: string } | undefined;
    try {
      underLoad = await waitFor(
        () => {
          const concurrency = service.resources?.concurrency.concurrency ?? 8;
          return concurrency <= 2 ? { concurrency, worker: workerConcurrency(), pressure: service.resources?.monitor.pressure ?? 'ok' } : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 50, description: 'the concurrency to be lowered' },
      );
    } finally {
      stopLoad();
    }
    expect(underLoad.worker).toBe(underLoad.concurrency);
    expect(underLoad.pressure).not.toBe('ok');
    expect(await alerts()).toBeGreaterThan(0);

    await waitFor(() => service.resources?.concurrency.concurrency === 8, { timeoutMs: 15_000, intervalMs: 50, description: 'the concurrency to be restored' });
    expect(workerConcurrency()).toBe(8);
    expect(service.resources?.monitor.pressure).toBe('ok');
  }, 40_000);
});
