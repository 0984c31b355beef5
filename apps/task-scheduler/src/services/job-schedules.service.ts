import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type ContractJobOptions, JobName, QueueName, jobContracts } from '@quarry/contracts';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { JOB_CLIENT, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import type { Queue, RedisClient } from 'bullmq';
import type { SchedulerConfig } from '../config';
import { isAlive } from './stage-job-states';

interface ScheduleSpec {
  /** The job scheduler's id: fixed, so every scheduler replica upserts the same one. */
  id: string;
  name: typeof JobName.PurgeQueryLog | typeof JobName.ReconcileDocuments | typeof JobName.ReconcileTasks | typeof JobName.WarmAnswerCaches;
  /** Every this many milliseconds, or at each occurrence of a cron pattern (UTC). */
  repeat: { every: number } | { pattern: string };
  data?: Record<string, unknown>;
  options: ContractJobOptions;
}

type Health = 'ok' | 'missing' | 'changed';

/**
 * Keeps the repeating recovery jobs (stuck-document and task reconcilers, query log purge) registered as
 * BullMQ job schedulers. They live in Redis, so a Redis that restarts empty (or is flushed) takes
 * them with it: besides at boot, they are checked every SCHEDULE_CHECK_EVERY_MS by an in-process
 * timer (which needs nothing from Redis to fire) and at once whenever the Redis connection becomes
 * ready again, and registered again when missing or changed. A healthy schedule is not upserted:
 * that would rewrite its next run each time. When the reconciler's schedule had vanished, the
 * documents' jobs most likely vanished with it, so a reconcile over every live document runs at
 * once (a document whose step job is alive is left alone).
 */
@Injectable()
export class JobSchedules implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private checkAgain = false;
  private readonly onRedisReady = () => void this.ensure('redis ready');
  private redis: RedisClient | undefined;

  constructor(
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {
    for (const spec of this.specs()) this.metrics.schedulesRestored.inc({ schedule: spec.id }, 0);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.check('boot');
    this.timer = setInterval(() => void this.ensure('periodic check'), this.config.SCHEDULE_CHECK_EVERY_MS);
    // The queue's own connection: it emits `ready` again each time it reconnects after Redis was gone.
    this.redis = await this.queue().client;
    this.redis.on('ready', this.onRedisReady);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.redis?.off('ready', this.onRedisReady);
  }

  /** Checks (and restores) the schedules; a call during a check makes it run once more afterwards. Never rejects. */
  ensure(trigger: string): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return this.checking;
    }
    this.checking = (async () => {
      try {
        do {
          this.checkAgain = false;
          await this.check(trigger).catch((error: unknown) =>
            this.logger.warn('could not check the job schedules; trying again', { trigger, error: (error as Error).message }),
          );
        } while (this.checkAgain);
      } finally {
        this.checking = undefined;
      }
    })();
    return this.checking;
  }

  private async check(trigger: string): Promise<void> {
    const queue = this.queue();
    let reconcilerLost = false;
    for (const spec of this.specs()) {
      const health = await this.healthOf(queue, spec);
      if (health === 'ok') continue;
      await queue.upsertJobScheduler(spec.id, 'pattern' in spec.repeat ? { pattern: spec.repeat.pattern, tz: 'UTC' } : spec.repeat, { name: spec.name, data: spec.data ?? {}, opts: spec.options });
      this.metrics.schedulesRestored.inc({ schedule: spec.id });
      const details = { schedule: spec.id, ...spec.repeat, was: health, trigger };
      if (trigger === 'boot') this.logger.info('job schedule registered', details);
      else this.logger.warn('job schedule restored', details);
      if (spec.name === JobName.ReconcileDocuments && health === 'missing') reconcilerLost = true;
    }
    if (reconcilerLost) {
      await this.jobs.publish(JobName.ReconcileDocuments, { stuckForSeconds: 0 }, { jobId: `reconcile-documents-now-${Date.now()}` });
      this.logger.info('reconciling every live document now: its schedule was missing', { trigger });
    }
  }

  /**
   * `missing`: no scheduler, or its next run's job is gone (a flushed Redis, or BullMQ failed to add
   * the next iteration); `changed`: another interval or job; `ok` otherwise.
   */
  private async healthOf(queue: Queue, spec: ScheduleSpec): Promise<Health> {
    const scheduler = await queue.getJobScheduler(spec.id);
    if (!scheduler || scheduler.next === undefined || scheduler.next === null) return 'missing';
    if (!isAlive(await queue.getJobState(`repeat:${spec.id}:${scheduler.next}`))) return 'missing';
    const same = 'pattern' in spec.repeat ? scheduler.pattern === spec.repeat.pattern : Number(scheduler.every) === spec.repeat.every;
    return same && scheduler.name === spec.name ? 'ok' : 'changed';
  }

  private specs(): ScheduleSpec[] {
    const specs: ScheduleSpec[] = [
      { id: 'purge-query-log', name: JobName.PurgeQueryLog, repeat: { every: this.config.HOUSEKEEPING_EVERY_MS }, options: jobContracts[JobName.PurgeQueryLog].options },
      {
        id: 'reconcile-documents',
        name: JobName.ReconcileDocuments,
        repeat: { every: this.config.RECONCILE_EVERY_MS },
        options: jobContracts[JobName.ReconcileDocuments].options,
      },
      { id: 'reconcile-tasks', name: JobName.ReconcileTasks, repeat: { every: this.config.RECONCILE_EVERY_MS }, options: jobContracts[JobName.ReconcileTasks].options },
    ];
    if (this.config.CACHE_WARM_HOUR >= 0) {
      specs.push({
        id: 'warm-answer-caches',
        name: JobName.WarmAnswerCaches,
        repeat: { pattern: `0 ${this.config.CACHE_WARM_HOUR} * * *` },
        data: { trigger: 'nightly' },
        options: jobContracts[JobName.WarmAnswerCaches].options,
      });
    }
    return specs;
  }

  private queue(): Queue {
    return this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Scheduler);
  }
}
