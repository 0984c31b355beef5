import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import type { QueryTrace } from '@quarry/contracts';
import type { FastifyReply } from 'fastify';
import { RequiresRole } from '../auth/requires-role.decorator';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { REPORT_CONTENT_SECURITY_POLICY } from './report/html-report';
import { QueriesService } from './queries.service';
import { QueryId, type ReportFormat, ReportQuery } from './queries.schemas';

export const MARKDOWN_TYPE = 'text/markdown; charset=utf-8';
export const HTML_TYPE = 'text/html; charset=utf-8';

/** `?format=` first; else HTML only for a client that asks for HTML and not for Markdown (a browser). */
export function reportFormatOf(format: ReportFormat | undefined, accept: string | undefined): ReportFormat {
  if (format) return format;
  const wanted = (accept ?? '').toLowerCase();
  return wanted.includes('text/html') && !wanted.includes('text/markdown') ? 'html' : 'markdown';
}

/** The audit trail of a query the tenant asked (`queryId` of its reply): as JSON, or as a readable report. */
@Controller('api/queries')
export class QueriesController {
  constructor(private readonly queries: QueriesService) {}

  @Get(':id/trace')
  @RequiresRole('read')
  trace(@Tenant() tenantId: string, @Param('id') id: string): Promise<QueryTrace> {
    return this.queries.trace(tenantId, parseBody(QueryId, id));
  }

  @Get(':id/report')
  @RequiresRole('read')
  async report(
    @Tenant() tenantId: string,
    @Param('id') id: string,
    @Query() query: unknown,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const queryId = parseBody(QueryId, id);
    const format = reportFormatOf(parseBody(ReportQuery, query).format, accept);
    const report = await this.queries.report(tenantId, queryId, format);
    void reply.header('vary', 'accept');
    if (format === 'html') {
      // The page's own policy: its inline stylesheet by hash, nothing else (the API's default-src 'none' would drop the styles).
      void reply.header('content-security-policy', REPORT_CONTENT_SECURITY_POLICY);
      void reply.type(HTML_TYPE);
    } else {
      void reply.type(MARKDOWN_TYPE);
    }
    return report;
  }
}
