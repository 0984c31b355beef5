import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { type IngestDocumentPayload, JobName } from '@quarry/contracts';
import { type DataSource, DocumentRepository } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import { ModelAnalysis } from '../analysis/model-analysis.service';

/**
 * After indexing: with an LLM configured, adds a model's summary, suggested tags, language and
 * chunking recommendation to the heuristic analysis made at parse time. Without one there is
 * nothing to add. Never fails the document: analysis is a bonus, not a gate.
 */
@Controller()
export class AnalyzeDocumentJob {
  private readonly documents: DocumentRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    private readonly analysis: ModelAnalysis,
  ) {
    this.documents = new DocumentRepository(dataSource);
  }

  @EventPattern(JobName.AnalyzeDocument)
  async handle(@Payload() payload: IngestDocumentPayload): Promise<void> {
    if (!this.analysis.enabled) return;
    const document = await this.documents.findById(payload.tenantId, payload.documentId);
    if (!document || document.status !== 'indexed' || document.sha256 !== payload.sha256) return;
    await this.analysis.addTo(document);
  }
}
