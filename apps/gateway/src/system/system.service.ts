import { Inject, Injectable } from '@nestjs/common';
import { type DataSource, SystemAlertRepository } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { AlertList, ListAlertsQuery } from './system.schemas';

/** The installation's own state for operators: the resource alerts every service stored. */
@Injectable()
export class SystemService {
  private readonly alerts: SystemAlertRepository;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.alerts = new SystemAlertRepository(dataSource);
  }

  async listAlerts(query: ListAlertsQuery): Promise<AlertList> {
    return { items: await this.alerts.list({ state: query.state, since: query.since === undefined ? undefined : new Date(query.since), limit: query.limit }) };
  }
}
