import type { QueryTrace, RecordExchangePayload } from '@quarry/contracts';
import { passagesOfCitations, sentenceSupport } from './sentence-support';

/** The node name the trace of a cached answer gives its one step. */
export const ANSWER_CACHE_NODE = 'answer-cache';

/**
 * The trace of an answer the gateway served from its answer cache (the agent never ran): one
 * decision step, the citations it served, and per sentence the cited snippet that supports it.
 * `startedAt` is when the gateway took the question (the payload carries how long it took).
 */
export function cachedExchangeTrace(payload: RecordExchangePayload & { queryId: string }, startedAt: Date): QueryTrace {
  const citations = payload.citations.map((citation) => ({ ...citation }));
  return {
    queryId: payload.queryId,
    conversationId: payload.conversationId,
    question: payload.question,
    source: 'answer-cache',
    startedAt: startedAt.toISOString(),
    durationMs: payload.totalMs,
    generator: payload.generator,
    answer: payload.answer,
    citations,
    sentences: sentenceSupport(payload.answer, passagesOfCitations(citations)),
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
