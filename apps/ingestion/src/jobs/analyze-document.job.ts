import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { type IngestDocumentPayload, JobName } from '@quarry/contracts';
import type { OpenAiDocumentAnalyzer } from '@quarry/llm';
import type { Logger } from '@quarry/observability';
import { ChunkRepository, type DataSource, DocumentRepository } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER } from '@quarry/service-kit';
import { DOCUMENT_ANALYZER } from '../tokens';

const EXCERPT_CHARS = 12_000;

/**
 * After indexing: with an LLM configured, adds a model's summary, suggested tags, language and
 * chunking recommendation to the heuristic analysis made at parse time. Without one there is
 * nothing to add. Never fails the document: analysis is a bonus, not a gate.
 */
@Controller()
export class AnalyzeDocumentJob {
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

  @EventPattern(JobName.AnalyzeDocument)
  async handle(@Payload() payload: IngestDocumentPayload): Promise<void> {
    if (!this.analyzer) return;
    const document = await this.documents.findById(payload.tenantId, payload.documentId);
    if (!document || document.status !== 'indexed' || document.sha256 !== payload.sha256) return;
    const chunks = await this.chunks.chunksOfDocuments(document.tenantId, [document.id]);
    let excerpt = '';
    for (const chunk of chunks) {
      if (excerpt.length + chunk.text.length > EXCERPT_CHARS) break;
      excerpt += `${chunk.text}\n\n`;
    }
    const analysis = await this.analyzer.analyze(document.filename, excerpt || (chunks[0]?.text.slice(0, EXCERPT_CHARS) ?? ''));
    if (!analysis) {
      this.logger.warn('model analysis unusable; keeping the heuristic analysis', { documentId: document.id });
      return;
    }
    await this.documents.saveAnalysis(document.tenantId, document.id, { ...(document.analysis ?? {}), ...analysis, method: 'llm', model: this.analyzer.model });
  }
}
