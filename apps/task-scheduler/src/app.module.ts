import { Module } from '@nestjs/common';
import { PurgeQueryLogJob } from './jobs/purge-query-log.job';
import { ReconcileDocumentsJob } from './jobs/reconcile-documents.job';
import { JobSchedules } from './services/job-schedules.service';

@Module({
  controllers: [PurgeQueryLogJob, ReconcileDocumentsJob],
  providers: [JobSchedules],
})
export class TaskSchedulerModule {}
