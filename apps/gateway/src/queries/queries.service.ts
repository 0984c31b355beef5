import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, type QueryTrace } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { passagesOfCitations, sentenceSupport } from '@quarry/llm';
import { type DataSource, QueryTraceRepository } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import { renderHtmlReport } from './report/html-report';
import { renderMarkdownReport } from './report/markdown-report';
import { auditReport } from './report/report-model';
import type { ReportFormat } from './queries.schemas';

/** The audit trails of a tenant's queries, read from Postgres (the agent writes them with each exchange). */
@Injectable()
export class QueriesService {
  private readonly traces: QueryTraceRepository;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.traces = new QueryTraceRepository(dataSource);
  }

  /** The tenant's trace; NOT_FOUND for a query that is missing or another tenant's (the two look the same). */
  async trace(tenantId: string, queryId: string): Promise<QueryTrace> {
    const trace = await this.traces.find(tenantId, queryId);
    if (!trace) throw new DomainError(ErrorCode.NotFound, `query ${queryId} not found`);
    // A cached serving's trace is stored without its sentence support: it is the same for every serving, computed when asked for.
    return { ...trace, sentences: trace.sentences ?? sentenceSupport(trace.answer, passagesOfCitations(trace.citations)) };
  }

  /** The trace's audit report in the format asked for. */
  async report(tenantId: string, queryId: string, format: ReportFormat): Promise<string> {
    const report = auditReport(await this.trace(tenantId, queryId));
    return format === 'html' ? renderHtmlReport(report) : renderMarkdownReport(report);
  }
}
