import type { TieredCache } from '@quarry/cache';
import type { TaskParamsOf } from '@quarry/contracts';
import { ChunkRepository, type DataSource, EmbeddingCacheRepository, ProcessingJobRepository, QueryLogRepository, QueryTraceRepository, SystemAlertRepository } from '@quarry/persistence';
import type { TaskHandler, TaskRunContext } from '../task-handler';

export interface RetentionSettings {
  /** The default age for the tenant's records (QUERY_LOG_RETENTION_DAYS). */
  queryLogRetentionDays: number;
  /** Index changes older than this are deleted (INDEX_CHANGES_RETENTION_HOURS). */
  indexChangesRetentionHours: number;
  /** Embedding-cache rows no chunk uses are deleted once older than this (EMBEDDING_CACHE_RETENTION_DAYS). */
  embeddingCacheRetentionDays: number;
  /** Resource alerts cleared more than this long ago are deleted (SYSTEM_ALERTS_RETENTION_DAYS). */
  systemAlertsRetentionDays: number;
}

/** What a purge removed, per kind of row (the task's result). */
export interface RetentionPurgeResult {
  olderThanDays: number;
  queryLog: number;
  queryTraces: number;
  processingJobs: number;
  indexChanges: number;
  cacheEntries: number;
  embeddingCache: number;
  systemAlerts: number;
}

/**
 * `retention.purge`: the tenant's own query log, query traces and finished processing-job records
 * past `olderThanDays` — a tenant's task never touches another tenant's records — and the rows of
 * every tenant that serve no one any more: index changes every retrieval replica has applied,
 * expired L3 cache entries, embedding-cache rows no chunk's text uses, resource alerts cleared
 * long ago (active ones are kept, however old). Each step is its own
 * statement, so a cancel between steps keeps what was done.
 */
export class RetentionPurgeTask implements TaskHandler<'retention.purge'> {
  readonly type = 'retention.purge';
  private readonly queryLog: QueryLogRepository;
  private readonly traces: QueryTraceRepository;
  private readonly processingJobs: ProcessingJobRepository;
  private readonly chunks: ChunkRepository;
  private readonly embeddings: EmbeddingCacheRepository;
  private readonly alerts: SystemAlertRepository;

  constructor(
    dataSource: DataSource,
    private readonly cache: TieredCache,
    private readonly settings: RetentionSettings,
  ) {
    this.queryLog = new QueryLogRepository(dataSource);
    this.traces = new QueryTraceRepository(dataSource);
    this.processingJobs = new ProcessingJobRepository(dataSource);
    this.chunks = new ChunkRepository(dataSource);
    this.embeddings = new EmbeddingCacheRepository(dataSource);
    this.alerts = new SystemAlertRepository(dataSource);
  }

  async run(params: TaskParamsOf<'retention.purge'>, context: TaskRunContext): Promise<RetentionPurgeResult> {
    const days = params.olderThanDays ?? this.settings.queryLogRetentionDays;
    const steps: Array<[keyof Omit<RetentionPurgeResult, 'olderThanDays'>, () => Promise<number>]> = [
      ['queryTraces', () => this.traces.purgeTenantOlderThan(context.tenantId, days)],
      ['queryLog', () => this.queryLog.purgeTenantOlderThan(context.tenantId, days)],
      ['processingJobs', () => this.processingJobs.purgeFinishedOlderThan(context.tenantId, days)],
      ['indexChanges', () => this.chunks.purgeChangesOlderThan(this.settings.indexChangesRetentionHours)],
      ['cacheEntries', () => this.cache.purgeExpired()],
      ['embeddingCache', () => this.embeddings.purgeUnusedOlderThan(this.settings.embeddingCacheRetentionDays)],
      ['systemAlerts', () => this.alerts.purgeClearedOlderThan(this.settings.systemAlertsRetentionDays)],
    ];
    const result: RetentionPurgeResult = { olderThanDays: days, queryLog: 0, queryTraces: 0, processingJobs: 0, indexChanges: 0, cacheEntries: 0, embeddingCache: 0, systemAlerts: 0 };
    for (const [index, [name, step]] of steps.entries()) {
      context.signal.throwIfAborted();
      result[name] = await step();
      context.progress(((index + 1) / steps.length) * 100, `${name}: ${result[name]} removed`);
    }
    return result;
  }
}
