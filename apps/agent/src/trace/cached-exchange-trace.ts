import type { RecordExchangePayload } from '@quarry/contracts';
import type { CachedServingTrace } from '@quarry/persistence';

/** The node name the trace of a cached answer gives its one step. */
export const ANSWER_CACHE_NODE = 'answer-cache';

/**
 * The trace of an answer the gateway served from its answer cache (the agent never ran): one
 * decision step, stored without the answer and its citations (the serving's conversation holds
 * them; the trace is completed when read). `startedAt` is when the gateway took the question (the
 * payload carries how long it took).
 */
export function cachedExchangeTrace(payload: RecordExchangePayload & { queryId: string }, startedAt: Date): CachedServingTrace {
  return {
    queryId: payload.queryId,
    conversationId: payload.conversationId,
    question: payload.question,
    source: 'answer-cache',
    startedAt: startedAt.toISOString(),
    durationMs: payload.totalMs,
    generator: payload.generator,
    refinements: 0,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    steps: [
      {
        type: 'decision',
        node: ANSWER_CACHE_NODE,
        atMs: 0,
        decision: 'served from the answer cache',
        reason: 'the tenant asked this question before on the same documents (same normalised text, filters and topK); the cached answer and its citations were returned without running the agent',
      },
    ],
  };
}
