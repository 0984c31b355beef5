import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { type DataSource, EmbeddingVersionRepository } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER } from '@quarry/service-kit';
import { EmbeddingTargetsService } from '../embedding/embedding-targets.service';

const BATCH = 256;

/**
 * Zero-downtime re-embedding: computes the building version's vector for every chunk (in batches,
 * resumable: it only looks at chunks still missing one), then switches versions in one
 * transaction. Queries use the old version until then; each retrieval replica then builds its
 * index on the new version in the background and swaps it in.
 */
@Controller()
export class ReembedCorpusJob {
  private readonly versions: EmbeddingVersionRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    private readonly targets: EmbeddingTargetsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.versions = new EmbeddingVersionRepository(dataSource);
  }

  @EventPattern(JobName.ReembedCorpus)
  async handle(@Payload() payload: PayloadOf<typeof JobName.ReembedCorpus>): Promise<void> {
    const started = Date.now();
    let embedded = 0;
    for (;;) {
      const building = await this.versions.building();
      if (!building || building.id !== payload.versionId) {
        this.logger.info('re-embedding stopped: the version is no longer being built', { versionId: payload.versionId });
        return;
      }
      const embedder = this.targets.embedderOf(building);
      for (let batch = await this.versions.chunksWithoutVector(building.id, BATCH); batch.length > 0; batch = await this.versions.chunksWithoutVector(building.id, BATCH)) {
        const vectors = await embedder.embed(batch.map((chunk) => chunk.text));
        await this.versions.saveVectors(building.id, batch.map((chunk, index) => ({ chunkId: chunk.chunkId, vector: vectors[index] })));
        embedded += batch.length;
      }
      if (await this.versions.activate(building.id)) {
        this.logger.info('embedding version switched', { model: building.model, chunks: embedded, seconds: Math.round((Date.now() - started) / 1000) });
        await this.targets.targets(true);
        return;
      }
    }
  }
}
