import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { ErrorCode, type IngestDocumentPayload, type IngestionStage, JobName, stageJobId } from '@quarry/contracts';
import { type DependencyEndpoints, DomainError, endpointsFromUrls, isDomainError, outageError, unstorableDataError } from '@quarry/domain';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { ArtifactRepository, type DataSource, type DocumentEntity, DocumentRepository, ProcessingJobRepository } from '@quarry/persistence';
import { type BaseServiceConfig, DATA_SOURCE, JOB_CLIENT, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { ChunkStage } from '../stages/chunk.stage';
import type { EmbedStage } from '../stages/embed.stage';
import type { IndexStage } from '../stages/index.stage';
import type { ParseStage } from '../stages/parse.stage';
import { INLINE_STEPS_MAX_BYTES, MODEL_ANALYSIS_ENABLED } from '../tokens';
import { CancellationWatch } from './cancellation-watch';
import { type PipelineStage, STAGE_PROGRESS } from './stage';
import { dependencyOutage, isStalledTooOften, stalledFailureMessage, workerShutdownError } from './step-failure';
import { type PreviousJob, SuccessorJobs } from './successor-jobs';

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
const ALL_STEPS: IngestionStage[] = ['parse', 'chunk', 'embed', 'index'];

/**
 * Runs one pipeline step for one document: guards on persisted state (gone, other content, final:
 * do nothing, so re-delivery is harmless), records the attempt, watches for cancellation, then
 * chains the next step with a deterministic job id (replacing a finished job left under that id).
 * A failure caused by the document or a bug is recorded as `failed`; when it is permanent, or on
 * the last attempt, the document fails with a readable reason and its partial work is deleted.
 * A Postgres or Redis outage, a cancellation or a worker shutdown only interrupts the step: it is
 * recorded as `interrupted`, never fails the document, and is retried (by BullMQ, then by the
 * reconciler once the outage is over).
 */
@Injectable()
export class StageRunner implements BeforeApplicationShutdown {
  private readonly documents: DocumentRepository;
  private readonly artifacts: ArtifactRepository;
  private readonly attempts: ProcessingJobRepository;
  private readonly successors: SuccessorJobs;
  private readonly endpoints: DependencyEndpoints;
  private readonly inFlight = new Set<CancellationWatch>();
  private stopping = false;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
    @Inject(INLINE_STEPS_MAX_BYTES) private readonly inlineMaxBytes: number,
    @Inject(MODEL_ANALYSIS_ENABLED) private readonly modelAnalysis: boolean,
    @Inject(SERVICE_CONFIG) config: Pick<BaseServiceConfig, 'DATABASE_URL' | 'REDIS_URL'>,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.artifacts = new ArtifactRepository(dataSource);
    this.attempts = new ProcessingJobRepository(dataSource);
    this.successors = new SuccessorJobs(jobs);
    this.endpoints = endpointsFromUrls({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL });
  }

  /**
   * Runs after the transport stopped taking jobs and released those that did not finish in time:
   * steps still running here are stopped, and their end is an interruption, not a failure.
   */
  beforeApplicationShutdown(): void {
    this.stopping = true;
    for (const watch of this.inFlight) watch.interrupt(workerShutdownError());
  }

  /**
   * The first step. A small document (up to INLINE_STEPS_MAX_BYTES) runs all four steps back to back
   * in this one job, because for it the queue hops and stored intermediate outputs cost far more
   * than the work; a retry then re-runs all four, which for a small document is cheap. Larger
   * documents run one job per step, so a retry re-runs only the step that failed.
   */
  async runFirstStep(stages: AllStages, job: StageJob): Promise<void> {
    const document = await this.documents.findById(job.payload.tenantId, job.payload.documentId);
    if (document && this.runsInline(document)) return this.runInline(stages, document, job);
    return this.run(stages.parse, job, document);
  }

  async run(stage: PipelineStage, job: StageJob, loaded?: DocumentEntity | null): Promise<void> {
    const { payload } = job;
    const document = loaded === undefined ? await this.documents.findById(payload.tenantId, payload.documentId) : loaded;
    const progress = STAGE_PROGRESS[stage.name];
    if (!document || !(await this.documents.enterStage(payload.tenantId, document.id, payload.sha256, stage.name, progress.from))) {
      await this.skip(stage.name === 'index' ? ['index'] : [], job, document);
      return;
    }
    const attempt = {
      tenantId: payload.tenantId,
      documentId: document.id,
      queueJobId: job.queueJobId,
      kind: stage.name,
      attempt: job.attempt,
      correlationId: payload.correlationId,
      startedAt: new Date(),
    };
    const watch = this.watch(payload.tenantId, document.id);
    let recorded = false;
    const timer = this.metrics.ingestionStageDuration.startTimer({ stage: stage.name });
    let ran = false;
    try {
      await stage.run({
        document,
        payload,
        signal: watch.signal,
        reportProgress: (fraction) => this.documents.setProgress(payload.tenantId, document.id, progress.from + fraction * (progress.to - progress.from)),
        commitHistory: () => [{ ...attempt, status: 'completed', finishedAt: new Date() }],
      });
      ran = true;
      timer({ outcome: 'completed' });
      if (watch.signal.aborted) throw new DomainError(ErrorCode.Cancelled, 'cancelled while running');
      if (!stage.commitsHistory) await this.attempts.record({ ...attempt, status: 'completed' });
      recorded = true;
      await this.chainNext(stage.name, job);
    } catch (error) {
      if (!ran) timer({ outcome: 'failed' });
      // A failure to hand over to the next step after this one completed has no attempt of its own.
      await this.handleFailure(stage.name, job, recorded ? undefined : attempt, error);
    } finally {
      this.release(watch);
    }
  }

  private async runInline(stages: AllStages, document: DocumentEntity, job: StageJob): Promise<void> {
    const { payload } = job;
    if (!(await this.documents.enterStage(payload.tenantId, document.id, payload.sha256, 'parse', 0))) {
      await this.skip(ALL_STEPS, job, document);
      return;
    }
    const base = { tenantId: payload.tenantId, documentId: document.id, queueJobId: job.queueJobId, attempt: job.attempt, correlationId: payload.correlationId };
    const finished: AttemptRecord[] = [];
    let current: AttemptRecord = { ...base, kind: 'parse', startedAt: new Date() };
    const step = async <T>(name: IngestionStage, work: () => Promise<T>): Promise<T> => {
      current = { ...base, kind: name, startedAt: new Date() };
      const timer = this.metrics.ingestionStageDuration.startTimer({ stage: name });
      let outcome = 'failed';
      try {
        const result = await work();
        outcome = 'completed';
        finished.push(current);
        return result;
      } finally {
        timer({ outcome });
      }
    };
    const completed = () => finished.map((attempt) => ({ ...attempt, status: 'completed' as const }));
    const watch = this.watch(payload.tenantId, document.id);
    let recorded = false;
    try {
      const { signal } = watch;
      const parsed = await step('parse', () => stages.parse.produce(document, signal));
      const chunks = await step('chunk', () => stages.chunk.produce(parsed, signal));
      const vectors = await step('embed', () => stages.embed.produce(chunks, signal, () => Promise.resolve()));
      // The four steps' attempt rows go into the index step's commit: it is their common end.
      const indexed = await step('index', () => stages.index.write(payload, chunks, vectors, signal, [...completed(), { ...current, status: 'completed', finishedAt: new Date() }]));
      recorded = indexed;
      if (signal.aborted) throw new DomainError(ErrorCode.Cancelled, 'cancelled while running');
      // Not committed (cancelled or deleted meanwhile): the steps that ran are recorded on their own.
      if (!indexed) await this.attempts.recordMany(completed());
      recorded = true;
      await this.chainNext('index', job);
    } catch (error) {
      // Best effort: when this write fails too, Postgres is down and handleFailure says so.
      if (!recorded) await this.attempts.recordMany(completed()).catch(() => undefined);
      await this.handleFailure(current.kind as IngestionStage, job, recorded ? undefined : current, error);
    } finally {
      this.release(watch);
    }
  }

  private runsInline(document: DocumentEntity): boolean {
    return document.sizeBytes <= this.inlineMaxBytes;
  }

  private watch(tenantId: string, documentId: string): CancellationWatch {
    const watch = new CancellationWatch(this.documents, tenantId, documentId);
    if (this.stopping) watch.interrupt(workerShutdownError());
    this.inFlight.add(watch);
    return watch;
  }

  private release(watch: CancellationWatch): void {
    watch.stop();
    this.inFlight.delete(watch);
  }

  /**
   * A job for a document that is gone, holds other content or is final does nothing — except that
   * the job which indexed the document (`committingSteps`: the index job, or the inline first job)
   * may have been killed between its commit and writing the attempt rows: BullMQ re-delivers it,
   * and the re-delivery finds the document indexed without that history, writes it and does what
   * followed the commit, so an indexed document never keeps an empty history.
   */
  private async skip(committingSteps: IngestionStage[], job: StageJob, document: DocumentEntity | null): Promise<void> {
    const { payload } = job;
    this.logger.info('step skipped: document gone, replaced or final', { jobId: job.queueJobId, documentId: payload.documentId, status: document?.status });
    if (committingSteps.length === 0 || !document || document.status !== 'indexed' || document.sha256.trim() !== payload.sha256) return;
    const recorded = await this.attempts.completedKinds(payload.tenantId, document.id);
    const missing = committingSteps.filter((step) => !recorded.has(step));
    if (missing.length > 0) {
      const at = document.indexedAt ?? new Date();
      await this.attempts.recordMany(
        missing.map((kind) => ({
          tenantId: payload.tenantId,
          documentId: document.id,
          queueJobId: job.queueJobId,
          kind,
          attempt: job.attempt,
          correlationId: payload.correlationId,
          startedAt: at,
          finishedAt: at,
          status: 'completed' as const,
        })),
      );
      this.logger.warn('recorded the history of an indexing job that was stopped right after its commit', { documentId: document.id, steps: missing });
      this.countIndexed(payload);
    }
    // Queued under its deterministic id, so a repeat is a no-op; it may be what the stopped job missed.
    await this.queueAnalysis(payload);
  }

  private async chainNext(stage: IngestionStage, job: StageJob): Promise<void> {
    const next = NEXT_STAGE[stage];
    const { payload } = job;
    if (!next) {
      this.countIndexed(payload);
      await this.queueAnalysis(payload);
      return;
    }
    const previous = await this.successors.drive(next, payload, job.priority);
    if (previous.state === 'completed' || previous.state === 'failed') {
      this.logger.info('replaced a finished job of the next step', { documentId: payload.documentId, stage: next, previous: previous.state });
      await this.recordStalled(next, payload, previous);
    }
  }

  private countIndexed(payload: IngestDocumentPayload): void {
    this.metrics.documentsTotal.inc({ outcome: 'indexed' });
    this.logger.info('document indexed', { documentId: payload.documentId });
  }

  /** The heuristic analysis is already stored; a model pass is queued only when a model is configured. */
  private async queueAnalysis(payload: IngestDocumentPayload): Promise<void> {
    if (!this.modelAnalysis) return;
    await this.jobs.publish(JobName.AnalyzeDocument, payload, { jobId: stageJobId('analyze', payload.documentId, payload.sha256) });
  }

  /** A successor BullMQ failed because its workers kept dying counts as a real failure of it. */
  private async recordStalled(stage: IngestionStage, payload: IngestDocumentPayload, previous: PreviousJob): Promise<void> {
    if (previous.state !== 'failed' || !isStalledTooOften(previous.failedReason)) return;
    await this.attempts.recordOnce({
      tenantId: payload.tenantId,
      documentId: payload.documentId,
      queueJobId: stageJobId(stage, payload.documentId, payload.sha256),
      kind: stage,
      attempt: Math.max(1, previous.attemptsMade),
      correlationId: payload.correlationId,
      startedAt: new Date(previous.startedAt ?? Date.now()),
      status: 'failed',
      error: stalledFailureMessage(stage),
    });
  }

  private async handleFailure(stage: IngestionStage, job: StageJob, attempt: AttemptRecord | undefined, error: unknown): Promise<void> {
    const { payload } = job;
    if (this.stopping) {
      await this.recordQuietly(attempt, 'stopped: the worker shut down while running this step');
      this.logger.info('step interrupted: worker shutting down', { stage, documentId: payload.documentId });
      throw workerShutdownError();
    }
    const outage = dependencyOutage(error, this.endpoints);
    const status = await this.documents.statusOf(payload.tenantId, payload.documentId).catch((lookup: unknown) => {
      // Nothing can be recorded or decided without Postgres: BullMQ retries, then the reconciler.
      throw this.asOutage(lookup);
    });
    if (status !== 'processing') {
      // Cancelled or deleted while this step ran: the stop was asked for, nothing failed.
      await this.recordQuietly(attempt, `stopped: document is ${status ?? 'deleted'}`);
      this.logger.info('step stopped: document no longer processing', { stage, documentId: payload.documentId, status });
      return;
    }
    if (outage) {
      const interruption = outageError(outage);
      await this.recordQuietly(attempt, `stopped: ${interruption.message}`);
      this.logger.warn('step interrupted by a dependency outage', { stage, documentId: payload.documentId, dependency: outage, finalAttempt: job.isFinalAttempt });
      throw interruption;
    }
    const failure = unstorableDataError(error) ?? error;
    // The document's error is shown to API clients: a bug's own text (paths, hosts, driver output)
    // stays in this service's log, under the correlation id the reason names.
    const reference = payload.correlationId ?? job.queueJobId;
    const message = isDomainError(failure) ? failure.message : `the ${stage} step failed with an internal error (the ingestion log has it under ${reference})`;
    if (!isDomainError(failure)) this.logger.error('step failed with an internal error', { stage, documentId: payload.documentId, reference, error: (failure as Error)?.message, stack: (failure as Error)?.stack });
    try {
      if (attempt) await this.attempts.record({ ...attempt, status: 'failed', error: message });
      const permanent = isDomainError(failure) && failure.permanent;
      if ((permanent || job.isFinalAttempt) && (await this.documents.markFailed(payload.tenantId, payload.documentId, message))) {
        await this.artifacts.deleteAll(payload.tenantId, payload.documentId);
        this.metrics.documentsTotal.inc({ outcome: 'failed' });
      }
    } catch (bookkeeping) {
      throw this.asOutage(bookkeeping);
    }
    throw failure;
  }

  private async recordQuietly(attempt: AttemptRecord | undefined, reason: string): Promise<void> {
    if (attempt) await this.attempts.record({ ...attempt, status: 'interrupted', error: reason }).catch(() => undefined);
  }

  private asOutage(error: unknown): unknown {
    const dependency = dependencyOutage(error, this.endpoints);
    return dependency ? outageError(dependency) : error;
  }
}
