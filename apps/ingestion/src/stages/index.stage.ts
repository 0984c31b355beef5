import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { ArtifactRepository, ChunkRepository, type DataSource, bytesToVector } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { TextChunk } from '../chunking/document-chunker';
import type { PipelineStage, StageInput } from '../pipeline/stage';

/**
 * Step 4: chunks and vectors → the chunks table, the index change log and status `indexed`, in
 * one transaction that re-checks the document under a row lock, so a cancelled or deleted
 * document never gets chunks.
 */
@Injectable()
export class IndexStage implements PipelineStage {
  readonly name = 'index' as const;
  private readonly artifacts: ArtifactRepository;
  private readonly chunks: ChunkRepository;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.artifacts = new ArtifactRepository(dataSource);
    this.chunks = new ChunkRepository(dataSource);
  }

  async run({ document, payload, signal }: StageInput): Promise<void> {
    const chunks = (await this.artifacts.load(document.id, 'chunks', payload.sha256))?.data as TextChunk[] | undefined;
    const embeddings = await this.artifacts.load(document.id, 'embeddings', payload.sha256);
    if (!chunks || !embeddings?.bytes) throw new DomainError(ErrorCode.Internal, 'the embed step left no output');
    const { model, dimensions } = embeddings.data as { model: string; dimensions: number };
    const all = bytesToVector(embeddings.bytes);
    const vectors = chunks.map((_, index) => all.subarray(index * dimensions, (index + 1) * dimensions));
    await this.write(payload, chunks, vectors, model, signal);
  }

  /** Stores chunks and vectors and marks the document indexed (false: it was cancelled or deleted). */
  async write(payload: StageInput['payload'], chunks: TextChunk[], vectors: Float32Array[], model: string, signal: AbortSignal): Promise<boolean> {
    signal.throwIfAborted();
    return this.chunks.replaceDocumentChunks(
      payload.tenantId,
      payload.documentId,
      model,
      chunks.map((chunk, index) => ({ ...chunk, embedding: vectors[index] })),
      payload.sha256,
    );
  }
}
