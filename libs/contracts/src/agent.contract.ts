import { z } from 'zod';
import { JobMeta, SearchFilters, TenantId, safeText } from './common.schema';

export const AnswerQuestionRequest = JobMeta.extend({
  tenantId: TenantId,
  question: safeText(z.string().trim().min(1, 'question must not be empty').max(4000)),
  filters: SearchFilters.optional(),
  topK: z.number().int().min(1).max(50).default(6),
  conversationId: z.uuid().optional(),
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

export const AnswerQuestionReply = z.object({
  answer: z.string(),
  citations: z.array(Citation),
  generator: z.string(),
  conversationId: z.uuid(),
  timings: z.object({ retrievalMs: z.number(), generationMs: z.number(), totalMs: z.number() }),
});
export type AnswerQuestionReply = z.infer<typeof AnswerQuestionReply>;
