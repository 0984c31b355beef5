import { z } from 'zod';

/**
 * Every task type and its params. A type's handler lives in apps/task-scheduler/src/tasks/, one
 * file each; a submission naming a type not listed here is refused, and its params are validated
 * against the type's schema before a task is stored.
 */
export const TASK_TYPES = {
  /** The tenant's most asked questions (query log) answered into the answer cache (agent.warm-answers). */
  'cache.warm': {
    params: z
      .object({
        topN: z.number().int().min(1).max(1000).default(100),
        sinceDays: z.number().int().min(1).max(365).default(7),
      })
      .strict(),
    summary: "answers the tenant's most asked questions into the answer cache",
  },
  /**
   * Deletes what only grows: the tenant's query log and query traces, and its processing-job
   * records, past `olderThanDays` (default QUERY_LOG_RETENTION_DAYS); and rows that serve no one
   * any more, of every tenant: index changes every retrieval replica has applied, expired cache
   * entries, embedding-cache rows no chunk uses.
   */
  'retention.purge': {
    params: z
      .object({
        olderThanDays: z.number().int().min(1).max(3650).optional(),
      })
      .strict(),
    summary: 'deletes old query logs, traces and job records, and rows nothing uses any more',
  },
  /**
   * Checks the task system end to end: waits `seconds`, reporting progress each second, stops when
   * cancelled or timed out, and fails its first `failAttempts` runs (to see retries work).
   */
  'diagnostics.wait': {
    params: z
      .object({
        seconds: z.number().min(0).max(3600).default(1),
        failAttempts: z.number().int().min(0).max(20).default(0),
      })
      .strict(),
    summary: 'waits, reporting progress: checks that tasks run, retry, time out and cancel',
  },
} as const satisfies Record<string, { params: z.ZodType; summary: string }>;

export type TaskType = keyof typeof TASK_TYPES;
export type TaskParamsOf<T extends TaskType> = z.output<(typeof TASK_TYPES)[T]['params']>;
