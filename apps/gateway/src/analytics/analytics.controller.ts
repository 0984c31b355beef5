import { Controller, Get, Inject, Query } from '@nestjs/common';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import { requireOperator } from '../auth/operators';
import { Auth, type RequestAuth } from '../auth/request-auth';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { GatewayConfig } from '../config';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { DocumentAnalyticsQuery, QueryAnalyticsQuery } from './analytics.schemas';
import { AnalyticsService } from './analytics.service';
import { SystemAnalyticsService } from './system-analytics.service';

/**
 * Operator views. Admin keys only, the tenant's figures included: they show what everyone of the
 * tenant asked (its most asked questions) and which documents nobody uses, which a read key —
 * handed to a chat widget or one team's script — has no business seeing; the tenant's own admin
 * is who acts on them. Query and document figures are the caller's tenant's, never another's.
 * The system figures (every tenant's queues, the machines' alerts) are for operators only.
 */
@Controller('api/analytics')
@RequiresRole('admin')
export class AnalyticsController {
  constructor(
    private readonly analytics: AnalyticsService,
    private readonly system: SystemAnalyticsService,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<GatewayConfig, 'OPERATOR_TENANT'>,
  ) {}

  @Get('queries')
  queries(@Tenant() tenantId: string, @Query() query: unknown) {
    return this.analytics.queryFigures(tenantId, parseBody(QueryAnalyticsQuery, query));
  }

  @Get('documents')
  documents(@Tenant() tenantId: string, @Query() query: unknown) {
    return this.analytics.documentFigures(tenantId, parseBody(DocumentAnalyticsQuery, query));
  }

  @Get('system')
  systemFigures(@Tenant() tenantId: string, @Auth() auth: RequestAuth) {
    requireOperator(auth, this.config.OPERATOR_TENANT, 'the system figures');
    return this.system.figures(tenantId);
  }
}
