import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { ArtifactRepository, type DataSource } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { TextChunk } from '../chunking/document-chunker';
import type { PipelineStage, StageInput } from '../pipeline/stage';
import { EmbeddingTargetsService } from '../embedding/embedding-targets.service';
import { type VersionedVectors, packVectors } from '../embedding/versioned-vectors';

const BATCH = 64;
/** Batches embedded at once: bounded, so one big document cannot flood a model endpoint. */
const CONCURRENT_BATCHES = 2;

/** Step 3: chunks → vectors, batched, cancellable between batches (the `embeddings` artifact). */
@Injectable()
export class EmbedStage implements PipelineStage {
  readonly name = 'embed' as const;
  private readonly artifacts: ArtifactRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    private readonly targets: EmbeddingTargetsService,
  ) {
    this.artifacts = new ArtifactRepository(dataSource);
  }

  async run({ document, payload, signal, reportProgress }: StageInput): Promise<void> {
    if (await this.artifacts.load(document.tenantId, document.id, 'embeddings', payload.sha256)) return;
    const chunks = (await this.artifacts.load(document.tenantId, document.id, 'chunks', payload.sha256))?.data as TextChunk[] | undefined;
    if (!chunks) throw new DomainError(ErrorCode.Internal, 'the chunk step left no output');
    const vectors = await this.produce(chunks, signal, reportProgress);
    await this.artifacts.save(document.tenantId, document.id, 'embeddings', payload.sha256, packVectors(vectors));
  }

  /**
   * Embeds the chunks with the active embedding version (and the one being built, if any), in
   * batches, a bounded number at a time, checking for cancellation between batches.
   */
  async produce(chunks: TextChunk[], signal: AbortSignal, reportProgress: (fraction: number) => Promise<void>): Promise<VersionedVectors> {
    const targets = await this.targets.targets();
    const embedders = [targets.active.embedder, ...(targets.building ? [targets.building.embedder] : [])];
    const results = embedders.map(() => new Array<Float32Array>(chunks.length));
    const batches: number[] = [];
    for (let start = 0; start < chunks.length; start += BATCH) batches.push(start);
    let done = 0;
    const worker = async () => {
      for (let next = batches.shift(); next !== undefined; next = batches.shift()) {
        signal.throwIfAborted();
        const texts = chunks.slice(next, next + BATCH).map((chunk) => chunk.text);
        const embedded = await Promise.all(embedders.map((embedder) => embedder.embed(texts)));
        embedded.forEach((vectors, which) => vectors.forEach((vector, offset) => (results[which][next + offset] = vector)));
        done += texts.length;
        if (chunks.length > BATCH) await reportProgress(done / chunks.length);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_BATCHES }, worker));
    signal.throwIfAborted();
    return {
      model: targets.active.embedder.model,
      dimensions: targets.active.embedder.dimensions,
      active: results[0],
      ...(targets.building ? { building: { versionId: targets.building.version.id, dimensions: targets.building.embedder.dimensions, vectors: results[1] } } : {}),
    };
  }
}
