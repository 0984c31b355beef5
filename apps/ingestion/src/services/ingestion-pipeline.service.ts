import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, type IngestDocumentPayload } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';
import type { Embedder } from '@quarry/llm';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { ChunkRepository, type DataSource, DocumentRepository, ProcessingJobRepository } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER, METRICS } from '@quarry/service-kit';
import type { DocumentChunker } from '../chunking/document-chunker';
import { decodeText } from '../chunking/text-decoding';
import { DOCUMENT_CHUNKER, EMBEDDER } from '../tokens';

export interface PipelineAttempt {
  queueJobId: string;
  attempt: number;
  isFinalAttempt: boolean;
}

const EMBED_BATCH = 64;

/**
 * Turns a stored document into indexed chunks: decode → chunk → embed → store chunks and vectors
 * (which every retrieval replica then picks up from the index change log). Guards on persisted
 * state, so a re-delivered job does no harm, and records a readable failure on the document when
 * the error is permanent or the last attempt fails.
 */
@Injectable()
export class IngestionPipeline {
  private readonly documents: DocumentRepository;
  private readonly chunks: ChunkRepository;
  private readonly jobs: ProcessingJobRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(EMBEDDER) private readonly embedder: Embedder,
    @Inject(DOCUMENT_CHUNKER) private readonly chunker: DocumentChunker,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.chunks = new ChunkRepository(dataSource);
    this.jobs = new ProcessingJobRepository(dataSource);
  }

  async ingest(payload: IngestDocumentPayload, attempt: PipelineAttempt): Promise<void> {
    const document = await this.documents.findById(payload.tenantId, payload.documentId);
    if (!document) {
      this.logger.info('document no longer exists; nothing to ingest', { documentId: payload.documentId });
      return;
    }
    if (document.status === 'indexed' && document.sha256 === payload.sha256) {
      this.logger.info('document already indexed; re-delivered job ignored', { documentId: document.id });
      return;
    }
    if (!(await this.documents.markProcessing(document.id))) {
      this.logger.info('document is in a final state; job ignored', { documentId: document.id, status: document.status });
      return;
    }
    const runId = await this.jobs.start({
      documentId: document.id,
      queueJobId: attempt.queueJobId,
      kind: 'ingest',
      attempt: attempt.attempt,
      correlationId: payload.correlationId,
    });
    try {
      const chunkCount = await this.process(payload, document.mediaType);
      await this.jobs.finish(runId, { status: 'completed' });
      this.metrics.documentsTotal.inc({ outcome: 'indexed' });
      this.logger.info('document indexed', { documentId: document.id, chunks: chunkCount });
    } catch (error) {
      const message = isDomainError(error) ? error.message : `ingestion failed: ${(error as Error).message}`;
      await this.jobs.finish(runId, { status: 'failed', error: message });
      if ((isDomainError(error) && error.permanent) || attempt.isFinalAttempt) {
        await this.documents.markFailed(document.id, message);
        this.metrics.documentsTotal.inc({ outcome: 'failed' });
      }
      throw error;
    }
  }

  private async process(payload: IngestDocumentPayload, mediaType: string): Promise<number> {
    const bytes = await this.documents.content(payload.documentId);
    if (!bytes) throw new DomainError(ErrorCode.NotFound, 'the stored content of this document is missing');
    if (bytes.length === 0) throw new DomainError(ErrorCode.EmptyDocument, 'the file is empty');
    const text = decodeText(bytes);
    if (text.trim().length === 0) throw new DomainError(ErrorCode.EmptyDocument, 'the document contains no text');

    const pieces = await this.chunker.split(text, mediaType === 'text/markdown' ? 'markdown' : 'plain');
    const vectors: Float32Array[] = [];
    for (let start = 0; start < pieces.length; start += EMBED_BATCH) {
      vectors.push(...(await this.embedder.embed(pieces.slice(start, start + EMBED_BATCH).map((piece) => piece.text))));
    }
    const stored = await this.chunks.replaceDocumentChunks(
      payload.tenantId,
      payload.documentId,
      this.embedder.model,
      pieces.map((piece, index) => ({ ...piece, embedding: vectors[index] })),
    );
    if (!stored) this.logger.info('document deleted while it was being ingested; chunks discarded', { documentId: payload.documentId });
    return pieces.length;
  }
}
