import { z } from 'zod';
import { safeShortText, safeText } from './common.schema';

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
  /**
   * The zero-downtime re-embedding (ingestion.reembed-corpus) as a task. With `model` and/or
   * `dimensions` it makes that embedding — on the active version's provider and endpoint, never a
   * URL or key from a client — the one being built, then follows the re-embedding to its switch;
   * without them it follows the re-embedding already under way. Embedding versions belong to the
   * whole installation: this moves every tenant's chunks, hence admin only. Set the ingestion's
   * EMBEDDING_* to the same model, or its next boot re-embeds back to the configured one.
   */
  'corpus.reembed': {
    params: z
      .object({
        model: safeShortText(z.string().trim().min(1).max(200)).optional(),
        dimensions: z.number().int().min(8).max(4096).optional(),
      })
      .strict(),
    installationWide: true,
    summary: "re-embeds every tenant's chunks with another embedding model or size, without downtime (installation-wide: operators only)",
  },
  /**
   * Rebuilds the tenant's part of every retrieval replica's index from Postgres: an index change is
   * logged for each of the tenant's indexed documents, and every replica — however many, and those
   * down right now once they are back — reloads those documents' chunks from the feed.
   */
  'corpus.reindex': {
    params: z.object({}).strict(),
    summary: "rebuilds the tenant's search index on every retrieval replica from Postgres",
  },
  /** Runs document analysis again (ingestion.reanalyze-document): of the given documents, or of all the tenant's indexed ones. */
  'document.reanalyze': {
    params: z
      .object({
        documentIds: z.array(z.uuid({ message: 'document ids are UUIDs' })).min(1).max(1000).optional(),
      })
      .strict(),
    summary: "runs document analysis again for the given documents, or for all of the tenant's",
  },
  /**
   * Retrieval quality of the tenant's corpus through the retrieval service: nDCG@10, Recall@k and
   * MRR@10 over either a BEIR folder's judged queries (`dataset`, relative to the task-scheduler's
   * EVAL_DATA_DIR; its corpus uploaded into the tenant as `<corpus id>.md`, as `npm run eval` does)
   * or the tenant's own labelled `questions`.
   */
  'eval.run': {
    params: z
      .object({
        dataset: safeShortText(z.string().min(1).max(500)).optional(),
        split: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'split is a qrels file name such as test or dev').default('test'),
        maxQueries: z.number().int().min(1).max(10_000).optional(),
        questions: z
          .array(
            z
              .object({
                question: safeText(z.string().trim().min(1).max(4000)),
                relevantDocumentIds: z.array(z.uuid({ message: 'document ids are UUIDs' })).min(1).max(100),
              })
              .strict(),
          )
          .min(1)
          .max(1000)
          .optional(),
        mode: z.enum(['hybrid', 'lexical', 'dense']).default('hybrid'),
        recallK: z.number().int().min(1).max(200).default(100),
      })
      .strict()
      .refine((params) => (params.dataset === undefined) !== (params.questions === undefined), 'give either dataset (a BEIR folder) or questions, not both or neither'),
    summary: "measures retrieval quality (nDCG@10, Recall@k, MRR@10) on a BEIR dataset or the tenant's own labelled questions",
  },
} as const satisfies Record<string, { params: z.ZodType; summary: string; installationWide?: true }>;

export type TaskType = keyof typeof TASK_TYPES;
export type TaskParamsOf<T extends TaskType> = z.output<(typeof TASK_TYPES)[T]['params']>;

/** A type whose work reaches every tenant: only operators (the gateway's OPERATOR_TENANT admin keys) may submit it. */
export function isInstallationWideTask(type: TaskType): boolean {
  const declared = TASK_TYPES[type];
  return 'installationWide' in declared && declared.installationWide;
}
