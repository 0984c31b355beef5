import { Controller, Get, Inject, Query } from '@nestjs/common';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import { requireOperator } from '../auth/operators';
import { Auth, type RequestAuth } from '../auth/request-auth';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { GatewayConfig } from '../config';
import { parseBody } from '../http/parse-body';
import { ListAlertsQuery } from './system.schemas';
import { SystemService } from './system.service';

/**
 * The installation's state, for operators (admin keys of OPERATOR_TENANT): resource alerts of
 * every service. No tenant's data is in them, but the machines are the installation's, not an
 * ordinary tenant's: its admin administers the tenant, not the installation.
 */
@Controller('api/system')
@RequiresRole('admin')
export class SystemController {
  constructor(
    private readonly system: SystemService,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<GatewayConfig, 'OPERATOR_TENANT'>,
  ) {}

  @Get('alerts')
  alerts(@Auth() auth: RequestAuth, @Query() query: unknown) {
    requireOperator(auth, this.config.OPERATOR_TENANT, 'the system alerts list');
    return this.system.listAlerts(parseBody(ListAlertsQuery, query));
  }
}
