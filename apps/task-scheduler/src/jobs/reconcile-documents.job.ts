import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { INGESTION_STAGES, type IngestionStage, JobName, type PayloadOf, QueueName, STAGE_JOB_NAME, stageJobId } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { type DataSource, type DocumentEntity, DocumentRepository, ProcessingJobRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import type { SchedulerConfig } from '../config';

// A step job in one of these states will still run (an active one whose worker died is re-run by
// BullMQ's stalled-job check), so its document is not stuck.
const ALIVE = new Set(['waiting', 'prioritized', 'active', 'delayed', 'waiting-children']);

/**
 * Re-drives documents stuck in `queued`/`processing` (a crash between steps, a job lost with a
 * flushed Redis, an enqueue that failed): re-adds the step job the document is at, under its
 * deterministic id, unless that job is still alive. Steps skip work whose output already exists, so
 * a re-drive resumes where the document stopped. A step that keeps crashing is given up on.
 */
@Controller()
export class ReconcileDocumentsJob {
  private readonly documents: DocumentRepository;
  private readonly attempts: ProcessingJobRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.attempts = new ProcessingJobRepository(dataSource);
  }

  @EventPattern(JobName.ReconcileDocuments)
  async handle(@Payload() payload: PayloadOf<typeof JobName.ReconcileDocuments>): Promise<void> {
    const stuck = await this.documents.findStuck(payload.stuckForSeconds ?? this.config.RECONCILE_STUCK_SECONDS);
    let redriven = 0;
    for (const document of stuck) {
      if (await this.redrive(document)) redriven++;
    }
    if (stuck.length > 0) this.logger.info('reconciled stuck documents', { found: stuck.length, redriven });
  }

  private async redrive(document: DocumentEntity): Promise<boolean> {
    const stage = (INGESTION_STAGES as readonly string[]).includes(document.stage ?? '') ? (document.stage as IngestionStage) : 'parse';
    const sha256 = document.sha256.trim();
    const jobId = stageJobId(stage, document.id, sha256);
    const queue = this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
    const existing = await queue.getJob(jobId);
    if (existing && ALIVE.has(await existing.getState())) return false;
    if ((await this.attempts.attemptCount(document.id, stage)) >= this.config.RECONCILE_MAX_STEP_ATTEMPTS) {
      await this.documents.markFailed(document.id, `the ${stage} step did not finish after ${this.config.RECONCILE_MAX_STEP_ATTEMPTS} attempts; giving up`);
      this.logger.warn('gave up on a document that keeps failing', { documentId: document.id, stage });
      return false;
    }
    await existing?.remove().catch(() => undefined);
    await this.documents.touch(document.id);
    await this.jobs.publish(STAGE_JOB_NAME[stage], { tenantId: document.tenantId, documentId: document.id, sha256 }, { jobId });
    this.logger.info('re-drove a stuck document', { documentId: document.id, stage, previousJob: existing ? 'finished' : 'missing' });
    return true;
  }
}
