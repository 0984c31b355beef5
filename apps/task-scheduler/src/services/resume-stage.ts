import type { IngestionStage } from '@quarry/contracts';
import type { ArtifactKind } from '@quarry/persistence';

const OUTPUT_OF: ReadonlyArray<readonly [IngestionStage, ArtifactKind]> = [
  ['parse', 'parsed'],
  ['chunk', 'chunks'],
  ['embed', 'embeddings'],
];

/**
 * Where a stuck document resumes: the first step whose output is missing. Not the stage recorded on
 * the document, which says which step last started — a step may have stored its output and then
 * failed to hand over (its successor's job failed, Redis went away), and re-running it would only
 * hand over to the same jammed successor again. A small document that ran inline stores no outputs
 * and so restarts at parse; with every output stored, only the index step is left.
 */
export function resumeStage(outputs: ReadonlySet<ArtifactKind>): IngestionStage {
  for (const [stage, kind] of OUTPUT_OF) if (!outputs.has(kind)) return stage;
  return 'index';
}
