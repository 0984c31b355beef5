import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { ArtifactRepository, type DataSource } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { DocumentChunker, TextChunk } from '../chunking/document-chunker';
import type { ParsedDocument } from '../parsing/parsed-document';
import type { PipelineStage, StageInput } from '../pipeline/stage';
import { DOCUMENT_CHUNKER } from '../tokens';

/** Step 2: sections → token-bounded chunks with provenance (the `chunks` artifact). */
@Injectable()
export class ChunkStage implements PipelineStage {
  readonly name = 'chunk' as const;
  private readonly artifacts: ArtifactRepository;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(DOCUMENT_CHUNKER) private readonly chunker: DocumentChunker,
  ) {
    this.artifacts = new ArtifactRepository(dataSource);
  }

  async run({ document, payload, signal }: StageInput): Promise<void> {
    if (await this.artifacts.load(document.tenantId, document.id, 'chunks', payload.sha256)) return;
    const parsed = (await this.artifacts.load(document.tenantId, document.id, 'parsed', payload.sha256))?.data as ParsedDocument | undefined;
    if (!parsed) throw new DomainError(ErrorCode.Internal, 'the parse step left no output; re-running from parse');
    await this.artifacts.save(document.tenantId, document.id, 'chunks', payload.sha256, { data: await this.produce(parsed, signal) });
  }

  /** Chunks every section, numbering chunks across the document and merging section provenance. */
  async produce(parsed: ParsedDocument, signal: AbortSignal): Promise<TextChunk[]> {
    const chunks: TextChunk[] = [];
    for (const [sectionIndex, section] of parsed.sections.entries()) {
      signal.throwIfAborted();
      const pieces = await this.chunker.split(section.text, parsed.format === 'markdown' ? 'markdown' : 'plain');
      for (const piece of pieces) {
        const headingPath = [...(section.headingPath ?? []), ...(piece.provenance.headingPath ?? [])];
        chunks.push({
          ...piece,
          ordinal: chunks.length,
          provenance: {
            ...piece.provenance,
            ...(parsed.sections.length > 1 ? { section: sectionIndex } : {}),
            ...(section.page !== undefined ? { page: section.page } : {}),
            ...(headingPath.length > 0 ? { headingPath } : {}),
          },
        });
      }
    }
    if (chunks.length === 0) throw new DomainError(ErrorCode.EmptyDocument, 'the document contains no text');
    return chunks;
  }
}
