import { QueryTrace } from '@quarry/contracts';
import { z } from 'zod';

// The shapes of the query audit routes. The OpenAPI document (apps/gateway/src/openapi) is
// generated from these very objects.

const EXAMPLE_QUERY_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const EXAMPLE_CONVERSATION_ID = '0b9d5c2e-8f3a-4c61-9d2e-5a7b8c9d0e1f';

export const QueryId = z.uuid({ message: 'query id must be a UUID' }).meta({
  description: 'The `queryId` a `POST /api/query` reply named.',
  examples: [EXAMPLE_QUERY_ID],
});

export const REPORT_FORMATS = ['markdown', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const ReportQuery = z.object({
  format: z
    .enum(REPORT_FORMATS)
    .optional()
    .meta({ description: 'The report\'s format. Without it: HTML when `Accept` asks for `text/html` (and not `text/markdown`), Markdown otherwise.' }),
});

const EXAMPLE_TRACE: z.input<typeof QueryTrace> = {
  queryId: EXAMPLE_QUERY_ID,
  conversationId: EXAMPLE_CONVERSATION_ID,
  question: 'How many days of paid vacation do employees get?',
  source: 'agent',
  route: 'simple',
  startedAt: '2025-01-15T09:30:00.000Z',
  durationMs: 41.2,
  generator: 'extractive',
  answer: 'Employees get 31 days of paid vacation per calendar year [1].',
  citations: [
    {
      index: 1,
      documentId: '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
      chunkId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
      filename: 'handbook.md',
      snippet: 'Employees get 31 days of paid vacation per calendar year.',
      score: 0.82,
      provenance: { page: 2 },
    },
  ],
  sentences: [{ text: 'Employees get 31 days of paid vacation per calendar year [1].', cited: [1], supportedBy: 1 }],
  evaluation: { groundedness: 1, coverage: 0.8, citationValidity: 1, overall: 0.93 },
  refinements: 0,
  usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
  steps: [
    { type: 'decision', node: 'analyze', atMs: 0.4, decision: 'simple', reason: 'one entity, no computation: one retrieval answers it' },
    { type: 'tool', atMs: 0.6, tool: 'search', input: { query: 'paid vacation days employees' }, outcome: 'ok', summary: '6 passages from 2 documents', durationMs: 12.3 },
    { type: 'evaluation', atMs: 40.1, round: 0, scores: { groundedness: 1, coverage: 0.8, citationValidity: 1, overall: 0.93 }, threshold: 0.6, evaluator: 'local' },
  ],
};

export const QueryTraceView = QueryTrace.meta({
  description:
    "A query's audit trail: what the agent did, in order, and why (nodes, decisions, plans, tool calls with their input and result, model calls with tokens, evaluations, refinements), the sources it cited and, per answer sentence, the passage that supports it. Times are milliseconds since the query started.",
  examples: [EXAMPLE_TRACE],
});
