import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ErrorCode, JobName, type PayloadOf, type ReanalyzeDocumentResult } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { type DataSource, DocumentRepository } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import { ModelAnalysis } from '../analysis/model-analysis.service';
import { ParseStage } from '../stages/parse.stage';

/**
 * Document analysis again, on request (the document.reanalyze task): the stored bytes are parsed
 * anew, which rewrites the heuristic analysis and page count, then the model's pass runs when a
 * model is configured. Chunks and index are untouched. A document that is missing, another
 * tenant's, or not indexed fails the job at once with a reason (permanent errors are not retried).
 */
@Controller()
export class ReanalyzeDocumentJob {
  private readonly documents: DocumentRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    private readonly parse: ParseStage,
    private readonly analysis: ModelAnalysis,
  ) {
    this.documents = new DocumentRepository(dataSource);
  }

  @EventPattern(JobName.ReanalyzeDocument)
  async handle(@Payload() payload: PayloadOf<typeof JobName.ReanalyzeDocument>): Promise<ReanalyzeDocumentResult> {
    const found = await this.documents.findById(payload.tenantId, payload.documentId);
    if (!found) throw new DomainError(ErrorCode.NotFound, `document ${payload.documentId} not found`);
    if (found.status !== 'indexed') throw new DomainError(ErrorCode.Conflict, `document ${payload.documentId} is ${found.status}: only indexed documents are analysed again`);
    await this.parse.produce(found, new AbortController().signal);
    // Read again: the parse just replaced the stored analysis, which the model's pass adds to.
    const parsed = await this.documents.findById(payload.tenantId, payload.documentId);
    if (!parsed) throw new DomainError(ErrorCode.NotFound, `document ${payload.documentId} was deleted during its analysis`);
    const byModel = await this.analysis.addTo(parsed);
    const analysed = byModel ? await this.documents.findById(payload.tenantId, payload.documentId) : parsed;
    const language = analysed?.analysis?.language;
    return { documentId: parsed.id, method: byModel ? 'llm' : 'heuristic', language: typeof language === 'string' ? language : null };
  }
}
