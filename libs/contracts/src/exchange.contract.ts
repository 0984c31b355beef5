import { z } from 'zod';
import { AnswerQuestionRequest, Citation } from './agent.contract';
import { JobMeta } from './common.schema';

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
  /** The id the gateway gave this query (its reply named it): its trace is recorded under it. */
  queryId: z.uuid().optional(),
});
export type RecordExchangePayload = z.input<typeof RecordExchangePayload>;

/** Exchanges per `agent.record-exchanges` job. */
export const RECORD_EXCHANGES_MAX = 500;

/**
 * Many exchanges in one job: what the gateway sends (one job per ~50 ms under load instead of one
 * per cached answer, which cost a queue write in the gateway and a job in the agent each). Each is
 * recorded as `agent.record-exchange` records one.
 */
export const RecordExchangesPayload = JobMeta.extend({
  exchanges: z.array(RecordExchangePayload).min(1).max(RECORD_EXCHANGES_MAX),
});
export type RecordExchangesPayload = z.input<typeof RecordExchangesPayload>;
