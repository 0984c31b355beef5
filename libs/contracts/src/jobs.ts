import type { z } from 'zod';
import { AnswerQuestionReply, AnswerQuestionRequest } from './agent.contract';
import { IngestDocumentPayload } from './ingestion.contract';
import { QueueName } from './queues';
import { SearchChunksReply, SearchChunksRequest } from './retrieval.contract';
import { PurgeQueryLogPayload } from './scheduler.contract';

/** Every job name. The name decides the queue, the payload schema, the reply and the options. */
export const JobName = {
  IngestDocument: 'ingestion.ingest-document',
  SearchChunks: 'retrieval.search',
  AnswerQuestion: 'agent.answer',
  PurgeQueryLog: 'task-scheduler.purge-query-log',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

/** The subset of BullMQ job options a contract may set (kept structural: contracts import no BullMQ). */
export interface ContractJobOptions {
  attempts: number;
  backoff?: { type: 'exponential' | 'fixed'; delay: number };
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
  priority?: number;
}

interface BaseContract<P extends z.ZodType> {
  queue: QueueName;
  payload: P;
  options: ContractJobOptions;
}
/** Fire-and-forget: the producer does not wait for a result. */
export interface EventContract<P extends z.ZodType> extends BaseContract<P> {
  kind: 'event';
}
/** Request/reply: the producer waits (up to `timeoutMs`) for the handler's validated reply. */
export interface RequestContract<P extends z.ZodType, R extends z.ZodType> extends BaseContract<P> {
  kind: 'request';
  reply: R;
  timeoutMs: number;
}

const keepBriefly = { age: 60, count: 1000 };
const keepForInspection = { age: 7 * 24 * 3600, count: 10_000 };

// Request jobs are never retried by BullMQ: the caller is waiting, and retrying later would answer
// nobody. They are kept a minute after completion so a late waiter can still read the result.
const requestOptions: ContractJobOptions = { attempts: 1, removeOnComplete: keepBriefly, removeOnFail: keepBriefly };

export const jobContracts = {
  [JobName.IngestDocument]: {
    kind: 'event',
    queue: QueueName.Ingestion,
    payload: IngestDocumentPayload,
    options: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: keepForInspection,
    },
  } satisfies EventContract<typeof IngestDocumentPayload>,
  [JobName.SearchChunks]: {
    kind: 'request',
    queue: QueueName.Retrieval,
    payload: SearchChunksRequest,
    reply: SearchChunksReply,
    timeoutMs: 10_000,
    options: requestOptions,
  } satisfies RequestContract<typeof SearchChunksRequest, typeof SearchChunksReply>,
  [JobName.AnswerQuestion]: {
    kind: 'request',
    queue: QueueName.Agent,
    payload: AnswerQuestionRequest,
    reply: AnswerQuestionReply,
    timeoutMs: 60_000,
    options: requestOptions,
  } satisfies RequestContract<typeof AnswerQuestionRequest, typeof AnswerQuestionReply>,
  [JobName.PurgeQueryLog]: {
    kind: 'event',
    queue: QueueName.Scheduler,
    payload: PurgeQueryLogPayload,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: keepBriefly, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof PurgeQueryLogPayload>,
} as const;

type Contracts = typeof jobContracts;
export type RequestJobName = { [N in JobName]: Contracts[N]['kind'] extends 'request' ? N : never }[JobName];
export type EventJobName = { [N in JobName]: Contracts[N]['kind'] extends 'event' ? N : never }[JobName];

/** What a producer passes (defaults not yet applied). */
export type PayloadIn<N extends JobName> = z.input<Contracts[N]['payload']>;
/** What a handler receives, after validation and defaults. */
export type PayloadOf<N extends JobName> = z.output<Contracts[N]['payload']>;
export type ReplyOf<N extends RequestJobName> = Contracts[N] extends { reply: infer R extends z.ZodType } ? z.output<R> : never;

export type AnyJobContract = EventContract<z.ZodType> | RequestContract<z.ZodType, z.ZodType>;

export function contractFor(name: string): AnyJobContract | undefined {
  return Object.hasOwn(jobContracts, name) ? (jobContracts as Record<string, AnyJobContract>)[name] : undefined;
}

export function jobNamesOnQueue(queue: QueueName): JobName[] {
  return (Object.keys(jobContracts) as JobName[]).filter((name) => jobContracts[name].queue === queue);
}
