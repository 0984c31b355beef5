import { ErrorCode, JobName, QueueName, type TaskParamsOf, parseFailureReason } from '@quarry/contracts';
import { DomainError, abortableDelay } from '@quarry/domain';
import { embedderForVersion } from '@quarry/llm';
import type { EmbeddingSpec, EmbeddingVersion, EmbeddingVersionRepository } from '@quarry/persistence';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import { secondsSince } from '../elapsed';
import type { TaskHandler, TaskRunContext } from '../task-handler';

const POLL_MS = 500;

export interface CorpusReembedResult {
  versionId: number;
  model: string;
  dimensions: number;
  /** Chunks that carry the new model's vector once it was switched to (every chunk of every tenant). */
  chunksEmbedded: number;
  seconds: number;
  /** The asked-for embedding was already the active one: nothing was done. */
  alreadyActive: boolean;
}

/**
 * `corpus.reembed`: the zero-downtime re-embedding, started and followed as a task. Ingestion does
 * the work (ingestion.reembed-corpus: vectors of the building version beside the active ones, then
 * one switch; retrieval replicas rebuild on the new vectors while serving the old); this run makes
 * the asked-for embedding the building version, queues the job — under the id ingestion's own boot
 * uses, so the two never run twice — and follows the vectors written until the switch.
 */
export class CorpusReembedTask implements TaskHandler<'corpus.reembed'> {
  readonly type = 'corpus.reembed';

  constructor(
    private readonly versions: EmbeddingVersionRepository,
    private readonly jobs: JobClient,
  ) {}

  async run(params: TaskParamsOf<'corpus.reembed'>, context: TaskRunContext): Promise<CorpusReembedResult> {
    const started = performance.now();
    const target = await this.target(params);
    const result = (chunksEmbedded: number, alreadyActive = false): CorpusReembedResult => ({
      versionId: target.version.id,
      model: target.version.model,
      dimensions: target.version.dimensions,
      chunksEmbedded,
      seconds: secondsSince(started),
      alreadyActive,
    });
    if (target.alreadyActive) return result(0, true);
    const jobId = await this.queueJob(target.version.id);
    context.progress(1, `re-embedding with ${target.version.model} queued on ingestion`);
    for (;;) {
      const [active, building] = await Promise.all([this.versions.active(), this.versions.building()]);
      if (active?.id === target.version.id) return result((await this.versions.buildProgress(active.id)).total);
      if (building?.id !== target.version.id) {
        throw new Error(`the re-embedding with ${target.version.model} was replaced before it switched (now ${building ? `building ${building.model}` : `active ${active?.model ?? 'none'}`}): another corpus.reembed, or an ingestion boot with other EMBEDDING_* settings`);
      }
      const job = await this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Ingestion).getJob(jobId);
      if (job?.failedReason && (await job.getState()) === 'failed') throw new Error(`ingestion could not re-embed the corpus: ${parseFailureReason(job.failedReason).message}`);
      const { embedded, total } = await this.versions.buildProgress(target.version.id);
      // 99 at most: the switch itself is the last step.
      context.progress(total === 0 ? 99 : Math.min(99, (embedded / total) * 100), `${embedded} of ${total} chunks embedded with ${target.version.model}`);
      await abortableDelay(POLL_MS, context.signal).catch(async (error: unknown) => {
        // Stopped before ingestion took the job up: taken back (a running re-embedding goes on; it is resumable and a new task follows it).
        if (job && (await job.getState()) === 'waiting') await job.remove().catch(() => undefined);
        throw error;
      });
    }
  }

  /** The version to build: the asked-for embedding on the active version's provider and endpoint, or the one under way. */
  private async target(params: TaskParamsOf<'corpus.reembed'>): Promise<{ version: EmbeddingVersion; alreadyActive: boolean }> {
    if (params.model === undefined && params.dimensions === undefined) {
      const building = await this.versions.building();
      if (!building) throw new DomainError(ErrorCode.InvalidPayload, 'no re-embedding is under way: give model and/or dimensions to start one');
      return { version: building, alreadyActive: false };
    }
    const active = await this.versions.active();
    if (!active) throw new Error('there is no active embedding version yet: the ingestion service records one when it first starts');
    if (active.provider === 'local' && params.model !== undefined) {
      throw new DomainError(ErrorCode.InvalidPayload, `the local embedder (${active.model}) has no models to choose from: give dimensions only`);
    }
    // The embedder names its model (a local one's name includes its size); provider and endpoint stay the active version's.
    const embedder = embedderForVersion({ provider: active.provider, model: params.model ?? active.model, dimensions: params.dimensions ?? active.dimensions, baseUrl: active.baseUrl });
    const spec: EmbeddingSpec = { provider: active.provider, model: embedder.model, dimensions: embedder.dimensions, baseUrl: active.baseUrl ?? null };
    const { active: now, building } = await this.versions.target(spec);
    return building ? { version: building, alreadyActive: false } : { version: now, alreadyActive: true };
  }

  /** Queues the version's re-embedding; a finished job of an earlier run (failed, say) is replaced, one still waiting or running is joined. */
  private async queueJob(versionId: number): Promise<string> {
    const jobId = `reembed-${versionId}`;
    const previous = await this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Ingestion).getJob(jobId);
    if (previous && ['completed', 'failed'].includes(await previous.getState())) await previous.remove();
    await this.jobs.publish(JobName.ReembedCorpus, { versionId }, { jobId });
    return jobId;
  }
}
