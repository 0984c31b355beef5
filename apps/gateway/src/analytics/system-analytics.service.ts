import { Inject, Injectable } from '@nestjs/common';
import { TieredCache } from '@quarry/cache';
import { QueueName } from '@quarry/contracts';
import { type DataSource, TaskRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { SystemService } from '../system/system.service';
import type { SystemAnalytics } from './analytics.schemas';

/** Active alerts shown beside the load: enough for a page of them (the alerts route pages the rest). */
const ACTIVE_ALERTS_SHOWN = 100;

/** The installation's load for operators: queue depths, the caller's tasks, this gateway's cache, active alerts. */
@Injectable()
export class SystemAnalyticsService {
  private readonly tasks: TaskRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(TieredCache) private readonly cache: TieredCache,
    private readonly system: SystemService,
  ) {
    this.tasks = new TaskRepository(dataSource);
  }

  async figures(tenantId: string): Promise<SystemAnalytics> {
    const [queues, tasks, cache, alerts] = await Promise.all([
      Promise.all(Object.values(QueueName).map(async (queue) => ({ queue, ...(await this.jobs.proxy.jobCounts(queue)) }))),
      // Tasks are tenant-owned records: the caller's own, never another tenant's.
      this.tasks.stats(tenantId),
      this.cache.stats(),
      this.system.listAlerts({ state: 'active', limit: ACTIVE_ALERTS_SHOWN }),
    ]);
    return {
      queues,
      tasks,
      cache: {
        service: cache.service,
        requests: cache.totals.requests,
        hitRate: cache.totals.hitRate,
        kinds: cache.kinds.map(({ kind, requests, hitRate }) => ({ kind, requests, hitRate })),
      },
      resources: { active: alerts.items },
    };
  }
}
