import { randomUUID } from 'node:crypto';
import { QueryTrace } from '@quarry/contracts';
import { cachedExchangeTrace } from './cached-exchange-trace';

describe('cachedExchangeTrace', () => {
  it('is the trace of an answer served from the answer cache without what its conversation holds: one decision step, no answer, citations or sentences', () => {
    const citation = {
      index: 1,
      documentId: randomUUID(),
      chunkId: randomUUID(),
      filename: 'handbook.md',
      snippet: 'Employees get 31 days of paid vacation per calendar year.',
      score: 0.8,
      provenance: { page: 2 },
    };
    const payload = {
      tenantId: 'acme',
      queryId: randomUUID(),
      conversationId: randomUUID(),
      question: 'How many vacation days?',
      answer: 'Employees get 31 days of paid vacation [1]. Ask the rocket team [1].',
      citations: [citation],
      generator: 'extractive',
      source: 'answer-cache' as const,
      totalMs: 2.5,
    };
    const startedAt = new Date('2025-01-15T09:30:00.000Z');
    const trace = cachedExchangeTrace(payload, startedAt);
    // Whole once the answer and citations of its conversation are added (QueryTraceRepository.find) and sentence support computed.
    const whole = { ...trace, answer: payload.answer, citations: payload.citations, sentences: [] };
    expect(QueryTrace.parse(whole)).toEqual(whole);
    expect(trace).not.toHaveProperty('answer');
    expect(trace).not.toHaveProperty('citations');
    expect(trace).not.toHaveProperty('sentences');
    expect(trace).toMatchObject({
      queryId: payload.queryId,
      conversationId: payload.conversationId,
      source: 'answer-cache',
      startedAt: '2025-01-15T09:30:00.000Z',
      durationMs: 2.5,
      refinements: 0,
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      steps: [{ type: 'decision', node: 'answer-cache', decision: 'served from the answer cache' }],
    });
    expect(trace.route).toBeUndefined();
  });
});
