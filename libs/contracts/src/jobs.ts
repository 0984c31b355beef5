import type { z } from 'zod';
import { AnswerQuestionReply, AnswerQuestionRequest } from './agent.contract';
import { batchPayload, batchReply } from './batch.contract';
import { WarmAnswersPayload, WarmAnswersResult } from './cache.contract';
import { RecordExchangePayload, RecordExchangesPayload } from './exchange.contract';
import { IngestDocumentPayload, type IngestionStage, ReanalyzeDocumentPayload, ReanalyzeDocumentResult, ReembedCorpusPayload } from './ingestion.contract';
import { QueueName } from './queues';
import { SearchChunksReply, SearchChunksRequest } from './retrieval.contract';
import { PurgeQueryLogPayload, ReconcileDocumentsPayload, ReconcileTasksPayload, WarmAnswerCachesPayload } from './scheduler.contract';
import { CancelTaskRequest, DeliverTaskWebhookPayload, RunTaskPayload, SubmitTaskReply, SubmitTaskRequest, TaskView } from './task.contract';

/** Every job name. The name decides the queue, the payload schema, the reply and the options. */
export const JobName = {
  IngestDocument: 'ingestion.ingest-document',
  ChunkDocument: 'ingestion.chunk-document',
  EmbedDocument: 'ingestion.embed-document',
  IndexDocument: 'ingestion.index-document',
  AnalyzeDocument: 'ingestion.analyze-document',
  ReembedCorpus: 'ingestion.reembed-corpus',
  ReanalyzeDocument: 'ingestion.reanalyze-document',
  SearchChunks: 'retrieval.search',
  SearchChunksBatch: 'retrieval.search-batch',
  AnswerQuestion: 'agent.answer',
  RecordExchange: 'agent.record-exchange',
  RecordExchanges: 'agent.record-exchanges',
  WarmAnswers: 'agent.warm-answers',
  PurgeQueryLog: 'task-scheduler.purge-query-log',
  ReconcileDocuments: 'task-scheduler.reconcile-documents',
  ReconcileTasks: 'task-scheduler.reconcile-tasks',
  SubmitTask: 'task-scheduler.submit-task',
  CancelTask: 'task-scheduler.cancel-task',
  RunTask: 'tasks.run',
  DeliverTaskWebhook: 'tasks.deliver-webhook',
  WarmAnswerCaches: 'task-scheduler.warm-answer-caches',
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
  /** What the handler returns, validated and kept as the job's return value (for whoever inspects the job); none: nothing is kept. */
  result?: z.ZodType;
}
/** Request/reply: the producer waits (up to `timeoutMs`) for the handler's validated reply. */
export interface RequestContract<P extends z.ZodType, R extends z.ZodType> extends BaseContract<P> {
  kind: 'request';
  reply: R;
  timeoutMs: number;
  /**
   * Set on a batch job: it carries up to `maxSize` requests of job `of` (see batch.contract.ts).
   * The transport answers it with `of`'s handler, once per request, and producers send concurrent
   * requests of `of` as batches on their own.
   */
  batch?: { of: JobName; maxSize: number };
}

const keepBriefly = { age: 60, count: 1000 };
const keepForInspection = { age: 7 * 24 * 3600, count: 10_000 };

// Request jobs are never retried by BullMQ: the caller is waiting, and retrying later would answer
// nobody. They are kept a minute after completion so a late waiter can still read the result.
const requestOptions: ContractJobOptions = { attempts: 1, removeOnComplete: keepBriefly, removeOnFail: keepBriefly };

// Transient failures (a model endpoint down, a lost connection) are retried with growing pauses;
// permanent ones (bad input) fail at once. Completed stage jobs are kept a day, so a re-delivered
// stage with the same deterministic id stays a no-op.
const stageOptions: ContractJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: keepForInspection,
};

// A lost record of a cached answer loses a conversation's start and a query-log row, never an
// answer: a few retries over outages, then it is kept for inspection.
const recordingOptions: ContractJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: keepBriefly,
  removeOnFail: keepForInspection,
};

const stage = (payload: typeof IngestDocumentPayload) =>
  ({ kind: 'event', queue: QueueName.Ingestion, payload, options: stageOptions }) satisfies EventContract<typeof IngestDocumentPayload>;

/** Searches per `retrieval.search-batch` job. */
const SEARCH_BATCH_MAX = 32;

export const jobContracts = {
  [JobName.IngestDocument]: stage(IngestDocumentPayload),
  [JobName.ChunkDocument]: stage(IngestDocumentPayload),
  [JobName.EmbedDocument]: stage(IngestDocumentPayload),
  [JobName.IndexDocument]: stage(IngestDocumentPayload),
  [JobName.AnalyzeDocument]: stage(IngestDocumentPayload),
  [JobName.ReembedCorpus]: {
    kind: 'event',
    queue: QueueName.Ingestion,
    payload: ReembedCorpusPayload,
    options: { ...stageOptions, attempts: 10 },
  } satisfies EventContract<typeof ReembedCorpusPayload>,
  // Queued by the document.reanalyze task, which reads the result. A missing or unindexed document
  // fails at once (UnrecoverableError); a model endpoint down is tried again.
  [JobName.ReanalyzeDocument]: {
    kind: 'event',
    queue: QueueName.Ingestion,
    payload: ReanalyzeDocumentPayload,
    result: ReanalyzeDocumentResult,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof ReanalyzeDocumentPayload>,
  [JobName.SearchChunks]: {
    kind: 'request',
    queue: QueueName.Retrieval,
    payload: SearchChunksRequest,
    reply: SearchChunksReply,
    timeoutMs: 10_000,
    options: requestOptions,
  } satisfies RequestContract<typeof SearchChunksRequest, typeof SearchChunksReply>,
  [JobName.SearchChunksBatch]: {
    kind: 'request',
    queue: QueueName.Retrieval,
    payload: batchPayload(SearchChunksRequest, SEARCH_BATCH_MAX),
    reply: batchReply(SearchChunksReply),
    timeoutMs: 10_000,
    options: requestOptions,
    batch: { of: JobName.SearchChunks, maxSize: SEARCH_BATCH_MAX },
  } satisfies RequestContract<ReturnType<typeof batchPayload<typeof SearchChunksRequest>>, ReturnType<typeof batchReply<typeof SearchChunksReply>>>,
  [JobName.AnswerQuestion]: {
    kind: 'request',
    queue: QueueName.Agent,
    payload: AnswerQuestionRequest,
    reply: AnswerQuestionReply,
    timeoutMs: 60_000,
    options: requestOptions,
  } satisfies RequestContract<typeof AnswerQuestionRequest, typeof AnswerQuestionReply>,
  [JobName.RecordExchange]: {
    kind: 'event',
    queue: QueueName.Agent,
    payload: RecordExchangePayload,
    options: recordingOptions,
  } satisfies EventContract<typeof RecordExchangePayload>,
  [JobName.RecordExchanges]: {
    kind: 'event',
    queue: QueueName.Agent,
    payload: RecordExchangesPayload,
    options: recordingOptions,
  } satisfies EventContract<typeof RecordExchangesPayload>,
  [JobName.WarmAnswers]: {
    kind: 'event',
    queue: QueueName.Agent,
    payload: WarmAnswersPayload,
    result: WarmAnswersResult,
    // Idempotent (cached questions are skipped): retried over an outage, then kept for inspection.
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: keepForInspection, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof WarmAnswersPayload>,
  [JobName.PurgeQueryLog]: {
    kind: 'event',
    queue: QueueName.Scheduler,
    payload: PurgeQueryLogPayload,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: keepBriefly, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof PurgeQueryLogPayload>,
  [JobName.ReconcileDocuments]: {
    kind: 'event',
    queue: QueueName.Scheduler,
    payload: ReconcileDocumentsPayload,
    options: { attempts: 1, removeOnComplete: keepBriefly, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof ReconcileDocumentsPayload>,
  [JobName.ReconcileTasks]: {
    kind: 'event',
    queue: QueueName.Scheduler,
    payload: ReconcileTasksPayload,
    options: { attempts: 1, removeOnComplete: keepBriefly, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof ReconcileTasksPayload>,
  [JobName.SubmitTask]: {
    kind: 'request',
    queue: QueueName.Scheduler,
    payload: SubmitTaskRequest,
    reply: SubmitTaskReply,
    timeoutMs: 10_000,
    options: requestOptions,
  } satisfies RequestContract<typeof SubmitTaskRequest, typeof SubmitTaskReply>,
  [JobName.CancelTask]: {
    kind: 'request',
    queue: QueueName.Scheduler,
    payload: CancelTaskRequest,
    reply: TaskView,
    timeoutMs: 10_000,
    options: requestOptions,
  } satisfies RequestContract<typeof CancelTaskRequest, typeof TaskView>,
  // One run of a task. Never retried by BullMQ: the task's own maxRetries and backoff decide (the
  // task-scheduler puts the next run on the queue); a run whose worker died is handed on by
  // BullMQ's stalled-job check and taken over.
  [JobName.RunTask]: {
    kind: 'event',
    queue: QueueName.Tasks,
    payload: RunTaskPayload,
    options: { attempts: 1, removeOnComplete: keepBriefly, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof RunTaskPayload>,
  // A receiver down for a while still gets the push: 8 tries over about 10 minutes (5 s, 10 s, 20 s …).
  [JobName.DeliverTaskWebhook]: {
    kind: 'event',
    queue: QueueName.Tasks,
    payload: DeliverTaskWebhookPayload,
    options: { attempts: 8, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: keepBriefly, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof DeliverTaskWebhookPayload>,
  [JobName.WarmAnswerCaches]: {
    kind: 'event',
    queue: QueueName.Scheduler,
    payload: WarmAnswerCachesPayload,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 5000 }, removeOnComplete: keepBriefly, removeOnFail: keepForInspection },
  } satisfies EventContract<typeof WarmAnswerCachesPayload>,
} as const;

type Contracts = typeof jobContracts;

/** The job that runs each ingestion step. */
export const STAGE_JOB_NAME = {
  parse: JobName.IngestDocument,
  chunk: JobName.ChunkDocument,
  embed: JobName.EmbedDocument,
  index: JobName.IndexDocument,
} as const satisfies Record<IngestionStage, JobName>;
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

/** The batch job that carries requests of `name`, if it has one. */
export function batchJobFor(name: string): { name: JobName; maxSize: number } | undefined {
  for (const [batchName, contract] of Object.entries(jobContracts) as Array<[JobName, AnyJobContract]>) {
    if (contract.kind === 'request' && contract.batch?.of === name) return { name: batchName, maxSize: contract.batch.maxSize };
  }
  return undefined;
}

export function jobNamesOnQueue(queue: QueueName): JobName[] {
  return (Object.keys(jobContracts) as JobName[]).filter((name) => jobContracts[name].queue === queue);
}
