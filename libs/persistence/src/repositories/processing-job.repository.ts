import type { DataSource } from 'typeorm';
import { ProcessingJobEntity } from '../entities/processing-job.entity';

export interface FinishedAttempt {
  documentId: string;
  queueJobId: string;
  kind: string;
  attempt: number;
  correlationId?: string;
  startedAt: Date;
  status: 'completed' | 'failed';
  error?: string;
}

/** A row per attempt of a pipeline job, so the API can show what happened to a document. */
export class ProcessingJobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records a finished attempt in one write (the hot path: no row while the step runs). */
  record(input: FinishedAttempt): Promise<void> {
    return this.recordMany([input]);
  }

  /** Several finished attempts in one write. */
  async recordMany(inputs: FinishedAttempt[]): Promise<void> {
    if (inputs.length === 0) return;
    await this.dataSource.getRepository(ProcessingJobEntity).insert(
      inputs.map((input) => ({
        documentId: input.documentId,
        queueJobId: input.queueJobId,
        kind: input.kind,
        attempt: input.attempt,
        status: input.status,
        error: input.error?.slice(0, 2000) ?? null,
        correlationId: input.correlationId ?? null,
        startedAt: input.startedAt,
        finishedAt: new Date(),
      })),
    );
  }

  /** How many attempts a step has had on a document (to give up on one that keeps crashing workers). */
  async attemptCount(documentId: string, kind: string): Promise<number> {
    return this.dataSource.getRepository(ProcessingJobEntity).countBy({ documentId, kind });
  }

  forDocument(documentId: string): Promise<ProcessingJobEntity[]> {
    return this.dataSource.getRepository(ProcessingJobEntity).find({ where: { documentId }, order: { startedAt: 'DESC' }, take: 20 });
  }
}
