import { z } from 'zod';
import { AnswerQuestionRequest, Citation } from './agent.contract';

/**
 * An answer given without the agent (the gateway's answer cache), to be recorded as the agent
 * records its own: the exchange starts a conversation under `conversationId` (so the client can
 * continue it) and goes into the query log. An event: the reply does not wait for it.
 */
export const RecordExchangePayload = AnswerQuestionRequest.pick({ correlationId: true, tenantId: true, question: true, filters: true, topK: true }).extend({
  conversationId: z.uuid(),
  answer: z.string(),
  citations: z.array(Citation),
  generator: z.string(),
  /** Where the answer came from: `answer-cache` for the gateway's cache. */
  source: z.enum(['answer-cache']),
  /** How long the gateway took to answer, in milliseconds. */
  totalMs: z.number().min(0),
});
export type RecordExchangePayload = z.input<typeof RecordExchangePayload>;
