import { JobName, TASK_PRIORITY_BAND_SIZE, TASK_QUEUE_PRIORITY, type TaskView } from '@quarry/contracts';
import type { TaskRepository } from '@quarry/persistence';
import type { JobClient } from '@quarry/transport';

/**
 * Puts a task's next run on the task-scheduler's queue: after `delayMs`, under a job id that
 * names the run (task and run number), so putting the same run on twice — a dependency released
 * twice, the task reconciler — adds one job. Its priority is its band's, moved back by the tenant's
 * tasks already pending in that band: BullMQ serves equal priorities in order, so each tenant's
 * n-th task is served with every other tenant's n-th (round robin within a priority).
 */
export class TaskQueue {
  constructor(
    private readonly jobs: JobClient,
    private readonly tasks: TaskRepository,
  ) {}

  /** `pendingAhead`: the tenant's tasks pending before this one in its band, when the caller already knows (a submit reads it with the insert). */
  async enqueue(tenantId: string, task: Pick<TaskView, 'id' | 'priority' | 'attempts' | 'status'>, delayMs = 0, pendingAhead?: number): Promise<void> {
    const ahead = pendingAhead ?? (await this.pendingBefore(tenantId, task));
    const priority = TASK_QUEUE_PRIORITY[task.priority] + Math.min(Math.max(ahead, 0), TASK_PRIORITY_BAND_SIZE - 1);
    await this.jobs.publish(
      JobName.RunTask,
      { tenantId, taskId: task.id, run: task.attempts + 1 },
      { jobId: runJobId(task.id, task.attempts + 1), priority, ...(delayMs > 0 ? { delayMs: Math.ceil(delayMs) } : {}) },
    );
  }

  private async pendingBefore(tenantId: string, task: Pick<TaskView, 'priority' | 'status'>): Promise<number> {
    const pending = await this.tasks.pendingInBand(tenantId, task.priority);
    // A pending task counts itself among them; a scheduled one (due later) does not.
    return task.status === 'pending' ? pending - 1 : pending;
  }

  /** Queues the push of an ended task's webhook (once per task: the job id names it). */
  async deliverWebhook(tenantId: string, taskId: string): Promise<void> {
    await this.jobs.publish(JobName.DeliverTaskWebhook, { tenantId, taskId }, { jobId: webhookJobId(taskId) });
  }
}

/** The queue job that pushes a task's end to its webhook. */
export function webhookJobId(taskId: string): string {
  return `webhook-${taskId}`;
}

/** The queue job of a task's run number `run` (1 for the first). */
export function runJobId(taskId: string, run: number): string {
  return `task-${taskId}-${run}`;
}
