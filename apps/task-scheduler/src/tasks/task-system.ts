import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { TieredCache } from '@quarry/cache';
import type { TaskType } from '@quarry/contracts';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { ChunkRepository, type DataSource, DocumentRepository, EmbeddingVersionRepository, QueryLogRepository, TaskRepository } from '@quarry/persistence';
import { BULLMQ_SERVER, DATA_SOURCE, JOB_CLIENT, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import { type BullMqServer, type JobClient, TaskCancelChannel } from '@quarry/transport';
import type { SchedulerConfig } from '../config';
import { CacheWarmTask } from './handlers/cache-warm.task';
import { CorpusReembedTask } from './handlers/corpus-reembed.task';
import { CorpusReindexTask } from './handlers/corpus-reindex.task';
import { DiagnosticsWaitTask } from './handlers/diagnostics-wait.task';
import { DocumentReanalyzeTask } from './handlers/document-reanalyze.task';
import { EvalRunTask } from './handlers/eval-run.task';
import { RetentionPurgeTask } from './handlers/retention-purge.task';
import { CacheWarmingPlanner } from './cache-warming-planner';
import type { TaskHandler } from './task-handler';
import { TaskManager } from './task-manager';
import { TaskMetrics } from './task-metrics';
import { TaskQueue } from './task-queue';
import { TaskReconciler } from './task-reconciler';
import { TaskRunner } from './task-runner';
import { TaskWebhookPusher } from './webhooks/task-webhook-pusher';
import { WebhookSender } from './webhooks/webhook-sender';

/**
 * The task manager of this task-scheduler replica: the handlers of every task type, the manager
 * (submit, cancel, dependencies), the runner, and the cancel channel every replica listens on.
 */
@Injectable()
export class TaskSystem implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly manager: TaskManager;
  readonly runner: TaskRunner;
  readonly repository: TaskRepository;
  readonly warming: CacheWarmingPlanner;
  readonly webhooks: TaskWebhookPusher;
  readonly reconciler: TaskReconciler;
  private readonly webhookSender: WebhookSender;
  private readonly cancels: TaskCancelChannel;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) jobs: JobClient,
    @Inject(SERVICE_CONFIG) config: SchedulerConfig,
    @Inject(METRICS) metrics: ServiceMetrics,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(TieredCache) cache: TieredCache,
    @Inject(BULLMQ_SERVER) server: BullMqServer | null,
  ) {
    this.repository = new TaskRepository(dataSource);
    const queue = new TaskQueue(jobs, this.repository);
    const taskMetrics = new TaskMetrics(metrics.registry);
    this.cancels = new TaskCancelChannel({ url: config.REDIS_URL, prefix: config.REDIS_PREFIX });
    const handlers: TaskHandler[] = [
      new CacheWarmTask(jobs),
      new RetentionPurgeTask(dataSource, cache, {
        queryLogRetentionDays: config.QUERY_LOG_RETENTION_DAYS,
        indexChangesRetentionHours: config.INDEX_CHANGES_RETENTION_HOURS,
        embeddingCacheRetentionDays: config.EMBEDDING_CACHE_RETENTION_DAYS,
        systemAlertsRetentionDays: config.SYSTEM_ALERTS_RETENTION_DAYS,
      }),
      new DiagnosticsWaitTask(),
      new CorpusReembedTask(new EmbeddingVersionRepository(dataSource), jobs),
      new CorpusReindexTask(new ChunkRepository(dataSource)),
      new DocumentReanalyzeTask(new DocumentRepository(dataSource), jobs),
      new EvalRunTask(jobs, new DocumentRepository(dataSource), config.EVAL_DATA_DIR),
    ] as TaskHandler[];
    this.manager = new TaskManager(this.repository, queue, this.cancels, taskMetrics, logger);
    this.warming = new CacheWarmingPlanner(new QueryLogRepository(dataSource), this.manager, config.CACHE_WARM_TOP_N, logger);
    this.reconciler = new TaskReconciler(this.repository, queue, jobs, logger);
    this.webhookSender = new WebhookSender({ addresses: config.TASK_WEBHOOK_ADDRESSES, timeoutMs: config.TASK_WEBHOOK_TIMEOUT_MS });
    this.webhooks = new TaskWebhookPusher(this.repository, this.webhookSender, logger);
    this.runner = new TaskRunner(this.repository, new Map<TaskType, TaskHandler>(handlers.map((handler) => [handler.type, handler])), queue, this.manager, taskMetrics, logger);
    // The queue worker waits for active jobs when it closes: running tasks are handed back first.
    server?.onClosing(() => this.handBack());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.cancels.listen(({ taskId }) => this.runner.cancelled(taskId));
  }

  /** Runs in progress are handed back when the queue worker starts closing (it would wait for them), or at the latest here. */
  beforeApplicationShutdown(): void {
    this.handBack();
  }

  private handBack(): void {
    if (this.runner.activeRuns > 0) this.logger.info('handing running tasks back to the queue', { runs: this.runner.activeRuns });
    this.runner.stopAll();
  }

  onApplicationShutdown(): void {
    this.cancels.close();
    this.webhookSender.close();
  }
}
