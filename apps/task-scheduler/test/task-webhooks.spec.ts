import { randomBytes } from 'node:crypto';
import { JobName, type SubmitTaskRequest, type TaskView } from '@quarry/contracts';
import { TaskRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { Webhook } from 'standardwebhooks';
import type { SchedulerConfig } from '../src/config';
import { startScheduler } from './start-scheduler';
import { startReceiver } from './webhook-receiver';

const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/**
 * Task webhooks on real Postgres and Redis: the end of a task is pushed, signed as Standard
 * Webhooks signs (verified here with the standardwebhooks library a receiver would use),
 * retried while the receiver fails, and refused for internal addresses unless allowed.
 */
describe('task webhooks', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let scheduler: RunningService<SchedulerConfig>;
  let tasks: TaskRepository;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  const boot = (addresses: 'any' | 'public') =>
    startScheduler({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, WORKER_CONCURRENCY: '4', TASK_WEBHOOK_ADDRESSES: addresses });
  const submit = (request: Omit<SubmitTaskRequest, 'tenantId'>) => scheduler.kit.jobs.request(JobName.SubmitTask, { tenantId: 'acme', ...request });
  const delivery = async (taskId: string, statuses: string[]): Promise<NonNullable<TaskView['webhook']>['delivery']> => {
    let task: TaskView | undefined;
    await waitFor(async () => {
      task = await tasks.find('acme', taskId);
      return statuses.includes(task?.webhook?.delivery?.status ?? '');
    }, { timeoutMs: 20_000, description: `webhook of ${taskId} to be ${statuses.join(' or ')}` });
    return task?.webhook?.delivery ?? null;
  };

  beforeAll(async () => {
    schema = await createTestSchema('webhooks');
    redis = createTestRedisPrefix('webhooks');
    receiver = await startReceiver();
    scheduler = await boot('any');
    tasks = new TaskRepository(scheduler.kit.dataSource);
  }, 60_000);

  afterAll(async () => {
    await scheduler?.close();
    await receiver?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('pushes a completed task, signed, and tries again while the receiver fails; the secret is never shown', async () => {
    const secret = newSecret();
    receiver.answers.push(503);
    const submitted = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, webhook: { url: receiver.url, secret } });
    expect(submitted.task.webhook).toEqual({ url: receiver.url, delivery: null });

    const delivered = await delivery(submitted.task.id, ['delivered']);
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2, responseStatus: 200, error: null });
    expect(receiver.pushes).toHaveLength(2);
    const [failedTry, push] = receiver.pushes;
    // Each try carries the same message id, so the receiver can drop a push it has seen.
    expect(failedTry.headers['webhook-id']).toBe(push.headers['webhook-id']);
    const event = new Webhook(secret).verify(push.body, push.headers as Record<string, string>) as { type: string; data: TaskView };
    expect(event).toMatchObject({ type: 'task.completed', data: { id: submitted.task.id, status: 'completed', result: { waitedSeconds: 0 } } });
    expect(() => new Webhook(newSecret()).verify(push.body, push.headers as Record<string, string>)).toThrow();

    const shown = await tasks.find('acme', submitted.task.id);
    expect(JSON.stringify(shown)).not.toContain(secret.slice(6));
    expect(push.body).not.toContain(secret.slice(6));
  }, 30_000);

  it('pushes a cancelled task and a task failed by its dependency', async () => {
    const secret = newSecret();
    const later = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, runAt: new Date(Date.now() + 60_000).toISOString(), webhook: { url: receiver.url, secret } });
    const dependent = await submit({ type: 'diagnostics.wait', dependsOn: [{ taskId: later.task.id }], webhook: { url: receiver.url, secret } });
    const before = receiver.pushes.length;
    await scheduler.kit.jobs.request(JobName.CancelTask, { tenantId: 'acme', taskId: later.task.id });
    await delivery(later.task.id, ['delivered']);
    await delivery(dependent.task.id, ['delivered']);
    const events = receiver.pushes.slice(before).map((push) => new Webhook(secret).verify(push.body, push.headers as Record<string, string>) as { type: string; data: TaskView });
    expect(events.map((event) => [event.type, event.data.id]).sort()).toEqual(
      [
        ['task.cancelled', later.task.id],
        ['task.failed', dependent.task.id],
      ].sort(),
    );
  }, 30_000);

  it('refuses a webhook URL with credentials or a secret that is not a Standard Webhooks secret', async () => {
    await expect(submit({ type: 'diagnostics.wait', webhook: { url: 'https://user:pw@hooks.example.com/x', secret: newSecret() } })).rejects.toThrow(/credentials/);
    await expect(submit({ type: 'diagnostics.wait', webhook: { url: 'ftp://hooks.example.com/x', secret: newSecret() } })).rejects.toThrow(/http\(s\) URL/);
    await expect(submit({ type: 'diagnostics.wait', webhook: { url: receiver.url, secret: 'hunter2' } })).rejects.toThrow(/whsec_/);
  });

  it('with only public addresses allowed (the default), a loopback receiver is refused at once and never reached', async () => {
    await scheduler.close();
    scheduler = await boot('public');
    tasks = new TaskRepository(scheduler.kit.dataSource);
    const before = receiver.pushes.length;
    const submitted = await submit({ type: 'diagnostics.wait', params: { seconds: 0 }, webhook: { url: receiver.url, secret: newSecret() } });
    const refused = await delivery(submitted.task.id, ['refused', 'delivered', 'failed']);
    expect(refused).toMatchObject({ status: 'refused', attempts: 1, responseStatus: null, error: 'refused: 127.0.0.1 is not a public address (TASK_WEBHOOK_ADDRESSES=public)' });
    expect(receiver.pushes.length).toBe(before);
  }, 60_000);
});
