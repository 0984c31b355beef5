import { DocumentStatus, ErrorCode, INGESTION_STAGES } from '@quarry/contracts';
import { z } from 'zod';

// The shapes of the job routes. The OpenAPI document (apps/gateway/src/openapi) is generated from
// these very objects.

const EXAMPLE_DOCUMENT_ID = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
const EXAMPLE_JOB_ID = `ingest-${EXAMPLE_DOCUMENT_ID}-b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9`;

/**
 * A job id as the routes take it. It is not validated as such: anything that is not the id of one
 * of the tenant's jobs (a malformed id included) is simply an unknown job, 404.
 */
export const JobId = z.string().meta({
  description: 'The `jobId` an upload returned: `ingest-<documentId>-<sha256>`.',
  examples: [EXAMPLE_JOB_ID],
});

export const JobView = z
  .object({
    id: z.string(),
    documentId: z.uuid(),
    status: DocumentStatus,
    stage: z
      .string()
      .nullable()
      .meta({ description: `The pipeline step reached: ${INGESTION_STAGES.join(', ')}.` }),
    progress: z.number().min(0).max(100).meta({ description: 'Overall percent (100 once indexed).' }),
    error: z.string().nullable().meta({ description: 'Why the document failed, in words a user can act on.' }),
    updatedAt: z.iso.datetime(),
    attempts: z
      .array(
        z.object({
          stage: z.string(),
          attempt: z.number().int().min(1),
          status: z.enum(['active', 'completed', 'failed', 'interrupted']),
          error: z.string().nullable(),
        }),
      )
      .meta({ description: 'Every attempt of every step, oldest first.' }),
  })
  .meta({
    description: 'The ingestion of one document\'s content.',
    examples: [
      {
        id: EXAMPLE_JOB_ID,
        documentId: EXAMPLE_DOCUMENT_ID,
        status: 'processing',
        stage: 'embed',
        progress: 60,
        error: null,
        updatedAt: '2025-01-15T09:30:02.000Z',
        attempts: [
          { stage: 'parse', attempt: 1, status: 'completed', error: null },
          { stage: 'chunk', attempt: 1, status: 'completed', error: null },
          { stage: 'embed', attempt: 1, status: 'active', error: null },
        ],
      },
    ],
  });
export type JobView = z.output<typeof JobView>;

/** The data of an `error` event on a progress stream (the job went away: its document was deleted). */
export const JobStreamError = z
  .object({ code: z.enum(ErrorCode), message: z.string() })
  .meta({ description: 'Why the stream ended without a `done` event.', examples: [{ code: 'NOT_FOUND', message: `job ${EXAMPLE_JOB_ID} not found` }] });

/** The events of `GET /api/jobs/{id}/events`, by name: what each event's `data` line holds (JSON). */
export const JOB_STREAM_EVENTS = {
  progress: { data: JobView, description: 'Sent first, then whenever status, stage or percent change.' },
  done: { data: JobView, description: 'The final state (indexed, failed or cancelled); the stream ends after it.' },
  error: { data: JobStreamError, description: 'The job is gone (its document was deleted); the stream ends after it.' },
} as const;
