import { Module } from '@nestjs/common';
import { QueriesController } from './queries.controller';
import { QueriesService } from './queries.service';

/** GET /api/queries/{id}/trace and /report: the audit trails the agent writes with each exchange. */
@Module({ controllers: [QueriesController], providers: [QueriesService] })
export class QueriesModule {}
