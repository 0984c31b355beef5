import { JobName, QueueName, type TaskView } from '@quarry/contracts';
import { QueryLogRepository, TaskRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { type QueueRegistry } from '@quarry/transport';
import type { SchedulerConfig } from '../src/config';
import { TaskSystem } from '../src/tasks/task-system';
import { startScheduler } from './start-scheduler';

/**
 * When the answer caches are warmed: every night at CACHE_WARM_HOUR (UTC), and when a gateway
 * reports a cold answer cache — one low-priority cache.warm task per tenant that asked questions
 * in the last 7 days, at most one per tenant per night (per hour for a cold cache), whoever fires
 * the trigger and however often. The clock is the planner's argument, so any night can be played.
 */
describe('answer-cache warming triggers (in-process task-scheduler)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<SchedulerConfig>;
  let tasks: TaskRepository;

  beforeAll(async () => {
    schema = await createTestSchema('warming');
    redis = createTestRedisPrefix('warming');
    service = await startScheduler({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, CACHE_WARM_HOUR: '2', CACHE_WARM_TOP_N: '25' });
    tasks = new TaskRepository(service.kit.dataSource);
    const log = new QueryLogRepository(service.kit.dataSource);
    for (const tenantId of ['acme', 'globex', 'initech']) {
      await log.record({ tenantId, question: `what about ${tenantId}?`, hitCount: 1, citationCount: 1, generator: 'extractive', retrievalMs: 1, generationMs: 1, totalMs: 2, correlationId: null });
    }
    // initech last asked 40 days ago: nothing to warm for it.
    await service.kit.dataSource.query(`UPDATE query_log SET created_at = now() - interval '40 days' WHERE tenant_id = 'initech'`);
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const warmTasksOf = async (tenantId: string): Promise<TaskView[]> => tasks.list(tenantId, { type: 'cache.warm', limit: 50 });

  it('registers the nightly schedule at CACHE_WARM_HOUR UTC', async () => {
    const queue = service.kit.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Scheduler);
    const schedule = await queue.getJobScheduler('warm-answer-caches');
    expect(schedule).toMatchObject({ name: JobName.WarmAnswerCaches, pattern: '0 2 * * *', tz: 'UTC' });
    const next = new Date(Number(schedule?.next));
    expect(next.getUTCHours()).toBe(2);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
  });

  it('the nightly run makes one warming per active tenant and night, however often it fires', async () => {
    const planner = service.app.get(TaskSystem).warming;
    const night = new Date('2026-12-03T02:00:00Z');
    const first = await planner.warmActiveTenants('nightly', night);
    expect(first.map((reply) => reply.created)).toEqual([true, true]);
    // Another replica, or a re-delivered trigger, the same night.
    const again = await planner.warmActiveTenants('nightly', new Date('2026-12-03T02:00:07Z'));
    expect(again.map((reply) => [reply.created, reply.task.id])).toEqual(first.map((reply) => [false, reply.task.id]));
    const nextNight = await planner.warmActiveTenants('nightly', new Date('2026-12-04T02:00:00Z'));
    expect(nextNight.map((reply) => reply.created)).toEqual([true, true]);

    for (const tenantId of ['acme', 'globex']) {
      const warmings = await warmTasksOf(tenantId);
      expect(warmings.map((task) => task.idempotencyKey).sort()).toEqual(['cache.warm:nightly:2026-12-03', 'cache.warm:nightly:2026-12-04']);
      expect(warmings[0]).toMatchObject({ priority: 'low', params: { topN: 25, sinceDays: 7 }, metadata: { trigger: 'nightly' } });
    }
    expect(await warmTasksOf('initech')).toEqual([]);
  });

  it("a gateway's cold answer cache (the low-hit-rate trigger) warms the active tenants at most once an hour", async () => {
    await service.kit.jobs.publish(JobName.WarmAnswerCaches, { trigger: 'low-hit-rate', kind: 'answer', hitRate: 0.12 });
    await service.kit.jobs.publish(JobName.WarmAnswerCaches, { trigger: 'low-hit-rate', kind: 'answer', hitRate: 0.1 });
    const hour = new Date().toISOString().slice(0, 13);
    await waitFor(async () => (await warmTasksOf('globex')).some((task) => task.idempotencyKey === `cache.warm:low-hit-rate:${hour}`), {
      timeoutMs: 10_000,
      description: 'the low-hit-rate warming to be submitted',
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const tenantId of ['acme', 'globex']) {
      const cold = (await warmTasksOf(tenantId)).filter((task) => task.idempotencyKey?.startsWith('cache.warm:low-hit-rate:'));
      expect(cold.map((task) => task.metadata)).toEqual([{ trigger: 'low-hit-rate' }]);
    }
  });
});
