import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, INGESTION_STAGES, QueueName, parseIngestJobId, stageJobId } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { type DataSource, type DocumentEntity, type DocumentProgress, DocumentRepository, ProcessingJobRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import type { JobView } from './jobs.schemas';

/** An ingestion job as the API shows it (its schema is in jobs.schemas.ts, for the OpenAPI document). */
export type { JobView };

const TERMINAL = new Set(['indexed', 'failed', 'cancelled']);

/** The document fields a job view is built from (an entity, or a row the progress poller read). */
type ProgressFields = Pick<DocumentProgress, 'tenantId' | 'id' | 'status' | 'stage' | 'progress' | 'error' | 'updatedAt'>;

/** An ingestion job as the API shows it: the pipeline run of one document's content. */
@Injectable()
export class JobsService {
  private readonly documents: DocumentRepository;
  private readonly processing: ProcessingJobRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.processing = new ProcessingJobRepository(dataSource);
  }

  static isTerminal(view: Pick<JobView, 'status'>): boolean {
    return TERMINAL.has(view.status);
  }

  /** What a progress stream compares: a `progress` event goes out when this changes. */
  static fingerprint(document: Pick<JobView, 'status' | 'stage' | 'progress'>): string {
    return `${document.status}|${document.stage}|${document.status === 'indexed' ? 100 : document.progress}`;
  }

  async get(tenantId: string, jobId: string): Promise<JobView> {
    return this.viewOf(jobId, await this.documentOf(tenantId, jobId));
  }

  /** The job's view from its document's current fields, with the processing history (one more query). */
  async viewOf(jobId: string, document: ProgressFields): Promise<JobView> {
    const runs = await this.processing.forDocument(document.tenantId, document.id);
    return {
      id: jobId,
      documentId: document.id,
      status: document.status,
      stage: document.stage,
      progress: document.status === 'indexed' ? 100 : document.progress,
      error: document.error,
      updatedAt: document.updatedAt.toISOString(),
      attempts: runs.map((run) => ({ stage: run.kind, attempt: run.attempt, status: run.status, error: run.error })),
    };
  }

  /**
   * Cancels a queued or running job: the document becomes `cancelled` at once (its partial work is
   * deleted), waiting stage jobs are removed from the queue, and a running step notices within a
   * fraction of a second and stops. Cancelling a finished job is a conflict.
   */
  async cancel(tenantId: string, jobId: string): Promise<JobView> {
    const document = await this.documentOf(tenantId, jobId);
    if (!(await this.documents.cancel(tenantId, document.id))) {
      throw new DomainError(ErrorCode.Conflict, `job ${jobId} is already ${document.status}; nothing to cancel`);
    }
    const queue = this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
    await Promise.all(
      INGESTION_STAGES.map(async (stage) => {
        const job = await queue.getJob(stageJobId(stage, document.id, document.sha256.trim()));
        // A running step's job is locked; it stops by itself when it sees the cancellation.
        await job?.remove().catch(() => undefined);
      }),
    );
    return this.get(tenantId, jobId);
  }

  private async documentOf(tenantId: string, jobId: string): Promise<DocumentEntity> {
    const parsed = parseIngestJobId(jobId);
    const document = parsed ? await this.documents.findById(tenantId, parsed.documentId) : null;
    if (!parsed || !document || document.sha256.trim() !== parsed.sha256) throw new DomainError(ErrorCode.NotFound, `job ${jobId} not found`);
    return document;
  }
}
