import { ErrorCode, FINAL_TASK_STATUSES, type PayloadOf, type JobName, type SubmitTaskReply, type TaskView } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import type { NewTask, TaskRepository } from '@quarry/persistence';
import type { TaskCancelChannel } from '@quarry/transport';
import { nextOccurrence } from './cron-schedule';
import type { TaskMetrics } from './task-metrics';
import type { TaskQueue } from './task-queue';

/** Why a dependent cannot run any more, naming the dependency. */
function dependencyFailure(dependency: { taskId: string; status: string; requiredStatus: string }): string {
  return `dependency ${dependency.taskId} ended ${dependency.status}, but this task required it to be ${dependency.requiredStatus}`;
}

/**
 * Submits and cancels tasks and moves waiting ones on when what they depend on ends. Postgres is
 * the record: every decision is a conditional update of the task's row, so two replicas deciding
 * about the same task at once change it once.
 */
export class TaskManager {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly queue: TaskQueue,
    private readonly cancels: TaskCancelChannel,
    private readonly metrics: TaskMetrics,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async submit(request: PayloadOf<typeof JobName.SubmitTask>): Promise<SubmitTaskReply> {
    const now = this.now();
    let nextRunAt: Date | null = null;
    if (request.cron !== undefined) {
      const next = nextOccurrence(request.cron, now);
      if ('problem' in next) throw new DomainError(ErrorCode.InvalidPayload, `cron: ${next.problem}`);
      nextRunAt = next.at;
    }
    const runAt = request.runAt === undefined ? null : new Date(request.runAt);
    if (runAt && runAt > now) nextRunAt = runAt;
    const status: NewTask['status'] = request.dependsOn.length > 0 ? 'waiting' : nextRunAt ? 'scheduled' : 'pending';

    const stored = await this.tasks.insert({
      tenantId: request.tenantId,
      type: request.type,
      params: request.params,
      priority: request.priority,
      status,
      dependsOn: request.dependsOn,
      runAt,
      cron: request.cron ?? null,
      nextRunAt,
      timeoutSeconds: request.timeoutSeconds,
      maxRetries: request.maxRetries,
      metadata: request.metadata,
      idempotencyKey: request.idempotencyKey ?? null,
      webhook: request.webhook ?? null,
    });
    if ('missing' in stored) throw new DomainError(ErrorCode.InvalidPayload, `dependsOn: no task ${stored.missing.join(', ')} of this tenant`);
    if (!stored.created) return { task: stored.task, created: false };

    this.metrics.submitted.inc({ task_type: request.type, priority: request.priority });
    this.logger.info('task submitted', { taskId: stored.task.id, type: request.type, status, priority: request.priority });
    if (status === 'waiting') return { task: (await this.settle(request.tenantId, stored.task.id)) ?? stored.task, created: true };
    await this.queue.enqueue(request.tenantId, stored.task, nextRunAt ? nextRunAt.getTime() - now.getTime() : 0, stored.pendingAhead);
    return { task: stored.task, created: true };
  }

  /** Cancels the tenant's task (NOT_FOUND for none); a running one is stopped on whichever replica runs it. */
  async cancel(tenantId: string, taskId: string): Promise<TaskView> {
    const cancelled = await this.tasks.cancel(tenantId, taskId, 'cancelled by request');
    if (!cancelled) throw new DomainError(ErrorCode.NotFound, `task ${taskId} not found`);
    if (FINAL_TASK_STATUSES.has(cancelled.was)) return cancelled.task;
    this.metrics.finished.inc({ task_type: cancelled.task.type, outcome: 'cancelled' });
    if (cancelled.was === 'running') {
      await this.cancels.announce(tenantId, taskId).catch((error: unknown) =>
        // The run still cannot write its outcome (its token is gone) and stops at its next progress report.
        this.logger.warn('could not announce a cancel to the replicas; the run stops at its next progress report', { taskId, error: (error as Error).message }),
      );
    }
    this.logger.info('task cancelled', { taskId, was: cancelled.was });
    await this.ended(tenantId, cancelled.task);
    return cancelled.task;
  }

  /** A task ended (completed, failed, cancelled): its webhook is pushed, and each waiting task that depends on it is decided again. */
  async ended(tenantId: string, task: TaskView): Promise<void> {
    if (task.webhook) {
      await this.queue.deliverWebhook(tenantId, task.id).catch((error: unknown) =>
        this.logger.warn('could not queue the webhook push of an ended task', { taskId: task.id, error: (error as Error).message }),
      );
    }
    await this.releaseDependents(tenantId, task.id);
  }

  private async releaseDependents(tenantId: string, taskId: string): Promise<void> {
    for (const dependent of await this.tasks.waitingDependents(tenantId, taskId)) await this.settle(tenantId, dependent);
  }

  /**
   * Decides a waiting task: failed when a dependency ended in another status than it required
   * (its own dependents are decided next), queued when every dependency is where it must be, left
   * waiting otherwise. Resolves with the task as it now stands.
   */
  private async settle(tenantId: string, taskId: string): Promise<TaskView | undefined> {
    const dependencies = await this.tasks.dependenciesOf(tenantId, taskId);
    const broken = dependencies.find((dependency) => FINAL_TASK_STATUSES.has(dependency.status) && dependency.status !== dependency.requiredStatus);
    if (broken) {
      const failed = await this.tasks.transition(tenantId, taskId, ['waiting'], 'failed', { error: dependencyFailure(broken) });
      if (failed) {
        this.metrics.finished.inc({ task_type: failed.type, outcome: 'failed' });
        this.logger.info('task failed: a dependency ended otherwise than required', { taskId, dependency: broken.taskId, dependencyStatus: broken.status });
        await this.ended(tenantId, failed);
      }
      return failed;
    }
    if (!dependencies.every((dependency) => dependency.status === dependency.requiredStatus)) return undefined;
    const current = await this.tasks.find(tenantId, taskId);
    const runAt = current?.runAt ? new Date(current.runAt) : undefined;
    const delayMs = runAt ? runAt.getTime() - this.now().getTime() : 0;
    const released = await this.tasks.transition(tenantId, taskId, ['waiting'], delayMs > 0 ? 'scheduled' : 'pending', delayMs > 0 ? { nextRunAt: runAt } : {});
    if (released) await this.queue.enqueue(tenantId, released, delayMs);
    return released;
  }
}
