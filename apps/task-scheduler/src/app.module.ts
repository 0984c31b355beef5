import { Module } from '@nestjs/common';
import { JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { PurgeQueryLogJob } from './jobs/purge-query-log.job';
import { ReconcileDocumentsJob } from './jobs/reconcile-documents.job';
import { BULL_CLIENT, HousekeepingSchedule } from './services/housekeeping-schedule.service';

@Module({
  controllers: [PurgeQueryLogJob, ReconcileDocumentsJob],
  providers: [HousekeepingSchedule, { provide: BULL_CLIENT, inject: [JOB_CLIENT], useFactory: (jobs: JobClient) => jobs.proxy }],
})
export class TaskSchedulerModule {}
