import { z } from 'zod';
import { JobMeta, SearchFilters, TenantId, safeText } from './common.schema';

/** One earlier turn of a conversation. */
export const HistoryMessage = z.object({
  role: z.enum(['user', 'assistant']),
  content: safeText(z.string().max(32_000)),
});
export type HistoryMessage = z.infer<typeof HistoryMessage>;

export const AnswerQuestionRequest = JobMeta.extend({
  tenantId: TenantId,
  question: safeText(z.string().trim().min(1, 'question must not be empty').max(4000)),
  filters: SearchFilters.optional(),
  topK: z.number().int().min(1).max(50).default(6),
  conversationId: z.uuid().optional(),
  /**
   * The conversation so far, oldest first, when the client holds it (the OpenAI-compatible API
   * sends its message list): used instead of the stored conversation's messages.
   */
  history: z.array(HistoryMessage).max(100).optional(),
  /** How many refine rounds the answer may take (default: AGENT_MAX_REFINEMENTS); 0 turns the loop off. */
  maxRefinements: z.number().int().min(0).max(3).optional(),
  /** Publish the answer's progress (steps, sources, token deltas, citations) on this stream as it is made. */
  stream: z.object({ id: z.uuid() }).optional(),
});
export type AnswerQuestionRequest = z.input<typeof AnswerQuestionRequest>;

export const Citation = z.object({
  index: z.number().int().min(1),
  documentId: z.uuid(),
  chunkId: z.uuid(),
  filename: z.string(),
  snippet: z.string(),
  score: z.number(),
  provenance: z.record(z.string(), z.unknown()),
});
export type Citation = z.infer<typeof Citation>;

/** Which way the agent went: one retrieval then an answer, or a plan of tool calls. */
export const AnswerRoute = z.enum(['simple', 'complex']);
export type AnswerRoute = z.infer<typeof AnswerRoute>;

/** The evaluator's scores of an answer, each 0..1. */
export const AnswerScores = z.object({
  /** Share of the answer's sentences supported by a passage they cite. */
  groundedness: z.number().min(0).max(1),
  /** Share of the question's content terms the answer addresses. */
  coverage: z.number().min(0).max(1),
  /** Share of citation markers that name a passage that exists and bears on the sentence. */
  citationValidity: z.number().min(0).max(1),
  /** The combined score the refine loop compares with its threshold. */
  overall: z.number().min(0).max(1),
});
export type AnswerScores = z.infer<typeof AnswerScores>;

/** Tokens spent by model calls for one answer (0 with the local defaults). */
export const TokenUsage = z.object({
  promptTokens: z.number().int().min(0),
  completionTokens: z.number().int().min(0),
  totalTokens: z.number().int().min(0),
});
export type TokenUsage = z.infer<typeof TokenUsage>;

export const AnswerQuestionReply = z.object({
  answer: z.string(),
  citations: z.array(Citation),
  generator: z.string(),
  conversationId: z.uuid(),
  timings: z.object({ retrievalMs: z.number(), generationMs: z.number(), totalMs: z.number() }),
  /** The id of this query's audit trail: GET /api/queries/{queryId}/trace and /report. */
  queryId: z.uuid().optional(),
  route: AnswerRoute.optional(),
  /** Refine rounds taken (re-retrievals or re-plans after a low evaluation). */
  refinements: z.number().int().min(0).optional(),
  evaluation: AnswerScores.optional(),
  usage: TokenUsage.optional(),
});
export type AnswerQuestionReply = z.infer<typeof AnswerQuestionReply>;
