import { JobName, TASK_QUEUE_PRIORITY, type TaskView } from '@quarry/contracts';
import type { JobClient } from '@quarry/transport';

/**
 * Puts a task's next run on the task-scheduler's queue: at its priority, after `delayMs`, under a
 * job id that names the run (task and run number), so putting the same run on twice — a
 * dependency released twice, the recovery sweep — adds one job.
 */
export class TaskQueue {
  constructor(private readonly jobs: JobClient) {}

  async enqueue(tenantId: string, task: Pick<TaskView, 'id' | 'priority' | 'attempts'>, delayMs = 0): Promise<void> {
    await this.jobs.publish(
      JobName.RunTask,
      { tenantId, taskId: task.id, run: task.attempts + 1 },
      { jobId: runJobId(task.id, task.attempts + 1), priority: TASK_QUEUE_PRIORITY[task.priority], ...(delayMs > 0 ? { delayMs: Math.ceil(delayMs) } : {}) },
    );
  }
}

/** The queue job of a task's run number `run` (1 for the first). */
export function runJobId(taskId: string, run: number): string {
  return `task-${taskId}-${run}`;
}
