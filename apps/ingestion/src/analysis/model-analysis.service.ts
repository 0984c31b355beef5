import { Inject, Injectable } from '@nestjs/common';
import type { OpenAiDocumentAnalyzer } from '@quarry/llm';
import type { Logger } from '@quarry/observability';
import { ChunkRepository, type DataSource, type DocumentEntity, DocumentRepository } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER } from '@quarry/service-kit';
import { DOCUMENT_ANALYZER } from '../tokens';

const EXCERPT_CHARS = 12_000;

/**
 * The model's pass over an indexed document: a summary, suggested tags, language and chunking
 * recommendation from an excerpt of its chunks, merged into the stored (heuristic) analysis.
 * Shared by the analysis queued after indexing and by a re-analysis.
 */
@Injectable()
export class ModelAnalysis {
  private readonly documents: DocumentRepository;
  private readonly chunks: ChunkRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(DOCUMENT_ANALYZER) private readonly analyzer: OpenAiDocumentAnalyzer | null,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.chunks = new ChunkRepository(dataSource);
  }

  /** Whether a model is configured (LLM_BASE_URL and LLM_MODEL). */
  get enabled(): boolean {
    return this.analyzer !== null;
  }

  /** Adds the model's analysis to the document's stored one; false when there is no model or its answer was unusable (the stored analysis stays). */
  async addTo(document: DocumentEntity): Promise<boolean> {
    if (!this.analyzer) return false;
    const chunks = await this.chunks.chunksOfDocuments(document.tenantId, [document.id]);
    let excerpt = '';
    for (const chunk of chunks) {
      if (excerpt.length + chunk.text.length > EXCERPT_CHARS) break;
      excerpt += `${chunk.text}\n\n`;
    }
    const analysis = await this.analyzer.analyze(document.filename, excerpt || (chunks[0]?.text.slice(0, EXCERPT_CHARS) ?? ''));
    if (!analysis) {
      this.logger.warn('model analysis unusable; keeping the heuristic analysis', { documentId: document.id });
      return false;
    }
    await this.documents.saveAnalysis(document.tenantId, document.id, { ...(document.analysis ?? {}), ...analysis, method: 'llm', model: this.analyzer.model });
    return true;
  }
}
