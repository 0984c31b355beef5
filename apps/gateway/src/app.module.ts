import { Module } from '@nestjs/common';
import { QueueName } from '@quarry/contracts';
import { queueDeepHealth } from '@quarry/service-kit';
import { AnalyticsModule } from './analytics/analytics.module';
import { AuthModule } from './auth/auth.module';
import { CacheModule } from './cache/cache.module';
import { ConversationsModule } from './conversations/conversations.module';
import { DocumentsController } from './documents/documents.controller';
import { DocumentsService } from './documents/documents.service';
import { JobProgressHub } from './jobs/job-progress-hub';
import { JobsController } from './jobs/jobs.controller';
import { JobsService } from './jobs/jobs.service';
import { StreamQuota } from './jobs/stream-quota';
import { QueriesModule } from './queries/queries.module';
import { OpenAiModule } from './openai/openai.module';
import { QueryModule } from './query/query.module';
import { SystemModule } from './system/system.module';
import { TasksModule } from './tasks/tasks.module';

@Module({
  imports: [AuthModule, CacheModule, ConversationsModule, QueriesModule, QueryModule, OpenAiModule, TasksModule, SystemModule, AnalyticsModule],
  controllers: [DocumentsController, JobsController],
  // Deep health: uploads go to ingestion, questions and exchange logs to the agent, tasks and cache warming to the task-scheduler.
  providers: [DocumentsService, JobsService, JobProgressHub, StreamQuota, queueDeepHealth({ sendsTo: [QueueName.Ingestion, QueueName.Agent, QueueName.Scheduler] })],
})
export class GatewayModule {}
