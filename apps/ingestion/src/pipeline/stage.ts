import type { IngestDocumentPayload, IngestionStage } from '@quarry/contracts';
import type { DocumentEntity } from '@quarry/persistence';

/** What a step gets: the document, its payload, a cancellation signal and a progress reporter. */
export interface StageInput {
  document: DocumentEntity;
  payload: IngestDocumentPayload;
  signal: AbortSignal;
  /** Fraction of this step done, 0..1 (mapped onto the document's overall progress). */
  reportProgress: (fraction: number) => Promise<void>;
}

export interface PipelineStage {
  readonly name: IngestionStage;
  run(input: StageInput): Promise<void>;
}

/** Overall progress at the start of each step (the index step ends at 100). */
export const STAGE_PROGRESS: Record<IngestionStage, { from: number; to: number }> = {
  parse: { from: 0, to: 25 },
  chunk: { from: 25, to: 40 },
  embed: { from: 40, to: 90 },
  index: { from: 90, to: 100 },
};
