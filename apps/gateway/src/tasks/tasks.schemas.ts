import { TASK_TYPES, TaskStatus, TaskSubmission, TaskView, checkTaskSubmission } from '@quarry/contracts';
import { z } from 'zod';

// The shapes of the task routes: what the controller validates and what it answers. The OpenAPI
// document (apps/gateway/src/openapi) is generated from these very objects.

const EXAMPLE_ID = '7d4e1f0a-2b3c-4d5e-8f90-a1b2c3d4e5f6';
const TYPE_LIST = Object.entries(TASK_TYPES)
  .map(([type, { summary }]) => `\`${type}\` (${summary})`)
  .join('; ');

// ---- requests -------------------------------------------------------------------------------

export const SubmitTaskBody = TaskSubmission.strict()
  .superRefine(checkTaskSubmission)
  .meta({
    description: `A background task. Types: ${TYPE_LIST}. \`params\` is validated against the type's own schema.`,
    examples: [{ type: 'cache.warm', params: { topN: 50 }, priority: 'low', cron: '0 2 * * *' }, { type: 'retention.purge', params: { olderThanDays: 30 }, idempotencyKey: 'purge-2025-01-15' }],
  });
export type SubmitTaskBody = z.output<typeof SubmitTaskBody>;

export const TaskId = z.uuid({ message: 'task id must be a UUID' }).meta({ description: 'The id `POST /api/tasks` returned.', examples: [EXAMPLE_ID] });

/** Newest first, a page at a time; `after` is the last id of the previous page. */
export const ListTasksQuery = z.object({
  status: TaskStatus.optional().meta({ description: 'Only tasks in this status.' }),
  type: z.enum(Object.keys(TASK_TYPES) as [keyof typeof TASK_TYPES, ...Array<keyof typeof TASK_TYPES>]).optional().meta({ description: 'Only tasks of this type.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Page size.' }),
  after: z.uuid().optional().meta({ description: 'The last task id of the previous page.' }),
});
export type ListTasksQuery = z.output<typeof ListTasksQuery>;

// ---- responses ------------------------------------------------------------------------------

export const TaskReply = TaskView.meta({ description: 'A task and where it stands.' });

export const TaskPage = z
  .object({
    items: z.array(TaskView),
    nextAfter: z.uuid().nullable().meta({ description: 'Pass as `after` for the next page; null on the last one.' }),
  })
  .meta({ description: "One page of the tenant's tasks, newest first." });
export type TaskPage = z.output<typeof TaskPage>;

export const TaskStats = z
  .object({
    byStatus: z.record(z.string(), z.number().int()).meta({ description: 'Tasks per status.' }),
    byType: z.record(z.string(), z.record(z.string(), z.number().int())).meta({ description: 'Per type, tasks per status.' }),
    runMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }).meta({ description: 'Run time of completed tasks, in milliseconds.' }),
  })
  .meta({ description: "The tenant's tasks counted." });
export type TaskStats = z.output<typeof TaskStats>;

/** `GET /api/tasks/{id}/events`: a `task` event whenever the task changes, then `done` once it has ended. */
export const TASK_STREAM_EVENTS = {
  task: { data: TaskView, description: 'Sent first, then whenever status, progress or attempts change.' },
  done: { data: TaskView, description: 'The task once it has ended (completed, failed or cancelled); the stream ends after it.' },
  error: { data: z.object({ code: z.string(), message: z.string() }), description: 'The task is gone (`NOT_FOUND`); the stream ends after it.' },
} as const;
