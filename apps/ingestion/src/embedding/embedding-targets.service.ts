import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { JobName } from '@quarry/contracts';
import { type Embedder, embedderForVersion } from '@quarry/llm';
import type { Logger } from '@quarry/observability';
import { type DataSource, type EmbeddingSpec, type EmbeddingVersion, EmbeddingCacheRepository, EmbeddingVersionRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { IngestionConfig } from '../config';
import { EMBEDDER_FACTORY } from '../tokens';
import { CachedEmbedder } from './cached-embedder';

export interface EmbeddingTargets {
  /** The version queries use; chunks get its vectors. */
  active: { version: EmbeddingVersion; embedder: Embedder };
  /** A version being built to replace it; new chunks get its vectors too, so it stays complete. */
  building?: { version: EmbeddingVersion; embedder: Embedder };
}

const REFRESH_MS = 2000;

/**
 * Which embedding models ingestion must write. At boot the configured model becomes the target: if
 * it differs from the active one, a re-embedding job is queued and, until it switches, every new
 * chunk is embedded with both models. Versions are re-read every few seconds, because another
 * replica's re-embedding job may switch them.
 */
@Injectable()
export class EmbeddingTargetsService implements OnApplicationBootstrap {
  private readonly versions: EmbeddingVersionRepository;
  private readonly cache: EmbeddingCacheRepository;
  private readonly embedders = new Map<number, Embedder>();
  private current: { targets: EmbeddingTargets; readAt: number } | undefined;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(SERVICE_CONFIG) private readonly config: IngestionConfig,
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(EMBEDDER_FACTORY) private readonly createFor: EmbedderFactory,
  ) {
    this.versions = new EmbeddingVersionRepository(dataSource);
    this.cache = new EmbeddingCacheRepository(dataSource);
  }

  /** The configured embedding as a version spec (the model name a local embedder reports includes its size). */
  configuredSpec(): EmbeddingSpec {
    const embedder = this.embedderFor({ provider: this.config.EMBEDDING_PROVIDER, model: this.config.EMBEDDING_MODEL ?? '', dimensions: this.config.EMBEDDING_DIMENSIONS, baseUrl: this.config.EMBEDDING_BASE_URL });
    return { provider: this.config.EMBEDDING_PROVIDER, model: embedder.model, dimensions: embedder.dimensions, baseUrl: this.config.EMBEDDING_BASE_URL ?? null };
  }

  async onApplicationBootstrap(): Promise<void> {
    const { active, building } = await this.versions.target(this.configuredSpec());
    if (building) {
      this.logger.info('embedding model changed: re-embedding the corpus in the background', { from: active.model, to: building.model, versionId: building.id });
      await this.jobs.publish(JobName.ReembedCorpus, { versionId: building.id }, { jobId: `reembed-${building.id}` });
    }
  }

  async targets(fresh = false): Promise<EmbeddingTargets> {
    if (!fresh && this.current && Date.now() - this.current.readAt < REFRESH_MS) return this.current.targets;
    const [active, building] = await Promise.all([this.versions.active(), this.versions.building()]);
    if (!active) throw new Error('no active embedding version; the ingestion service sets one at boot');
    const targets: EmbeddingTargets = {
      active: { version: active, embedder: this.embedderOf(active) },
      ...(building ? { building: { version: building, embedder: this.embedderOf(building) } } : {}),
    };
    this.current = { targets, readAt: Date.now() };
    return targets;
  }

  embedderOf(version: EmbeddingVersion): Embedder {
    let embedder = this.embedders.get(version.id);
    if (!embedder) {
      embedder = this.embedderFor(version);
      this.embedders.set(version.id, embedder);
    }
    return embedder;
  }

  private embedderFor(spec: EmbeddingSpec): Embedder {
    const embedder = this.createFor(spec, this.config.EMBEDDING_API_KEY);
    // A model endpoint is slow and may cost money: cache its vectors. The local embedder computes a
    // vector faster than the cache could look one up, so it runs uncached.
    return spec.provider === 'local' ? embedder : new CachedEmbedder(embedder, this.cache);
  }
}

export type EmbedderFactory = (spec: EmbeddingSpec, apiKey?: string) => Embedder;

/** Builds the embedder of an embedding version (the API key comes from the environment, never the database). */
export const createVersionEmbedder: EmbedderFactory = (spec, apiKey) => embedderForVersion(spec, apiKey);
