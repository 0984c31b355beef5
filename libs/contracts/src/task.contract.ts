import { z } from 'zod';
import { JobMeta, TenantId, safeShortText } from './common.schema';
import { TASK_TYPES, type TaskType } from './task-types';

/**
 * Background tasks (issue 12): work an operator or a producer submits, that the task-scheduler
 * runs, and that anyone with the tenant's key can follow and cancel. Postgres holds the task (the
 * record); BullMQ runs it (the executor).
 */

/** Served in this order (critical first); within a priority, in submission order. */
export const TaskPriority = z.enum(['low', 'normal', 'high', 'critical']);
export type TaskPriority = z.infer<typeof TaskPriority>;

/**
 * `pending`: ready, queued to run · `scheduled`: waits for its time (runAt, the next cron
 * occurrence, or a retry's backoff) · `waiting`: waits for its dependencies · `running` ·
 * `completed` · `failed` · `cancelled`. The last three are final (a cron task is final only once
 * cancelled: after each occurrence it is `scheduled` again).
 */
export const TaskStatus = z.enum(['pending', 'scheduled', 'waiting', 'running', 'completed', 'failed', 'cancelled']);
export type TaskStatus = z.infer<typeof TaskStatus>;

export const FINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set<TaskStatus>(['completed', 'failed', 'cancelled']);

/** A task runs once each task it depends on has reached the status it requires (default: completed). */
export const TaskDependency = z
  .object({
    taskId: z.uuid(),
    requiredStatus: z.enum(['completed', 'failed', 'cancelled']).default('completed'),
  })
  .strict();
export type TaskDependency = z.infer<typeof TaskDependency>;

/** Retries wait this long times 2^(attempt - 1): 2 s, 4 s, 8 s … */
export const TASK_RETRY_BASE_DELAY_MS = 2000;
export const TASK_MAX_DEPENDENCIES = 32;
const METADATA_MAX_BYTES = 4096;

const TaskTypeName = z.enum(Object.keys(TASK_TYPES) as [TaskType, ...TaskType[]], {
  error: () => `unknown task type; known types: ${Object.keys(TASK_TYPES).join(', ')}`,
});

/**
 * Where the task's end is pushed: a POST of `{ type: 'task.completed' | 'task.failed' |
 * 'task.cancelled', timestamp, data: TaskView }`, signed as Standard Webhooks signs (headers
 * webhook-id, webhook-timestamp, webhook-signature = `v1,` + base64 HMAC-SHA256 over
 * `id.timestamp.body`), so any Standard Webhooks library verifies it. Retried with backoff until
 * a 2xx. The secret is stored to sign and never returned.
 */
export const TaskWebhook = z
  .object({
    url: z
      .url({ protocol: /^https?$/, error: 'webhook.url must be an http(s) URL' })
      .max(2048)
      .refine((url) => !new URL(url).username && !new URL(url).password, 'webhook.url must not carry credentials; sign with the secret instead'),
    /** A Standard Webhooks secret, `whsec_` and base64 of at least 24 random bytes: every Standard Webhooks library verifies with it as given. */
    secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32,340}={0,2}$/, 'webhook.secret must be whsec_ followed by the base64 of at least 24 random bytes'),
  })
  .strict();
export type TaskWebhook = z.infer<typeof TaskWebhook>;

/** Where the push of a task's end stands: `pending` until tried, `retrying` after a failed try, then `delivered`, `failed` (retries exhausted) or `refused` (the address is not allowed). */
export const TaskWebhookDelivery = z.object({
  status: z.enum(['pending', 'retrying', 'delivered', 'failed', 'refused']),
  attempts: z.number().int().min(0),
  /** The receiver's HTTP status on the last try, if it answered. */
  responseStatus: z.number().int().nullable(),
  error: z.string().nullable(),
  deliveredAt: z.iso.datetime().nullable(),
});
export type TaskWebhookDelivery = z.infer<typeof TaskWebhookDelivery>;

/** A task as submitted, without whose it is: `POST /api/tasks` takes this (the tenant comes from the caller's key). */
export const TaskSubmission = z.object({
  type: TaskTypeName,
  /** Validated against the type's own schema (task-types.ts). */
  params: z.record(z.string(), z.unknown()).default({}),
  priority: TaskPriority.default('normal'),
  dependsOn: z.array(TaskDependency).max(TASK_MAX_DEPENDENCIES).default([]),
  /** Not before this instant (ISO 8601 with offset). */
  runAt: z.iso.datetime({ offset: true }).optional(),
  /** A cron pattern (5 fields, or 6 with seconds; UTC): the task runs at every occurrence until cancelled. */
  cron: safeShortText(z.string().min(9).max(120)).optional(),
  /** Each run is stopped and the task failed after this long. */
  timeoutSeconds: z.number().int().min(1).max(7 * 24 * 3600).default(3600),
  /** Failed runs tried again (with exponential backoff) before the task fails. */
  maxRetries: z.number().int().min(0).max(20).default(2),
  /** The caller's own labels, returned as given. */
  metadata: z
    .record(safeShortText(z.string().max(64)), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]))
    .refine((value) => JSON.stringify(value).length <= METADATA_MAX_BYTES, `metadata must be at most ${METADATA_MAX_BYTES} bytes as JSON`)
    .default({}),
  /** The same key from the same tenant names the same task: a retried submission creates one task. */
  idempotencyKey: safeShortText(z.string().min(1).max(200)).optional(),
  /** Pushed the task's end (completed, failed, cancelled). */
  webhook: TaskWebhook.optional(),
});

/** What a submission must also hold: params its type takes, runAt or cron (not both), no dependencies on a cron task. */
export function checkTaskSubmission(submission: z.output<typeof TaskSubmission>, context: z.RefinementCtx): void {
  if (submission.runAt !== undefined && submission.cron !== undefined) context.addIssue({ code: 'custom', path: ['cron'], message: 'give runAt or cron, not both' });
  if (submission.cron !== undefined && submission.dependsOn.length > 0) context.addIssue({ code: 'custom', path: ['dependsOn'], message: 'a cron task cannot depend on other tasks' });
  const parsed = TASK_TYPES[submission.type].params.safeParse(submission.params);
  if (!parsed.success) for (const issue of parsed.error.issues) context.addIssue({ ...issue, path: ['params', ...issue.path] });
}

/** What a producer puts on the task-scheduler's queue (`task-scheduler.submit-task`). */
export const SubmitTaskRequest = JobMeta.extend({ tenantId: TenantId }).extend(TaskSubmission.shape).strict().superRefine(checkTaskSubmission);
export type SubmitTaskRequest = z.input<typeof SubmitTaskRequest>;

/** What a task is and where it stands (`GET /api/tasks/:id`, and every reply about a task). */
export const TaskView = z.object({
  id: z.uuid(),
  type: TaskTypeName,
  params: z.record(z.string(), z.unknown()),
  priority: TaskPriority,
  status: TaskStatus,
  /** 0-100, as the handler last reported it. */
  progress: z.number().min(0).max(100),
  progressMessage: z.string().nullable(),
  result: z.unknown().nullable(),
  error: z.string().nullable(),
  /** Runs started, retries and cron occurrences included. */
  attempts: z.number().int().min(0),
  maxRetries: z.number().int().min(0),
  timeoutSeconds: z.number().int().min(1),
  dependsOn: z.array(TaskDependency),
  runAt: z.iso.datetime().nullable(),
  cron: z.string().nullable(),
  /** When it runs next (runAt, a retry's backoff, the next cron occurrence), while scheduled. */
  nextRunAt: z.iso.datetime().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  idempotencyKey: z.string().nullable(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  /** Of the last run: wall time and the worker process's CPU time while it ran. */
  usage: z.object({ durationMs: z.number().min(0), cpuMs: z.number().min(0) }).nullable(),
  /** The webhook's address and its delivery (null until the task has ended); null without a webhook. The secret is never shown. */
  webhook: z.object({ url: z.string(), delivery: TaskWebhookDelivery.nullable() }).nullable(),
});
export type TaskView = z.infer<typeof TaskView>;

export const SubmitTaskReply = z.object({
  task: TaskView,
  /** False when the idempotency key named a task already submitted (that task is returned). */
  created: z.boolean(),
});
export type SubmitTaskReply = z.infer<typeof SubmitTaskReply>;

/** Cancels a task that has not ended; a running one is stopped wherever it runs. */
export const CancelTaskRequest = JobMeta.extend({ tenantId: TenantId, taskId: z.uuid() }).strict();
export type CancelTaskRequest = z.input<typeof CancelTaskRequest>;

/** Runs one task (put on the queue by the task-scheduler; a foreign producer's is checked against the task's row). */
export const RunTaskPayload = JobMeta.extend({
  tenantId: TenantId,
  taskId: z.uuid(),
  /** Which run this job is (1 for the first): a job handed on after its worker died takes over only that run, never a newer one. */
  run: z.number().int().min(1).optional(),
});
export type RunTaskPayload = z.input<typeof RunTaskPayload>;

/** Pushes an ended task's webhook (put on the queue by the task-scheduler; a foreign producer's only re-sends the task's own push). */
export const DeliverTaskWebhookPayload = JobMeta.extend({ tenantId: TenantId, taskId: z.uuid() });
export type DeliverTaskWebhookPayload = z.input<typeof DeliverTaskWebhookPayload>;

/**
 * Tasks take BullMQ priorities by band (1 is served first): a band's first priority here, and a
 * tenant's task goes `n` places into its band when the tenant already has `n` tasks pending in it,
 * so tenants take turns within a priority — one tenant's 100 tasks do not hold another's one.
 */
export const TASK_PRIORITY_BAND_SIZE = 100_000;
export const TASK_QUEUE_PRIORITY: Record<TaskPriority, number> = { critical: 1, high: 1 + TASK_PRIORITY_BAND_SIZE, normal: 1 + 2 * TASK_PRIORITY_BAND_SIZE, low: 1 + 3 * TASK_PRIORITY_BAND_SIZE };
