import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { ArtifactRepository, ChunkRepository, type DataSource, EmbeddingVersionChangedError, type FinishedAttempt, bytesToVector } from '@quarry/persistence';
import type { ServiceMetrics } from '@quarry/observability';
import { DATA_SOURCE, METRICS } from '@quarry/service-kit';
import type { TextChunk } from '../chunking/document-chunker';
import { EmbeddingTargetsService } from '../embedding/embedding-targets.service';
import { type VersionedVectors, matchesTargets, unpackVectors } from '../embedding/versioned-vectors';
import type { PipelineStage, StageInput } from '../pipeline/stage';
import { EmbedStage } from './embed.stage';

/**
 * Step 4: chunks and vectors → the chunks table, the index change log and status `indexed`, in
 * one transaction that re-checks the document under a row lock, so a cancelled or deleted
 * document never gets chunks. Vectors made for embedding versions that have since changed (a
 * re-embedding switched meanwhile) are made again first.
 */
@Injectable()
export class IndexStage implements PipelineStage {
  readonly name = 'index' as const;
  private readonly artifacts: ArtifactRepository;
  private readonly chunks: ChunkRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    private readonly targets: EmbeddingTargetsService,
    private readonly embed: EmbedStage,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {
    this.artifacts = new ArtifactRepository(dataSource);
    this.chunks = new ChunkRepository(dataSource);
  }

  /** This step writes the attempt rows it is given in its commit (see StageInput.commitHistory). */
  readonly commitsHistory = true;

  async run({ document, payload, signal, commitHistory }: StageInput): Promise<void> {
    const chunks = (await this.artifacts.load(document.tenantId, document.id, 'chunks', payload.sha256))?.data as TextChunk[] | undefined;
    const embeddings = await this.artifacts.load(document.tenantId, document.id, 'embeddings', payload.sha256);
    if (!chunks || !embeddings?.bytes) throw new DomainError(ErrorCode.Internal, 'the embed step left no output');
    const vectors = unpackVectors(bytesToVector(embeddings.bytes), embeddings.data as Parameters<typeof unpackVectors>[1]);
    await this.write(payload, chunks, vectors, signal, commitHistory());
  }

  /**
   * Stores chunks and vectors and marks the document indexed, with the steps' attempt rows in the
   * same transaction (false: it was cancelled or deleted, and nothing was written).
   */
  async write(payload: StageInput['payload'], chunks: TextChunk[], vectors: VersionedVectors, signal: AbortSignal, history: FinishedAttempt[]): Promise<boolean> {
    let current = vectors;
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      const targets = await this.targets.targets(attempt > 0);
      if (!matchesTargets(current, targets)) current = await this.embed.produce(chunks, signal, () => Promise.resolve());
      try {
        const written = await this.chunks.replaceDocumentChunks(
          payload.tenantId,
          payload.documentId,
          current.model,
          chunks.map((chunk, index) => ({ ...chunk, embedding: current.active[index] })),
          {
            expectedSha256: payload.sha256,
            building: current.building && { versionId: current.building.versionId, vectors: current.building.vectors },
            history,
          },
        );
        if (written) this.metrics.ingestionChunks.inc(chunks.length);
        return written;
      } catch (error) {
        // The versions switched between reading them and writing: read them again, once more.
        if (!(error instanceof EmbeddingVersionChangedError) || attempt >= 2) throw error;
      }
    }
  }
}
