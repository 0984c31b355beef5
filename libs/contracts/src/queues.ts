/** Every BullMQ queue Quarry uses: one per consuming service, and the task-scheduler's task runs on their own. */
export const QueueName = {
  Ingestion: 'ingestion',
  Retrieval: 'retrieval',
  Agent: 'agent',
  Scheduler: 'task-scheduler',
  /** Runs of background tasks, consumed by the task-scheduler apart from its own control jobs: a long task never holds up a submit, a cancel or housekeeping. */
  Tasks: 'tasks',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
