import { QueueName } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import type { TaskNeedingJob, TaskRepository } from '@quarry/persistence';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import { isAlive } from '../services/stage-job-states';
import { type TaskQueue, runJobId, webhookJobId } from './task-queue';

/** Tasks looked at per round; the next round goes on with the rest. */
const ROUND_LIMIT = 1000;

export interface TaskReconcileSummary {
  looked: number;
  alive: number;
  requeued: number;
}

/**
 * Postgres is the record, BullMQ the executor: when the executor lost a task's job — a Redis that
 * restarted empty, a run job that failed on an outage before the run started, a crash between a
 * task's end and the queueing of its webhook push — the task would wait forever. Each round puts
 * such jobs back under their deterministic ids (a finished job left under the id is removed first,
 * or the add would be a no-op); a task whose job is alive is left alone.
 */
export class TaskReconciler {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly queue: TaskQueue,
    private readonly jobs: JobClient,
    private readonly logger: Logger,
  ) {}

  async reconcile(staleSeconds: number): Promise<TaskReconcileSummary> {
    const candidates = await this.tasks.needingQueueJobs(staleSeconds, ROUND_LIMIT);
    const summary: TaskReconcileSummary = { looked: candidates.length, alive: 0, requeued: 0 };
    const queue = this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Tasks);
    for (const task of candidates) {
      const jobId = task.need === 'push' ? webhookJobId(task.id) : runJobId(task.id, task.attempts + 1);
      const state = await queue.getJobState(jobId);
      if (isAlive(state)) {
        summary.alive += 1;
        continue;
      }
      if (state !== 'unknown') await queue.remove(jobId);
      await this.requeue(task);
      summary.requeued += 1;
      this.logger.warn('task job put back: the queue had lost it', { taskId: task.id, need: task.need, status: task.status, jobWas: state });
    }
    return summary;
  }

  private async requeue(task: TaskNeedingJob): Promise<void> {
    if (task.need === 'push') return this.queue.deliverWebhook(task.tenantId, task.id);
    // The task is due (pending, or scheduled past its time): it runs now.
    return this.queue.enqueue(task.tenantId, task);
  }
}
