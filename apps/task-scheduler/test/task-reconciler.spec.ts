import { randomBytes } from 'node:crypto';
import { JobName, QueueName, type SubmitTaskRequest, type TaskView } from '@quarry/contracts';
import { TaskRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Queue } from 'bullmq';
import type { SchedulerConfig } from '../src/config';
import { runJobId, webhookJobId } from '../src/tasks/task-queue';
import { startScheduler } from './start-scheduler';
import { startReceiver } from './webhook-receiver';

/**
 * Postgres is the record, BullMQ the executor: when the executor loses a task's job, the task
 * reconciler (every RECONCILE_EVERY_MS) puts it back, and the task runs as if nothing happened.
 */
describe('task reconciler', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let scheduler: RunningService<SchedulerConfig>;
  let tasks: TaskRepository;
  let queue: Queue;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    schema = await createTestSchema('taskrec');
    redis = createTestRedisPrefix('taskrec');
    receiver = await startReceiver();
    scheduler = await startScheduler({
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      RECONCILE_EVERY_MS: '500',
      RECONCILE_STUCK_SECONDS: '1',
      TASK_WEBHOOK_ADDRESSES: 'any',
    });
    tasks = new TaskRepository(scheduler.kit.dataSource);
    queue = new Queue(QueueName.Tasks, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
  }, 60_000);

  afterAll(async () => {
    await queue?.close();
    await scheduler?.close();
    await receiver?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const submit = (request: Omit<SubmitTaskRequest, 'tenantId'>) => scheduler.kit.jobs.request(JobName.SubmitTask, { tenantId: 'acme', ...request });
  const settled = async (taskId: string, status: TaskView['status']): Promise<TaskView> => {
    let task: TaskView | undefined;
    await waitFor(async () => (task = await tasks.find('acme', taskId))?.status === status, { timeoutMs: 15_000, description: `task ${taskId} ${status}` });
    return task as TaskView;
  };

  it('runs a scheduled task whose run job Redis lost', async () => {
    const submitted = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, runAt: new Date(Date.now() + 1500).toISOString() });
    await queue.remove(runJobId(submitted.task.id, 1));
    expect(await queue.getJob(runJobId(submitted.task.id, 1))).toBeUndefined();
    expect(await settled(submitted.task.id, 'completed')).toMatchObject({ attempts: 1, result: { waitedSeconds: 0 } });
  });

  it('runs a task whose run job failed before the run started (left under its id, it would block the add)', async () => {
    const submitted = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, runAt: new Date(Date.now() + 60_000).toISOString() });
    const jobId = runJobId(submitted.task.id, 1);
    await queue.remove(jobId);
    // A job under the run's id that fails (here: a payload the contract refuses) stands for a run job that failed on an outage.
    const broken = await queue.add(JobName.RunTask, { tenantId: 'acme', taskId: 'not-a-uuid' }, { jobId });
    await waitFor(async () => (await broken.getState()) === 'failed', { timeoutMs: 5000, description: 'the broken run job failed' });
    await scheduler.kit.dataSource.query(`UPDATE tasks SET next_run_at = now() - interval '5 seconds' WHERE id = $1`, [submitted.task.id]);
    expect(await settled(submitted.task.id, 'completed')).toMatchObject({ attempts: 1 });
  });

  it('pushes a webhook whose push job was never queued (a crash between the end and the queueing)', async () => {
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    const submitted = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, webhook: { url: receiver.url, secret } });
    await waitFor(async () => (await tasks.find('acme', submitted.task.id))?.webhook?.delivery?.status === 'delivered', { timeoutMs: 10_000, description: 'first push' });
    // As if the process had died right after the task's end: the push is pending and has no job.
    await queue.remove(webhookJobId(submitted.task.id));
    await scheduler.kit.dataSource.query(
      `UPDATE tasks SET webhook_delivery = '{"status":"pending","attempts":0,"responseStatus":null,"error":null,"deliveredAt":null}', finished_at = now() - interval '5 seconds' WHERE id = $1`,
      [submitted.task.id],
    );
    await waitFor(async () => (await tasks.find('acme', submitted.task.id))?.webhook?.delivery?.status === 'delivered', { timeoutMs: 10_000, description: 'the push put back' });
    expect(receiver.pushes.filter((push) => push.headers['webhook-id'] === `task_${submitted.task.id}_completed`)).toHaveLength(2);
  });
});
