import type { IngestDocumentPayload, IngestionStage } from '@quarry/contracts';
import type { DocumentEntity, FinishedAttempt } from '@quarry/persistence';

/** What a step gets: the document, its payload, a cancellation signal and a progress reporter. */
export interface StageInput {
  document: DocumentEntity;
  payload: IngestDocumentPayload;
  signal: AbortSignal;
  /** Fraction of this step done, 0..1 (mapped onto the document's overall progress). */
  reportProgress: (fraction: number) => Promise<void>;
  /**
   * The attempt rows to write in the transaction that makes the step's output final, stamped now
   * (the step has done its work when it asks): for a step with `commitsHistory`.
   */
  commitHistory: () => FinishedAttempt[];
}

export interface PipelineStage {
  readonly name: IngestionStage;
  /** The step records its own completed attempt in its commit; the runner must not record it again. */
  readonly commitsHistory?: boolean;
  run(input: StageInput): Promise<void>;
}

/** Overall progress at the start of each step (the index step ends at 100). */
export const STAGE_PROGRESS: Record<IngestionStage, { from: number; to: number }> = {
  parse: { from: 0, to: 25 },
  chunk: { from: 25, to: 40 },
  embed: { from: 40, to: 90 },
  index: { from: 90, to: 100 },
};
