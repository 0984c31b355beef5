import type { ServerResponse } from 'node:http';
import { ErrorCode, FINAL_TASK_STATUSES, type TaskView } from '@quarry/contracts';
import { isDomainError } from '@quarry/domain';
import { SseResponse } from '../query/sse-response';

/** How often a task stream reads its task (operators watch few tasks; a task's progress is written at most 4 times a second). */
export const TASK_STREAM_POLL_MS = 500;

/**
 * `GET /api/tasks/{id}/events`: a `task` event with the first view and whenever status, progress or
 * attempts change, then `done` once the task has ended. Each stream reads its own task every
 * TASK_STREAM_POLL_MS; a read that fails (Postgres away) is tried again at the next tick.
 */
export function streamTask(out: ServerResponse, first: TaskView, read: () => Promise<TaskView>, options: { heartbeatMs: number; headers: Record<string, string> }): SseResponse {
  const sse = new SseResponse(out, { heartbeatMs: options.heartbeatMs, headers: options.headers });
  let last = '';
  const show = (task: TaskView): boolean => {
    const fingerprint = JSON.stringify([task.status, task.progress, task.progressMessage, task.attempts, task.nextRunAt]);
    if (fingerprint !== last) sse.send('task', task);
    last = fingerprint;
    if (!FINAL_TASK_STATUSES.has(task.status)) return false;
    sse.send('done', task);
    sse.end();
    return true;
  };
  if (show(first)) return sse;
  const timer = setInterval(() => {
    read().then(show, (error: unknown) => {
      if (isDomainError(error) && error.code === ErrorCode.NotFound) {
        sse.send('error', { code: ErrorCode.NotFound, message: 'the task is gone' });
        sse.end();
      }
    });
  }, TASK_STREAM_POLL_MS);
  sse.whenEnded(() => clearInterval(timer));
  return sse;
}
