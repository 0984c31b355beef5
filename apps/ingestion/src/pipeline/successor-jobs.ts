import { type IngestDocumentPayload, type IngestionStage, QueueName, STAGE_JOB_NAME, stageJobId } from '@quarry/contracts';
import type { JobClient, QueueRegistry } from '@quarry/transport';

// A job in one of these states will still run (an active one whose worker died is re-run by
// BullMQ's stalled-job check): adding another under its id must not disturb it.
const ALIVE = new Set(['waiting', 'prioritized', 'active', 'delayed', 'waiting-children']);

/** What a step found under its successor's deterministic job id before adding the successor. */
export type PreviousJob =
  | { state: 'missing' }
  | { state: 'alive' }
  | { state: 'completed' | 'failed'; failedReason?: string; startedAt?: number; attemptsMade: number };

/**
 * Adds the job of the next step under its deterministic id. BullMQ ignores an add whose id it
 * still knows, and finished jobs are kept for days, so a successor that already failed (say, all
 * its attempts hit a Postgres outage) or completed in an earlier pass would turn the add into a
 * no-op and jam the document: such a job is removed and added afresh. A live one is left alone.
 */
export class SuccessorJobs {
  constructor(private readonly jobs: JobClient) {}

  async drive(stage: IngestionStage, payload: IngestDocumentPayload, priority?: number): Promise<PreviousJob> {
    const queue = this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
    const jobId = stageJobId(stage, payload.documentId, payload.sha256);
    const state = await queue.getJobState(jobId);
    if (ALIVE.has(state)) return { state: 'alive' };
    let previous: PreviousJob = { state: 'missing' };
    if (state === 'completed' || state === 'failed') {
      const finished = await queue.getJob(jobId);
      previous = { state, failedReason: finished?.failedReason, startedAt: finished?.processedOn, attemptsMade: finished?.attemptsMade ?? 0 };
      try {
        await queue.remove(jobId);
      } catch (error) {
        // Someone re-added it meanwhile and a worker holds it: it is alive again.
        if (ALIVE.has(await queue.getJobState(jobId))) return { state: 'alive' };
        throw error;
      }
    }
    await this.jobs.publish(STAGE_JOB_NAME[stage], payload, { jobId, priority });
    return previous;
  }
}
