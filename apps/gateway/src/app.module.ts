import { Module } from '@nestjs/common';
import { DocumentsController } from './documents/documents.controller';
import { DocumentsService } from './documents/documents.service';
import { JobsController } from './jobs/jobs.controller';
import { JobsService } from './jobs/jobs.service';
import { QueryController } from './query/query.controller';

@Module({
  controllers: [DocumentsController, JobsController, QueryController],
  providers: [DocumentsService, JobsService],
})
export class GatewayModule {}
