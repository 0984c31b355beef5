import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { ArtifactRepository, type DataSource, type DocumentEntity, DocumentRepository } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { DocumentParser, ParsedDocument } from '../parsing/parsed-document';
import type { PipelineStage, StageInput } from '../pipeline/stage';
import { DOCUMENT_PARSER } from '../tokens';
import { analyzeHeuristically } from './heuristic-analysis';

/** Step 1: stored bytes → text sections (kept as the `parsed` artifact) + a first analysis. */
@Injectable()
export class ParseStage implements PipelineStage {
  readonly name = 'parse' as const;
  private readonly documents: DocumentRepository;
  private readonly artifacts: ArtifactRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(DOCUMENT_PARSER) private readonly parser: DocumentParser,
  ) {
    this.documents = new DocumentRepository(dataSource);
    this.artifacts = new ArtifactRepository(dataSource);
  }

  async run({ document, payload, signal }: StageInput): Promise<void> {
    if (await this.artifacts.load(document.tenantId, document.id, 'parsed', payload.sha256)) return;
    await this.artifacts.save(document.tenantId, document.id, 'parsed', payload.sha256, { data: await this.produce(document, signal) });
  }

  /** Parses the stored bytes and records what parsing learned (pages, heuristic analysis). */
  async produce(document: DocumentEntity, signal: AbortSignal): Promise<ParsedDocument> {
    const bytes = await this.documents.content(document.tenantId, document.id);
    if (!bytes) throw new DomainError(ErrorCode.NotFound, 'the stored content of this document is missing');
    const parsed = await this.parser.parse(bytes, { filename: document.filename, signal });
    const sections = parsed.sections.filter((section) => section.text.trim().length > 0);
    if (sections.length === 0) {
      throw parsed.format === 'pdf'
        ? new DomainError(ErrorCode.NoExtractableText, 'no extractable text — needs OCR')
        : new DomainError(ErrorCode.EmptyDocument, 'the document contains no text');
    }
    await this.documents.saveParseFacts(document.tenantId, document.id, {
      pageCount: parsed.metadata.pageCount ?? null,
      analysis: { ...analyzeHeuristically(parsed.format, sections), method: 'heuristic' },
    });
    return { ...parsed, sections };
  }
}
