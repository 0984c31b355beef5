import { randomUUID } from 'node:crypto';
import { JobName, QueueName, type SubmitTaskRequest, type TaskView } from '@quarry/contracts';
import { TaskRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Queue } from 'bullmq';
import type { SchedulerConfig } from '../src/config';
import { startScheduler } from './start-scheduler';

/**
 * The task manager on real Postgres and Redis: two task-scheduler replicas in this process share
 * one queue, so a cancel sent to one must stop a run on whichever holds it.
 */
describe('task manager (two in-process task-scheduler replicas)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let replicas: Array<RunningService<SchedulerConfig>>;
  let tasks: TaskRepository;
  let queue: Queue;

  const start = () => startScheduler({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, WORKER_CONCURRENCY: '4' });

  beforeAll(async () => {
    schema = await createTestSchema('tasks');
    redis = createTestRedisPrefix('tasks');
    replicas = [await start(), await start()];
    tasks = new TaskRepository(replicas[0].kit.dataSource);
    queue = new Queue(QueueName.Tasks, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
  }, 60_000);

  afterAll(async () => {
    await queue?.close();
    for (const replica of replicas ?? []) await replica.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const submit = (request: Omit<SubmitTaskRequest, 'tenantId'> & { tenantId?: string }, via = 0) =>
    replicas[via].kit.jobs.request(JobName.SubmitTask, { tenantId: 'acme', ...request });
  const settled = async (taskId: string, statuses: ReadonlyArray<TaskView['status']>, tenantId = 'acme', timeoutMs = 15_000): Promise<TaskView> => {
    let task: TaskView | undefined;
    await waitFor(async () => {
      task = await tasks.find(tenantId, taskId);
      return task !== undefined && statuses.includes(task.status);
    }, { timeoutMs, description: `task ${taskId} to be ${statuses.join(' or ')}` });
    return task as TaskView;
  };

  it('runs a task to completion with its progress and result; a resubmission under the same idempotency key is the same task', async () => {
    const key = `nightly-${randomUUID()}`;
    const first = await submit({ type: 'diagnostics.wait', params: { seconds: 1.2 }, idempotencyKey: key, metadata: { requestedBy: 'ops' } });
    const again = await submit({ type: 'diagnostics.wait', params: { seconds: 1.2 }, idempotencyKey: key }, 1);
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, task: { id: first.task.id } });
    const done = await settled(first.task.id, ['completed']);
    expect(done).toMatchObject({ status: 'completed', progress: 100, attempts: 1, error: null, metadata: { requestedBy: 'ops' }, result: { attempt: 1 } });
    expect((done.result as { waitedSeconds: number }).waitedSeconds).toBeGreaterThanOrEqual(1.2);
    expect(done.usage?.durationMs).toBeGreaterThanOrEqual(1200);
    expect(done.startedAt).not.toBeNull();
    expect(done.finishedAt).not.toBeNull();
    // Another tenant neither sees the task nor shares the key.
    expect(await tasks.find('globex', first.task.id)).toBeUndefined();
    expect((await submit({ tenantId: 'globex', type: 'diagnostics.wait', params: { seconds: 0 }, idempotencyKey: key })).created).toBe(true);
  });

  it('refuses an unknown type, params its type does not take, runAt with cron, a bad cron pattern and a dependency of another tenant', async () => {
    await expect(submit({ type: 'rm.rf' as never })).rejects.toThrow(/unknown task type/);
    await expect(submit({ type: 'diagnostics.wait', params: { seconds: 'soon' } })).rejects.toThrow(/params\.seconds/);
    await expect(submit({ type: 'diagnostics.wait', params: { sleep: 1 } })).rejects.toThrow(/params/);
    await expect(submit({ type: 'diagnostics.wait', cron: '* * * * *', runAt: new Date().toISOString() })).rejects.toThrow(/runAt or cron/);
    await expect(submit({ type: 'diagnostics.wait', cron: 'every morning' })).rejects.toThrow(/cron/);
    const foreign = await submit({ tenantId: 'globex', type: 'diagnostics.wait', params: { seconds: 0 } });
    await expect(submit({ type: 'diagnostics.wait', dependsOn: [{ taskId: foreign.task.id }] })).rejects.toThrow(new RegExp(`no task ${foreign.task.id} of this tenant`));
  });

  it('retries a failing run with exponential backoff, then succeeds; fails for good when retries run out', async () => {
    const flaky = await submit({ type: 'diagnostics.wait', params: { seconds: 0, failAttempts: 2 }, maxRetries: 2 });
    const done = await settled(flaky.task.id, ['completed'], 'acme', 20_000);
    expect(done.attempts).toBe(3);
    // Backoff 2 s then 4 s: the run that succeeded started at least 6 s after the task was created.
    expect(new Date(done.startedAt as string).getTime() - new Date(done.createdAt).getTime()).toBeGreaterThanOrEqual(5900);

    const hopeless = await submit({ type: 'diagnostics.wait', params: { seconds: 0, failAttempts: 5 }, maxRetries: 0 });
    const failed = await settled(hopeless.task.id, ['failed']);
    expect(failed).toMatchObject({ attempts: 1, error: 'failing attempt 1 of the first 5, as asked' });
  }, 30_000);

  it('stops a run at its timeout and fails the task with "timed out after N s"', async () => {
    const slow = await submit({ type: 'diagnostics.wait', params: { seconds: 30 }, timeoutSeconds: 1, maxRetries: 3 });
    const failed = await settled(slow.task.id, ['failed']);
    expect(failed).toMatchObject({ status: 'failed', error: 'timed out after 1 s', attempts: 1 });
    expect(failed.usage?.durationMs).toBeLessThan(5000);
  });

  it('cancels a running task through the other replica: the run stops and nothing it does afterwards is kept', async () => {
    const long = await submit({ type: 'diagnostics.wait', params: { seconds: 60 } });
    const running = await settled(long.task.id, ['running']);
    expect(running.status).toBe('running');
    await waitFor(async () => ((await tasks.find('acme', long.task.id))?.progress ?? 0) > 0, { timeoutMs: 5000, description: 'progress of the long run' });
    const cancelled = await replicas[1].kit.jobs.request(JobName.CancelTask, { tenantId: 'acme', taskId: long.task.id });
    expect(cancelled.status).toBe('cancelled');
    await waitFor(async () => (await Promise.all(replicas.map((replica) => metricValue(replica, 'quarry_tasks_running')))).every((running) => running === 0), { timeoutMs: 5000, description: 'no run left on either replica' });
    const after = await tasks.find('acme', long.task.id);
    expect(after).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
    // Another tenant cannot cancel it, and an unknown id is not found.
    await expect(replicas[0].kit.jobs.request(JobName.CancelTask, { tenantId: 'globex', taskId: long.task.id })).rejects.toThrow(/not found/);
  });

  it('waits for dependencies: runs after they complete, fails naming the dependency that failed or was cancelled', async () => {
    const first = await submit({ type: 'diagnostics.wait', params: { seconds: 0.5 } });
    const second = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, dependsOn: [{ taskId: first.task.id }] });
    expect(second.task.status).toBe('waiting');
    const after = await settled(second.task.id, ['completed']);
    const firstDone = await tasks.find('acme', first.task.id);
    expect(new Date(after.startedAt as string).getTime()).toBeGreaterThanOrEqual(new Date(firstDone?.finishedAt as string).getTime());

    const failing = await submit({ type: 'diagnostics.wait', params: { failAttempts: 1 }, maxRetries: 0 });
    const onFailure = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, dependsOn: [{ taskId: failing.task.id, requiredStatus: 'failed' }] });
    const onSuccess = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, dependsOn: [{ taskId: failing.task.id }] });
    const chained = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, dependsOn: [{ taskId: onSuccess.task.id }] });
    expect((await settled(onFailure.task.id, ['completed', 'failed'])).status).toBe('completed');
    expect(await settled(onSuccess.task.id, ['failed'])).toMatchObject({ error: `dependency ${failing.task.id} ended failed, but this task required it to be completed`, attempts: 0 });
    expect(await settled(chained.task.id, ['failed'])).toMatchObject({ error: `dependency ${onSuccess.task.id} ended failed, but this task required it to be completed` });

    const held = await submit({ type: 'diagnostics.wait', params: { seconds: 60 } });
    const behind = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, dependsOn: [{ taskId: held.task.id }] });
    await replicas[0].kit.jobs.request(JobName.CancelTask, { tenantId: 'acme', taskId: held.task.id });
    expect(await settled(behind.task.id, ['failed'])).toMatchObject({ error: `dependency ${held.task.id} ended cancelled, but this task required it to be completed` });
    // A dependency that had already ended when the task was submitted decides it at once.
    const late = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, dependsOn: [{ taskId: held.task.id }] });
    expect(late.task.status).toBe('failed');
  }, 30_000);

  it('runs a task scheduled for later at its time, and a cron task at each occurrence until cancelled', async () => {
    const runAt = new Date(Date.now() + 2000);
    const later = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, runAt: runAt.toISOString() });
    expect(later.task).toMatchObject({ status: 'scheduled', nextRunAt: runAt.toISOString() });
    const ran = await settled(later.task.id, ['completed']);
    expect(new Date(ran.startedAt as string).getTime()).toBeGreaterThanOrEqual(runAt.getTime() - 50);

    const everySecond = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, cron: '* * * * * *' });
    expect(everySecond.task.status).toBe('scheduled');
    await waitFor(async () => ((await tasks.find('acme', everySecond.task.id))?.attempts ?? 0) >= 2, { timeoutMs: 6000, description: 'two cron occurrences' });
    const between = await settled(everySecond.task.id, ['scheduled']);
    expect(between.result).toMatchObject({ waitedSeconds: 0 });
    expect(between.nextRunAt).not.toBeNull();
    await replicas[0].kit.jobs.request(JobName.CancelTask, { tenantId: 'acme', taskId: everySecond.task.id });
    const attempts = (await tasks.find('acme', everySecond.task.id))?.attempts;
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect(await tasks.find('acme', everySecond.task.id)).toMatchObject({ status: 'cancelled', attempts });
  }, 20_000);

  it("refuses a foreign producer's malformed run job and leaves the tasks as they were", async () => {
    const task = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, runAt: new Date(Date.now() + 60_000).toISOString() });
    const malformed = await queue.add(JobName.RunTask, { tenantId: 'acme', taskId: 'not-a-uuid' });
    const foreignTenant = await queue.add(JobName.RunTask, { tenantId: 'globex', taskId: task.task.id });
    await waitFor(async () => (await malformed.getState()) === 'failed' && (await foreignTenant.getState()) === 'completed', { timeoutMs: 10_000, description: 'both foreign jobs handled' });
    expect((await queue.getJob(malformed.id as string))?.failedReason).toMatch(/INVALID_PAYLOAD/);
    expect(await tasks.find('acme', task.task.id)).toMatchObject({ status: 'scheduled', attempts: 0 });
  });
});

async function metricValue(replica: RunningService<SchedulerConfig>, name: string): Promise<number> {
  const metric = replica.kit.metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.reduce((sum, entry) => sum + entry.value, 0);
}
