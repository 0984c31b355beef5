import type { TaskParamsOf, TaskType } from '@quarry/contracts';

/** What a handler gets for one run of its task. */
export interface TaskRunContext {
  tenantId: string;
  taskId: string;
  /** 1 for the first run; retries and cron occurrences count on. */
  attempt: number;
  /** Aborted when the task is cancelled (wherever the cancel arrived), times out, or the worker shuts down. Handlers stop at the next safe point. */
  signal: AbortSignal;
  /** Reports how far the run is (0-100) with an optional message; cheap to call often (writes are throttled). */
  progress(percent: number, message?: string): void;
}

/**
 * One task type's work: a file of its own under handlers/. Returns the task's result (stored as
 * JSON on the task); throws to fail the run (retried while the task has retries left).
 */
export interface TaskHandler<T extends TaskType = TaskType> {
  readonly type: T;
  run(params: TaskParamsOf<T>, context: TaskRunContext): Promise<unknown>;
}
