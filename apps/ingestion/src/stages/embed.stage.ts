import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { Embedder } from '@quarry/llm';
import { ArtifactRepository, type DataSource } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { TextChunk } from '../chunking/document-chunker';
import type { PipelineStage, StageInput } from '../pipeline/stage';
import { EMBEDDER } from '../tokens';

const BATCH = 64;
/** Batches embedded at once: bounded, so one big document cannot flood a model endpoint. */
const CONCURRENT_BATCHES = 2;

/** Step 3: chunks → vectors, batched, cached, cancellable between batches (the `embeddings` artifact). */
@Injectable()
export class EmbedStage implements PipelineStage {
  readonly name = 'embed' as const;
  private readonly artifacts: ArtifactRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
  ) {
    this.artifacts = new ArtifactRepository(dataSource);
  }

  async run({ document, payload, signal, reportProgress }: StageInput): Promise<void> {
    if (await this.artifacts.load(document.id, 'embeddings', payload.sha256)) return;
    const chunks = (await this.artifacts.load(document.id, 'chunks', payload.sha256))?.data as TextChunk[] | undefined;
    if (!chunks) throw new DomainError(ErrorCode.Internal, 'the chunk step left no output');
    const vectors = await this.produce(chunks, signal, reportProgress);
    const { dimensions } = this.embedder;
    const bytes = Buffer.alloc(chunks.length * dimensions * 4);
    vectors.forEach((vector, index) => Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).copy(bytes, index * dimensions * 4));
    await this.artifacts.save(document.id, 'embeddings', payload.sha256, { bytes, data: { model: this.embedder.model, dimensions } });
  }

  get model(): string {
    return this.embedder.model;
  }

  /** Embeds the chunks in batches, a bounded number at a time, checking for cancellation between batches. */
  async produce(chunks: TextChunk[], signal: AbortSignal, reportProgress: (fraction: number) => Promise<void>): Promise<Float32Array[]> {
    const vectors = new Array<Float32Array>(chunks.length);
    const batches: number[] = [];
    for (let start = 0; start < chunks.length; start += BATCH) batches.push(start);
    let done = 0;
    const worker = async () => {
      for (let next = batches.shift(); next !== undefined; next = batches.shift()) {
        signal.throwIfAborted();
        const slice = chunks.slice(next, next + BATCH);
        const embedded = await this.embedder.embed(slice.map((chunk) => chunk.text));
        embedded.forEach((vector, offset) => (vectors[next + offset] = vector));
        done += slice.length;
        if (chunks.length > BATCH) await reportProgress(done / chunks.length);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENT_BATCHES }, worker));
    signal.throwIfAborted();
    return vectors;
  }
}
