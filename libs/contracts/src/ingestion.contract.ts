import { z } from 'zod';
import { JobMeta, TenantId } from './common.schema';

/**
 * Every ingestion stage job carries the same payload: which document, and which content (the
 * sha256 the stage must still find on the document, so a job for replaced content does nothing).
 * `ingestion.ingest-document` is the public entry point (a foreign producer may add it for a stored
 * document); the later stages are chained by the pipeline itself.
 */
export const IngestDocumentPayload = JobMeta.extend({
  tenantId: TenantId,
  documentId: z.uuid(),
  sha256: z.string().regex(/^[a-f0-9]{64}$/, 'sha256 must be 64 lowercase hex characters'),
});
export type IngestDocumentPayload = z.infer<typeof IngestDocumentPayload>;

/** The pipeline's steps, in order; each is its own job, so a retry re-runs only the failed step. */
export const INGESTION_STAGES = ['parse', 'chunk', 'embed', 'index'] as const;
export type IngestionStage = (typeof INGESTION_STAGES)[number];

/**
 * Deterministic job ids (BullMQ forbids ":" in custom ids): re-delivery of the same stage for the
 * same content is a no-op while BullMQ still knows the job.
 */
export function stageJobId(stage: IngestionStage | 'analyze', documentId: string, sha256: string): string {
  return `${stage === 'parse' ? 'ingest' : stage}-${documentId}-${sha256}`;
}

/** The id the upload API returns and `/api/jobs/:id` accepts: the pipeline's first job. */
export function ingestJobId(documentId: string, sha256: string): string {
  return stageJobId('parse', documentId, sha256);
}

const JOB_ID_PATTERN = /^ingest-([0-9a-f-]{36})-([a-f0-9]{64})$/;

export function parseIngestJobId(jobId: string): { documentId: string; sha256: string } | undefined {
  const match = JOB_ID_PATTERN.exec(jobId);
  return match ? { documentId: match[1], sha256: match[2] } : undefined;
}

/** Builds the vectors of a new embedding version for every chunk, then switches to it. */
export const ReembedCorpusPayload = JobMeta.extend({
  versionId: z.number().int().positive(),
});
export type ReembedCorpusPayload = z.infer<typeof ReembedCorpusPayload>;

/** Runs a stored document's analysis again: parsed anew for the heuristic analysis, then the model's pass when a model is configured. */
export const ReanalyzeDocumentPayload = JobMeta.extend({
  tenantId: TenantId,
  documentId: z.uuid(),
});
export type ReanalyzeDocumentPayload = z.infer<typeof ReanalyzeDocumentPayload>;

/** What a re-analysis found (the job's return value, read by the task that queued it). */
export const ReanalyzeDocumentResult = z.object({
  documentId: z.uuid(),
  /** `llm` when the model's pass succeeded; `heuristic` without a model, or when its answer was unusable. */
  method: z.enum(['heuristic', 'llm']),
  language: z.string().nullable(),
});
export type ReanalyzeDocumentResult = z.infer<typeof ReanalyzeDocumentResult>;
