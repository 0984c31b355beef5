import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { INGESTION_STAGES, type IngestionStage, JobName, type PayloadOf, QueueName, STAGE_JOB_NAME, stageJobId } from '@quarry/contracts';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import {
  ArtifactRepository,
  type DataSource,
  DocumentRepository,
  ProcessingJobRepository,
  type StuckDocument,
  type StuckPosition,
} from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import type { Queue } from 'bullmq';
import type { SchedulerConfig } from '../config';
import { resumeStage } from '../services/resume-stage';
import { type StageJobStates, isAlive, stageJobStates, stalledFailureMessage, stalledTooOften } from '../services/stage-job-states';

/** Candidates read per query. */
const PAGE_SIZE = 500;
/** Documents whose jobs are looked up at once (one to four small Redis calls each). */
const CONCURRENT_CHECKS = 20;

export interface ReconcileSummary {
  /** Candidates looked at this round. */
  looked: number;
  /** Left alone: one of their step jobs is still alive in the queue. */
  alive: number;
  redriven: number;
  gaveUp: number;
}

type Outcome = 'alive' | 'redriven' | 'gaveUp';

/**
 * Re-drives documents stuck in `queued`/`processing` (a crash between steps, a job lost with a
 * flushed Redis, an enqueue that failed, a step whose last attempt hit an outage): a document none
 * of whose step jobs is alive resumes at the first step whose output is missing, under that step's
 * deterministic id (a finished job left there is removed first, or the add would be a no-op).
 *
 * A round pages through every candidate by keyset, up to RECONCILE_MAX_DOCUMENTS_PER_ROUND, and the
 * next round goes on where it stopped, so lost documents behind a large, healthy backlog are still
 * reached. Only real failures count against a document: a job BullMQ failed because its workers kept
 * dying is recorded as one; after RECONCILE_MAX_STEP_ATTEMPTS of them at a step, it is given up on.
 */
@Controller()
export class ReconcileDocumentsJob {
  private readonly documents: DocumentRepository;
  private readonly artifacts: ArtifactRepository;
  private readonly attempts: ProcessingJobRepository;
  /** Where the previous round stopped (undefined: at the start). */
  private position: StuckPosition | undefined;
  /** Rounds in this process run one after the other (a scheduled one and an immediate one may meet). */
  private previousRound: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(SERVICE_CONFIG) private readonly config: SchedulerConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.artifacts = new ArtifactRepository(dataSource);
    this.attempts = new ProcessingJobRepository(dataSource);
    for (const stage of INGESTION_STAGES) {
      for (const cause of ['missing', 'failed', 'completed']) this.metrics.documentsRedriven.inc({ stage, cause }, 0);
    }
  }

  @EventPattern(JobName.ReconcileDocuments)
  handle(@Payload() payload: PayloadOf<typeof JobName.ReconcileDocuments>): Promise<ReconcileSummary> {
    const round = this.previousRound.then(() => this.reconcile(payload.stuckForSeconds ?? this.config.RECONCILE_STUCK_SECONDS));
    this.previousRound = round.catch(() => undefined);
    return round;
  }

  private async reconcile(stuckForSeconds: number): Promise<ReconcileSummary> {
    const cap = this.config.RECONCILE_MAX_DOCUMENTS_PER_ROUND;
    const summary: ReconcileSummary = { looked: 0, alive: 0, redriven: 0, gaveUp: 0 };
    const startedAt = this.position;
    while (summary.looked < cap) {
      const limit = Math.min(PAGE_SIZE, cap - summary.looked);
      const page = await this.documents.findStuck(stuckForSeconds, { limit, after: this.position });
      for (let start = 0; start < page.length; start += CONCURRENT_CHECKS) {
        const outcomes = await Promise.all(page.slice(start, start + CONCURRENT_CHECKS).map((document) => this.recover(document)));
        for (const outcome of outcomes) summary[outcome]++;
      }
      summary.looked += page.length;
      // A short page is the end of the candidates: the next round starts from the oldest again.
      this.position = page.length < limit ? undefined : page[page.length - 1].position;
      if (!this.position) break;
    }
    if (summary.redriven > 0 || summary.gaveUp > 0 || summary.looked >= cap) {
      this.logger.info('reconciled stuck documents', { ...summary, stuckForSeconds, resumedMidway: startedAt !== undefined });
    }
    return summary;
  }

  private async recover(document: StuckDocument): Promise<Outcome> {
    const queue = this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
    // Every write below names the document's tenant, from the scan's own row.
    const states = await stageJobStates(queue, document);
    if (states === 'alive') return 'alive';
    await this.recordStalledJobs(queue, document, states);
    const stage = resumeStage(await this.artifacts.kinds(document.tenantId, document.id, document.sha256));
    const failures = await this.attempts.failures(document.tenantId, document.id, stage);
    if (failures.count >= this.config.RECONCILE_MAX_STEP_ATTEMPTS) return this.giveUp(document, stage, failures.count, failures.lastError);

    const jobId = stageJobId(stage, document.id, document.sha256);
    const previous = states[stage];
    if (previous === 'completed' || previous === 'failed') {
      try {
        await queue.remove(jobId);
      } catch (error) {
        // Re-added and taken by a worker meanwhile (another reconciler, a re-delivered step): alive.
        if (isAlive(await queue.getJobState(jobId))) return 'alive';
        throw error;
      }
    }
    await this.documents.touch(document.tenantId, document.id);
    await this.jobs.publish(STAGE_JOB_NAME[stage], { tenantId: document.tenantId, documentId: document.id, sha256: document.sha256 }, { jobId });
    const cause = previous === 'completed' || previous === 'failed' ? previous : 'missing';
    this.metrics.documentsRedriven.inc({ stage, cause });
    this.logger.info('re-drove a stuck document', { documentId: document.id, stage, recordedStage: document.stage, previousJob: cause });
    return 'redriven';
  }

  /**
   * A step job BullMQ failed because the workers running it died twice ("stalled more than
   * allowable limit") never reached the step's own failure handling: it is recorded here as a real
   * failure of that step, once (several reconcilers may see it, round after round).
   */
  private async recordStalledJobs(queue: Queue, document: StuckDocument, states: StageJobStates): Promise<void> {
    for (const stage of INGESTION_STAGES) {
      if (states[stage] !== 'failed') continue;
      const jobId = stageJobId(stage, document.id, document.sha256);
      const job = await queue.getJob(jobId);
      if (!job || !stalledTooOften(job)) continue;
      const recorded = await this.attempts.recordOnce({
        tenantId: document.tenantId,
        documentId: document.id,
        queueJobId: jobId,
        kind: stage,
        attempt: Math.max(1, job.attemptsMade),
        startedAt: new Date(job.processedOn ?? job.timestamp),
        finishedAt: job.finishedOn ? new Date(job.finishedOn) : undefined,
        status: 'failed',
        error: stalledFailureMessage(stage),
      });
      if (recorded) this.logger.warn('a step job stalled too often: counted as a failure', { documentId: document.id, stage });
    }
  }

  private async giveUp(document: StuckDocument, stage: IngestionStage, count: number, lastError: string | null): Promise<Outcome> {
    const reason = `the ${stage} step failed ${count} times; giving up${lastError ? ` (last failure: ${lastError})` : ''}`;
    if (await this.documents.markFailed(document.tenantId, document.id, reason)) {
      await this.artifacts.deleteAll(document.tenantId, document.id);
      this.metrics.documentsTotal.inc({ outcome: 'failed' });
      this.logger.warn('gave up on a document that keeps failing', { documentId: document.id, stage, failures: count });
    }
    return 'gaveUp';
  }
}
