import type { QueryTrace, RecordExchangePayload, SentenceSupport } from '@quarry/contracts';
import { LRUCache } from 'lru-cache';
import { passagesOfCitations, sentenceSupport } from './sentence-support';

// A cached answer is served again and again with the same text and citations: its sentence support
// is computed once (tokenizing it for every serving was a third of the agent's CPU under load).
const SUPPORT_BY_ANSWER = new LRUCache<string, SentenceSupport[]>({ max: 2048 });

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
    sentences: supportOf(payload.answer, citations),
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

function supportOf(answer: string, citations: RecordExchangePayload['citations']): SentenceSupport[] {
  const key = JSON.stringify([answer, citations.map((citation) => [citation.index, citation.snippet])]);
  let sentences = SUPPORT_BY_ANSWER.get(key);
  if (!sentences) {
    sentences = sentenceSupport(answer, passagesOfCitations(citations));
    SUPPORT_BY_ANSWER.set(key, sentences);
  }
  // Each trace gets its own copy: a stored trace is never shared with another.
  return sentences.map((sentence) => ({ ...sentence, cited: [...sentence.cited] }));
}
