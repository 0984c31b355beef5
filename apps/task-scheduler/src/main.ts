import './tracing';
import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import { runMain, runService } from '@quarry/service-kit';
import { TaskSchedulerModule } from './app.module';
import { loadSchedulerConfig } from './config';

runMain('task-scheduler', () => {
  const config = loadSchedulerConfig();
  return runService({
    name: 'task-scheduler',
    config,
    http: { port: config.HTTP_PORT, host: config.HOST },
    queues: [QueueName.Scheduler, QueueName.Tasks],
    module: TaskSchedulerModule,
  });
});
