import { JobName, type TaskView } from '@quarry/contracts';
import { TaskRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import type { SchedulerConfig } from '../src/config';
import { startScheduler } from './start-scheduler';

/**
 * Tenants take turns within a priority: with one task running at a time, a tenant's single task
 * submitted behind another tenant's eight is among the next two to start, not the ninth.
 */
describe('tenant turns between tasks', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let scheduler: RunningService<SchedulerConfig>;
  let tasks: TaskRepository;

  beforeAll(async () => {
    schema = await createTestSchema('turns');
    redis = createTestRedisPrefix('turns');
    scheduler = await startScheduler({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, WORKER_CONCURRENCY: '1', WORKER_CONCURRENCY_MIN: '1' });
    tasks = new TaskRepository(scheduler.kit.dataSource);
  }, 60_000);

  afterAll(async () => {
    await scheduler?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const submit = (tenantId: string, priority: TaskView['priority'] = 'normal') =>
    scheduler.kit.jobs.request(JobName.SubmitTask, { tenantId, type: 'diagnostics.wait', params: { seconds: 0.2 }, priority });

  it("serves one tenant's task between another tenant's, and a higher priority before both", async () => {
    const batch: TaskView[] = [];
    for (let index = 0; index < 8; index += 1) batch.push((await submit('acme')).task);
    const single = (await submit('globex')).task;
    const urgent = (await submit('acme', 'high')).task;
    const all = [...batch, single, urgent];
    const ended: TaskView[] = [];
    await waitFor(async () => {
      ended.length = 0;
      for (const task of all) {
        const now = await tasks.find(task.id === single.id ? 'globex' : 'acme', task.id);
        if (now?.status === 'completed') ended.push(now);
      }
      return ended.length === all.length;
    }, { timeoutMs: 20_000, description: 'every task completed' });

    const startOrder = ended.sort((a, b) => (a.startedAt as string).localeCompare(b.startedAt as string)).map((task) => task.id);
    // The first of acme's batch may already run, and the next may already be taken, when globex's arrives.
    expect(startOrder.indexOf(single.id)).toBeLessThanOrEqual(3);
    expect(startOrder.indexOf(urgent.id)).toBeLessThanOrEqual(3);
    expect(startOrder.indexOf(urgent.id)).toBeLessThan(startOrder.indexOf(batch[3].id));
    // Within the tenant, its own tasks keep their order.
    expect(batch.map((task) => startOrder.indexOf(task.id))).toEqual([...batch.map((task) => startOrder.indexOf(task.id))].sort((a, b) => a - b));
  }, 40_000);
});
