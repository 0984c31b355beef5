import { Inject, Injectable } from '@nestjs/common';
import { type DataSource, DocumentAnalyticsRepository, QueryAnalyticsRepository, QueryLogRepository } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { DocumentAnalytics, DocumentAnalyticsQuery, QueryAnalytics, QueryAnalyticsQuery } from './analytics.schemas';

const DAY_MS = 24 * 3600_000;

/** The tenant's analytics: every figure an aggregate Postgres computes over the tenant's own rows of the window. */
@Injectable()
export class AnalyticsService {
  private readonly queries: QueryAnalyticsRepository;
  private readonly queryLog: QueryLogRepository;
  private readonly documents: DocumentAnalyticsRepository;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.queries = new QueryAnalyticsRepository(dataSource);
    this.queryLog = new QueryLogRepository(dataSource);
    this.documents = new DocumentAnalyticsRepository(dataSource);
  }

  async queryFigures(tenantId: string, query: QueryAnalyticsQuery): Promise<QueryAnalytics> {
    const since = new Date(Date.now() - query.days * DAY_MS);
    // The cache warming's own ranking (topQuestions), over the same days.
    const [volume, byDay, topQuestions] = await Promise.all([this.queries.volume(tenantId, since), this.queries.byDay(tenantId, since), this.queryLog.topQuestions(tenantId, query.top, query.days)]);
    return {
      days: query.days,
      since: since.toISOString(),
      queries: volume.queries,
      noAnswer: volume.noAnswer,
      noAnswerRate: volume.queries > 0 ? volume.noAnswer / volume.queries : null,
      latencyMs: volume.latencyMs,
      topQuestions,
      byDay,
    };
  }

  async documentFigures(tenantId: string, query: DocumentAnalyticsQuery): Promise<DocumentAnalytics> {
    const since = new Date(Date.now() - query.days * DAY_MS);
    const [mostCited, neverCited] = await Promise.all([this.documents.mostCited(tenantId, since, query.limit), this.documents.neverCited(tenantId, since, query.limit)]);
    return { days: query.days, since: since.toISOString(), mostCited, neverCited };
  }
}
