import { z } from 'zod';
import { JobMeta } from './common.schema';

/** Housekeeping run by the task-scheduler on a repeating schedule (or put on the queue by hand). */
export const PurgeQueryLogPayload = JobMeta.extend({
  olderThanDays: z.number().int().min(1).max(3650).optional(),
});
export type PurgeQueryLogPayload = z.infer<typeof PurgeQueryLogPayload>;

/**
 * Finds documents stuck in a non-terminal state (e.g. after a crash or a lost job) and re-drives
 * them. `stuckForSeconds` 0 looks at every live document: safe, because a document whose step job
 * is still alive in the queue is left alone (the scheduler uses it right after Redis lost its data).
 */
export const ReconcileDocumentsPayload = JobMeta.extend({
  stuckForSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional(),
});
export type ReconcileDocumentsPayload = z.infer<typeof ReconcileDocumentsPayload>;

/**
 * Puts back the queue jobs of tasks that lost theirs (a flushed Redis, a run job that failed on an
 * outage, a crash between a task's end and its webhook push): pending and overdue scheduled tasks
 * and pending pushes unchanged for `staleForSeconds` (default RECONCILE_STUCK_SECONDS) whose job is
 * not alive in the queue.
 */
export const ReconcileTasksPayload = JobMeta.extend({
  staleForSeconds: z.number().int().min(0).max(7 * 24 * 3600).optional(),
});
export type ReconcileTasksPayload = z.infer<typeof ReconcileTasksPayload>;

/**
 * A service saw a cache kind's hit rate stay under CACHE_HIT_RATE_WARNING (the gateway, for its
 * answer cache): the task-scheduler warms the answer cache of every tenant that asked questions
 * lately, at most once an hour per tenant. Also what the nightly schedule puts on the queue
 * (`trigger: 'nightly'`, once a day per tenant).
 */
export const WarmAnswerCachesPayload = JobMeta.extend({
  trigger: z.enum(['nightly', 'low-hit-rate']),
  kind: z.string().max(64).optional(),
  hitRate: z.number().min(0).max(1).optional(),
});
export type WarmAnswerCachesPayload = z.input<typeof WarmAnswerCachesPayload>;
