import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { type DataSource, QueryLogRepository, QueryTraceRepository } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { SchedulerConfig } from '../config';

/** Deletes query log entries past the retention window, and the query traces with them (a trace repeats its logged question). */
@Controller()
export class PurgeQueryLogJob {
  private readonly queryLog: QueryLogRepository;
  private readonly traces: QueryTraceRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.queryLog = new QueryLogRepository(dataSource);
    this.traces = new QueryTraceRepository(dataSource);
  }

  @EventPattern(JobName.PurgeQueryLog)
  async handle(@Payload() payload: PayloadOf<typeof JobName.PurgeQueryLog>): Promise<void> {
    const days = payload.olderThanDays ?? this.config.QUERY_LOG_RETENTION_DAYS;
    const removed = await this.queryLog.purgeOlderThan(days);
    const tracesRemoved = await this.traces.purgeOlderThan(days);
    this.logger.info('query log purged', { olderThanDays: days, removed, tracesRemoved });
  }
}
