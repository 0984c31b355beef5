/** Every BullMQ queue Quarry uses. One queue per consuming service. */
export const QueueName = {
  Ingestion: 'ingestion',
  Retrieval: 'retrieval',
  Agent: 'agent',
  Scheduler: 'task-scheduler',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];
