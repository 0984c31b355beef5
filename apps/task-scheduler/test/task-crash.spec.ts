import { JobName, type TaskView } from '@quarry/contracts';
import { type DataSource, TaskRepository, createDataSource } from '@quarry/persistence';
import { ServiceStack, type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { BullMqClient, JobClient } from '@quarry/transport';

/**
 * A task-scheduler process SIGKILLed in the middle of a task (no shutdown hook runs): once its
 * queue lock expires (WORKER_LOCK_MS), the other replica takes the run over and finishes the task.
 * Also: a SIGTERM hands the running task back, and the task runs again to its end.
 */
describe('a task survives the death of the worker running it (task-scheduler processes)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let stack: ServiceStack;
  let jobs: JobClient;
  let dataSource: DataSource;
  let tasks: TaskRepository;
  let first: string;

  beforeAll(async () => {
    schema = await createTestSchema('taskcrash');
    redis = createTestRedisPrefix('taskcrash');
    stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix, env: { WORKER_LOCK_MS: '2000', LOG_LEVEL: 'warn' } });
    first = await stack.startReplica('task-scheduler');
    jobs = new JobClient(new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 10_000 }));
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 2, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    tasks = new TaskRepository(dataSource);
  }, 90_000);

  afterAll(async () => {
    await jobs?.close();
    await stack?.stop();
    await dataSource?.destroy();
    await redis?.cleanup();
    await schema?.drop();
  });

  const reach = async (taskId: string, done: (task: TaskView) => boolean, timeoutMs: number, description: string): Promise<TaskView> => {
    let task: TaskView | undefined;
    await waitFor(
      async () => {
        task = await tasks.find('acme', taskId);
        return task !== undefined && done(task);
      },
      { timeoutMs, description },
    );
    return task as TaskView;
  };

  it('is taken over by the surviving replica after a SIGKILL, and handed back on a SIGTERM', async () => {
    const { task } = await jobs.request(JobName.SubmitTask, { tenantId: 'acme', type: 'diagnostics.wait', params: { seconds: 10 } });
    await reach(task.id, (current) => current.status === 'running' && current.progress > 0, 10_000, 'the first run to report progress');
    // The run is on the only process there is; a second one starts, then the first dies.
    const survivor = await stack.startReplica('task-scheduler');
    await stack.killProcess(first);
    const done = await reach(task.id, (current) => current.status === 'completed', 30_000, 'the task to complete on the survivor');
    expect(done.attempts).toBe(2);
    expect(done.result).toMatchObject({ attempt: 2 });

    const { task: second } = await jobs.request(JobName.SubmitTask, { tenantId: 'acme', type: 'diagnostics.wait', params: { seconds: 10 } });
    await reach(second.id, (current) => current.status === 'running' && current.progress > 0, 10_000, 'the second task to run');
    await stack.restartProcess(first);
    await stack.stopService(survivor, 'SIGTERM');
    const finished = await reach(second.id, (current) => current.status === 'completed', 30_000, 'the handed-back task to complete');
    // The run the SIGTERM interrupted counts, and the one that finished it.
    expect(finished.attempts).toBe(2);
    expect(stack.crashes).toEqual([]);
  }, 180_000);
});
