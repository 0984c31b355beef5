import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { SchedulerConfig } from '../config';
import { TaskSystem } from '../tasks/task-system';

/** Puts back the queue jobs tasks lost (see TaskReconciler); every RECONCILE_EVERY_MS. */
@Controller()
export class ReconcileTasksJob {
  constructor(
    private readonly tasks: TaskSystem,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @EventPattern(JobName.ReconcileTasks)
  async handle(@Payload() payload: PayloadOf<typeof JobName.ReconcileTasks>): Promise<void> {
    const summary = await this.tasks.reconciler.reconcile(payload.staleForSeconds ?? this.config.RECONCILE_STUCK_SECONDS);
    if (summary.requeued > 0) this.logger.info('tasks reconciled', { ...summary });
  }
}
