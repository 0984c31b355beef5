import type { DataSource, EntityManager } from 'typeorm';
import { ProcessingJobEntity } from '../entities/processing-job.entity';

export interface FinishedAttempt {
  /** The document's tenant (a foreign key holds it to the document's). */
  tenantId: string;
  documentId: string;
  queueJobId: string;
  kind: string;
  attempt: number;
  correlationId?: string;
  startedAt: Date;
  /** When it ended; now unless recorded after the fact. */
  finishedAt?: Date;
  status: 'completed' | 'failed' | 'interrupted';
  error?: string;
}

/** The real failures of one step of a document (interruptions left out). */
export interface StepFailures {
  count: number;
  lastError: string | null;
}

/**
 * A row per attempt of a pipeline job, so the API can show what happened to a document. Every
 * method takes the document's tenant; a row whose tenant is not its document's cannot be written
 * (foreign key on (document_id, tenant_id)).
 */
export class ProcessingJobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records a finished attempt in one write (the hot path: no row while the step runs). */
  record(input: FinishedAttempt): Promise<void> {
    return this.recordMany([input]);
  }

  /** Several finished attempts in one write (inside the caller's transaction when given one). */
  async recordMany(inputs: FinishedAttempt[], manager: EntityManager = this.dataSource.manager): Promise<void> {
    if (inputs.length === 0) return;
    await manager.getRepository(ProcessingJobEntity).insert(
      inputs.map((input) => ({
        tenantId: input.tenantId,
        documentId: input.documentId,
        queueJobId: input.queueJobId,
        kind: input.kind,
        attempt: input.attempt,
        status: input.status,
        error: input.error?.slice(0, 2000) ?? null,
        correlationId: input.correlationId ?? null,
        startedAt: input.startedAt,
        finishedAt: input.finishedAt ?? new Date(),
      })),
    );
  }

  /**
   * Records an attempt learned about after the fact (a job BullMQ failed because its workers kept
   * dying), unless the same attempt — same job, step and start time — is recorded already: several
   * reconcilers may see the same failed job. True when it wrote the row.
   */
  async recordOnce(input: FinishedAttempt): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `INSERT INTO processing_jobs (tenant_id, document_id, queue_job_id, kind, attempt, status, error, correlation_id, started_at, finished_at)
       SELECT $10, $1, $2, $3, $4, $5, $6, $7, $8, $9
       WHERE NOT EXISTS (SELECT 1 FROM processing_jobs WHERE tenant_id = $10 AND document_id = $1 AND queue_job_id = $2 AND kind = $3 AND started_at = $8)
       RETURNING id`,
      [
        input.documentId,
        input.queueJobId,
        input.kind,
        input.attempt,
        input.status,
        input.error?.slice(0, 2000) ?? null,
        input.correlationId ?? null,
        input.startedAt,
        input.finishedAt ?? new Date(),
        input.tenantId,
      ],
    );
    return rows.length > 0;
  }

  /** How often a step really failed on a document (to give up on one that keeps failing). */
  async failures(tenantId: string, documentId: string, kind: string): Promise<StepFailures> {
    const rows: Array<{ count: number; last_error: string | null }> = await this.dataSource.query(
      `SELECT count(*)::int AS count, (array_agg(error ORDER BY finished_at DESC NULLS LAST))[1] AS last_error
       FROM processing_jobs WHERE tenant_id = $1 AND document_id = $2 AND kind = $3 AND status = 'failed'`,
      [tenantId, documentId, kind],
    );
    return { count: rows[0]?.count ?? 0, lastError: rows[0]?.last_error ?? null };
  }

  /** The steps that have a completed attempt on record for a document. */
  async completedKinds(tenantId: string, documentId: string): Promise<Set<string>> {
    const rows: Array<{ kind: string }> = await this.dataSource.query(
      `SELECT DISTINCT kind FROM processing_jobs WHERE tenant_id = $1 AND document_id = $2 AND status = 'completed'`,
      [tenantId, documentId],
    );
    return new Set(rows.map((row) => row.kind));
  }

  /** Deletes the tenant's finished attempts older than `days` (an active one is kept whatever its age); returns how many went. */
  async purgeFinishedOlderThan(tenantId: string, days: number): Promise<number> {
    const result: [unknown[], number] = await this.dataSource.query(
      `DELETE FROM processing_jobs WHERE tenant_id = $1 AND status <> 'active' AND coalesce(finished_at, started_at) < now() - make_interval(days => $2)`,
      [tenantId, days],
    );
    return result[1];
  }

  /** The latest attempts on a document, newest first. */
  forDocument(tenantId: string, documentId: string): Promise<ProcessingJobEntity[]> {
    return this.dataSource.getRepository(ProcessingJobEntity).find({ where: { tenantId, documentId }, order: { startedAt: 'DESC' }, take: 20 });
  }
}
