import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, type IngestDocumentPayload, type IngestionStage, JobName, STAGE_JOB_NAME, stageJobId } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { ArtifactRepository, type DataSource, type DocumentEntity, DocumentRepository, ProcessingJobRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, METRICS } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { ChunkStage } from '../stages/chunk.stage';
import type { EmbedStage } from '../stages/embed.stage';
import type { IndexStage } from '../stages/index.stage';
import type { ParseStage } from '../stages/parse.stage';
import { INLINE_STEPS_MAX_BYTES, MODEL_ANALYSIS_ENABLED } from '../tokens';
import { CancellationWatch } from './cancellation-watch';
import { type PipelineStage, STAGE_PROGRESS } from './stage';

/** The four steps, for documents small enough to run them back to back in one job. */
export interface AllStages {
  parse: ParseStage;
  chunk: ChunkStage;
  embed: EmbedStage;
  index: IndexStage;
}

export interface StageJob {
  payload: IngestDocumentPayload;
  queueJobId: string;
  attempt: number;
  isFinalAttempt: boolean;
  priority?: number;
}

type AttemptRecord = Omit<Parameters<ProcessingJobRepository['record']>[0], 'status' | 'error'>;

const NEXT_STAGE: Record<IngestionStage, IngestionStage | undefined> = { parse: 'chunk', chunk: 'embed', embed: 'index', index: undefined };

/**
 * Runs one pipeline step for one document: guards on persisted state (gone, other content, final:
 * do nothing, so re-delivery is harmless), records the attempt, watches for cancellation, then
 * chains the next step with a deterministic job id. A permanent error, or a transient one on the
 * last attempt, fails the document with a readable reason and deletes its partial work; a
 * transient one otherwise is rethrown so BullMQ retries just this step.
 */
@Injectable()
export class StageRunner {
  private readonly documents: DocumentRepository;
  private readonly artifacts: ArtifactRepository;
  private readonly attempts: ProcessingJobRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
    @Inject(INLINE_STEPS_MAX_BYTES) private readonly inlineMaxBytes: number,
    @Inject(MODEL_ANALYSIS_ENABLED) private readonly modelAnalysis: boolean,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.artifacts = new ArtifactRepository(dataSource);
    this.attempts = new ProcessingJobRepository(dataSource);
  }

  /**
   * The first step. A small document (up to INLINE_STEPS_MAX_BYTES) runs all four steps back to back
   * in this one job, because for it the queue hops and stored intermediate outputs cost far more
   * than the work; a retry then re-runs all four, which for a small document is cheap. Larger
   * documents run one job per step, so a retry re-runs only the step that failed.
   */
  async runFirstStep(stages: AllStages, job: StageJob): Promise<void> {
    const document = await this.documents.findById(job.payload.tenantId, job.payload.documentId);
    if (document && document.sizeBytes <= this.inlineMaxBytes) return this.runInline(stages, document, job);
    return this.run(stages.parse, job, document);
  }

  async run(stage: PipelineStage, job: StageJob, loaded?: DocumentEntity | null): Promise<void> {
    const { payload } = job;
    const document = loaded === undefined ? await this.documents.findById(payload.tenantId, payload.documentId) : loaded;
    const progress = STAGE_PROGRESS[stage.name];
    if (!document || !(await this.documents.enterStage(document.id, payload.sha256, stage.name, progress.from))) {
      this.logger.info('step skipped: document gone, replaced or final', { stage: stage.name, documentId: payload.documentId, status: document?.status });
      return;
    }
    const attempt = {
      documentId: document.id,
      queueJobId: job.queueJobId,
      kind: stage.name,
      attempt: job.attempt,
      correlationId: payload.correlationId,
      startedAt: new Date(),
    };
    const watch = new CancellationWatch(this.documents, document.id);
    try {
      await stage.run({
        document,
        payload,
        signal: watch.signal,
        reportProgress: (fraction) => this.documents.setProgress(document.id, progress.from + fraction * (progress.to - progress.from)),
      });
      if (watch.signal.aborted) throw new DomainError(ErrorCode.Cancelled, 'cancelled while running');
      await this.attempts.record({ ...attempt, status: 'completed' });
      await this.chainNext(stage.name, job);
    } catch (error) {
      await this.handleFailure(stage.name, job, attempt, error);
    } finally {
      watch.stop();
    }
  }

  private async runInline(stages: AllStages, document: DocumentEntity, job: StageJob): Promise<void> {
    const { payload } = job;
    if (!(await this.documents.enterStage(document.id, payload.sha256, 'parse', 0))) {
      this.logger.info('step skipped: document gone, replaced or final', { stage: 'parse', documentId: document.id, status: document.status });
      return;
    }
    const base = { documentId: document.id, queueJobId: job.queueJobId, attempt: job.attempt, correlationId: payload.correlationId };
    const finished: AttemptRecord[] = [];
    let current: AttemptRecord = { ...base, kind: 'parse', startedAt: new Date() };
    const step = async <T>(name: IngestionStage, work: () => Promise<T>): Promise<T> => {
      current = { ...base, kind: name, startedAt: new Date() };
      const result = await work();
      finished.push(current);
      return result;
    };
    const watch = new CancellationWatch(this.documents, document.id);
    try {
      const { signal } = watch;
      const parsed = await step('parse', () => stages.parse.produce(document, signal));
      const chunks = await step('chunk', () => stages.chunk.produce(parsed, signal));
      const vectors = await step('embed', () => stages.embed.produce(chunks, signal, () => Promise.resolve()));
      await step('index', () => stages.index.write(payload, chunks, vectors, signal));
      if (signal.aborted) throw new DomainError(ErrorCode.Cancelled, 'cancelled while running');
      await this.attempts.recordMany(finished.map((attempt) => ({ ...attempt, status: 'completed' as const })));
      await this.chainNext('index', job);
    } catch (error) {
      await this.attempts.recordMany(finished.map((attempt) => ({ ...attempt, status: 'completed' as const })));
      await this.handleFailure(current.kind as IngestionStage, job, current, error);
    } finally {
      watch.stop();
    }
  }

  private async chainNext(stage: IngestionStage, job: StageJob): Promise<void> {
    const next = NEXT_STAGE[stage];
    const { payload } = job;
    if (!next) {
      this.metrics.documentsTotal.inc({ outcome: 'indexed' });
      this.logger.info('document indexed', { documentId: payload.documentId });
      // The heuristic analysis is already stored; a model pass is queued only when a model is configured.
      if (this.modelAnalysis) {
        await this.jobs.publish(JobName.AnalyzeDocument, payload, { jobId: stageJobId('analyze', payload.documentId, payload.sha256) });
      }
      return;
    }
    await this.jobs.publish(STAGE_JOB_NAME[next], payload, { jobId: stageJobId(next, payload.documentId, payload.sha256), priority: job.priority });
  }

  private async handleFailure(stage: IngestionStage, job: StageJob, attempt: AttemptRecord, error: unknown): Promise<void> {
    const { payload } = job;
    const status = await this.documents.statusOf(payload.documentId);
    if (status !== 'processing') {
      // Cancelled or deleted while this step ran: the stop was asked for, nothing failed.
      await this.attempts.record({ ...attempt, status: 'failed', error: `stopped: document is ${status ?? 'deleted'}` }).catch(() => undefined);
      this.logger.info('step stopped: document no longer processing', { stage, documentId: payload.documentId, status });
      return;
    }
    const message = isDomainError(error) ? error.message : `${stage} step failed: ${(error as Error).message}`;
    await this.attempts.record({ ...attempt, status: 'failed', error: message });
    const permanent = isDomainError(error) && error.permanent;
    if (permanent || job.isFinalAttempt) {
      if (await this.documents.markFailed(payload.documentId, message)) {
        await this.artifacts.deleteAll(payload.documentId);
        this.metrics.documentsTotal.inc({ outcome: 'failed' });
      }
    }
    throw error;
  }
}
