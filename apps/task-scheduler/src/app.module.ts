import { Module } from '@nestjs/common';
import { QueueName } from '@quarry/contracts';
import { ServiceCacheModule, queueDeepHealth } from '@quarry/service-kit';
import { CancelTaskJob } from './jobs/cancel-task.job';
import { DeliverTaskWebhookJob } from './jobs/deliver-task-webhook.job';
import { PurgeQueryLogJob } from './jobs/purge-query-log.job';
import { ReconcileDocumentsJob } from './jobs/reconcile-documents.job';
import { ReconcileTasksJob } from './jobs/reconcile-tasks.job';
import { RunTaskJob } from './jobs/run-task.job';
import { SubmitTaskJob } from './jobs/submit-task.job';
import { WarmAnswerCachesJob } from './jobs/warm-answer-caches.job';
import { JobSchedules } from './services/job-schedules.service';
import { TaskSystem } from './tasks/task-system';

@Module({
  imports: [ServiceCacheModule.forService('task-scheduler')],
  controllers: [PurgeQueryLogJob, ReconcileDocumentsJob, SubmitTaskJob, CancelTaskJob, RunTaskJob, WarmAnswerCachesJob, DeliverTaskWebhookJob, ReconcileTasksJob],
  // Deep health: re-driven and re-embedded documents go to ingestion, cache warming to the agent, evaluation searches to retrieval.
  providers: [JobSchedules, TaskSystem, queueDeepHealth({ sendsTo: [QueueName.Ingestion, QueueName.Agent, QueueName.Retrieval] })],
})
export class TaskSchedulerModule {}
