import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { JobName, QueueName, jobContracts } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { BullMqClient, QueueRegistry } from '@quarry/transport';
import type { SchedulerConfig } from '../config';

export const BULL_CLIENT = Symbol('BULL_CLIENT');

/**
 * Registers the repeating housekeeping jobs with BullMQ's job schedulers. Upserting by a fixed id
 * makes this idempotent across restarts and replicas: one schedule, however many schedulers boot.
 */
@Injectable()
export class HousekeepingSchedule implements OnApplicationBootstrap {
  constructor(
    @Inject(BULL_CLIENT) private readonly client: BullMqClient,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const queue = this.client.unwrap<QueueRegistry>().queue(QueueName.Scheduler);
    const contract = jobContracts[JobName.PurgeQueryLog];
    await queue.upsertJobScheduler(
      'purge-query-log',
      { every: this.config.HOUSEKEEPING_EVERY_MS },
      { name: JobName.PurgeQueryLog, data: {}, opts: contract.options },
    );
    const reconcile = jobContracts[JobName.ReconcileDocuments];
    await queue.upsertJobScheduler(
      'reconcile-documents',
      { every: this.config.RECONCILE_EVERY_MS },
      { name: JobName.ReconcileDocuments, data: {}, opts: reconcile.options },
    );
    this.logger.info('housekeeping scheduled', {
      [JobName.PurgeQueryLog]: this.config.HOUSEKEEPING_EVERY_MS,
      [JobName.ReconcileDocuments]: this.config.RECONCILE_EVERY_MS,
    });
  }
}
