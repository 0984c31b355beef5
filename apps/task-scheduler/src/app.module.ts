import { Module } from '@nestjs/common';
import { ServiceCacheModule } from '@quarry/service-kit';
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
  providers: [JobSchedules, TaskSystem],
})
export class TaskSchedulerModule {}
