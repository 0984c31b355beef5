import { mapBounded } from '../../cli/map-bounded';
import type { AnswerFailure, AnswerObservation } from './answer-metrics';
import type { AnswerVariant, AskOutcome } from './ask-gateway';

export interface VariantRun {
  variant: AnswerVariant;
  observations: AnswerObservation[];
  failures: AnswerFailure[];
  /** Why the variant was given up (the gateway refused its request shape); its figures are then n/a. */
  unsupported?: string;
}

export type Ask = (query: { id: string; text: string }, variant: AnswerVariant) => Promise<AskOutcome>;

/**
 * Asks every query once per variant, `concurrency` queries at a time. Each query's variants run
 * back to back, in an order that alternates from one query to the next, so neither variant gets
 * the warmer process or the emptier queue throughout. A variant whose request shape the gateway
 * refuses before it accepted any is given up rather than sent for every query.
 */
export async function runVariants(
  queries: ReadonlyArray<{ id: string; text: string }>,
  variants: readonly AnswerVariant[],
  ask: Ask,
  options: { concurrency: number; onProgress?: (done: number, total: number) => void },
): Promise<VariantRun[]> {
  const runs: VariantRun[] = variants.map((variant) => ({ variant, observations: [], failures: [] }));
  let done = 0;
  await mapBounded(queries, options.concurrency, async (query, index) => {
    const order = index % 2 === 0 ? runs : [...runs].reverse();
    for (const run of order) {
      if (run.unsupported !== undefined) continue;
      const outcome = await ask(query, run.variant);
      if (outcome.ok) run.observations.push(outcome.observation);
      // A refusal after an accepted request is this query's problem (say, a too-long question), not the variant's.
      else if (outcome.rejected && run.observations.length === 0) run.unsupported ??= outcome.failure.error;
      else run.failures.push(outcome.failure);
    }
    options.onProgress?.(++done, queries.length);
  });
  return runs;
}
