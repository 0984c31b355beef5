import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import { type RunningService, runService } from '@quarry/service-kit';
import { TaskSchedulerModule } from '../src/app.module';
import { type SchedulerConfig, loadSchedulerConfig } from '../src/config';

/** The task-scheduler in-process, as apps/task-scheduler/src/main.ts runs it (the OS picks the port); `env` adds to the test defaults. */
export function startScheduler(env: Record<string, string>): Promise<RunningService<SchedulerConfig>> {
  const config = loadSchedulerConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    DATABASE_POOL_MAX: '4',
    HOST: '127.0.0.1',
    SHUTDOWN_TIMEOUT_MS: '3000',
    ...env,
  });
  return runService({ name: 'task-scheduler', config, http: { port: 0, host: config.HOST }, queues: [QueueName.Scheduler, QueueName.Tasks], module: TaskSchedulerModule, silentLogs: true });
}
