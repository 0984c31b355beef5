import type { SubmitTaskReply } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import type { QueryLogRepository } from '@quarry/persistence';
import type { TaskManager } from './task-manager';

/** Tenants that asked a question this recently are warmed. */
const ACTIVE_WITHIN_DAYS = 7;
/** A warming that has not finished in this long is stopped: the next trigger tries again. */
const WARM_TIMEOUT_SECONDS = 15 * 60;

export type WarmingTrigger = 'nightly' | 'low-hit-rate';

/**
 * Turns a trigger — the nightly schedule, or a gateway reporting a cold answer cache — into one
 * low-priority cache.warm task per tenant that asked questions lately. The idempotency key holds
 * the trigger and its period (the day for the nightly run, the hour for a low hit rate), so every
 * replica and every repeat of the trigger within the period make one task per tenant.
 */
export class CacheWarmingPlanner {
  constructor(
    private readonly queryLog: QueryLogRepository,
    private readonly manager: TaskManager,
    private readonly topN: number,
    private readonly logger: Logger,
  ) {}

  async warmActiveTenants(trigger: WarmingTrigger, now: Date): Promise<SubmitTaskReply[]> {
    const period = trigger === 'nightly' ? now.toISOString().slice(0, 10) : now.toISOString().slice(0, 13);
    const tenants = await this.queryLog.activeTenants(ACTIVE_WITHIN_DAYS);
    const submitted: SubmitTaskReply[] = [];
    for (const tenantId of tenants) {
      submitted.push(
        await this.manager.submit({
          tenantId,
          type: 'cache.warm',
          params: { topN: this.topN, sinceDays: ACTIVE_WITHIN_DAYS },
          priority: 'low',
          dependsOn: [],
          timeoutSeconds: WARM_TIMEOUT_SECONDS,
          maxRetries: 1,
          metadata: { trigger },
          idempotencyKey: `cache.warm:${trigger}:${period}`,
        }),
      );
    }
    const created = submitted.filter((reply) => reply.created).length;
    this.logger.info('answer caches to warm', { trigger, period, tenants: tenants.length, created });
    return submitted;
  }
}
