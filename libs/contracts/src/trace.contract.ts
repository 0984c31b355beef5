import { z } from 'zod';
import { AnswerRoute, AnswerScores, Citation, TokenUsage } from './agent.contract';

// The audit trail of one query: what the agent did, in order, and why. The agent builds it while
// it answers and writes it with the exchange; GET /api/queries/{id}/trace returns it and
// GET /api/queries/{id}/report renders it. Times are milliseconds since the query started.

/** One step of a plan: a tool call, run once the steps it depends on have run. */
export const PlanStep = z.object({
  id: z.string().min(1).max(40),
  tool: z.string().min(1).max(40),
  input: z.record(z.string(), z.unknown()),
  dependsOn: z.array(z.string()).max(20),
  /** Why the step is there, in a few words. */
  purpose: z.string().max(500),
});
export type PlanStep = z.infer<typeof PlanStep>;

const at = { atMs: z.number().min(0) };

export const TraceStep = z.discriminatedUnion('type', [
  /** A graph node ran. */
  z.object({ type: z.literal('node'), node: z.string(), ...at, durationMs: z.number().min(0), outcome: z.enum(['ok', 'error', 'cancelled']) }),
  /** A choice the agent made (route, refine or stop) and why. */
  z.object({ type: z.literal('decision'), node: z.string(), ...at, decision: z.string(), reason: z.string() }),
  z.object({ type: z.literal('plan'), ...at, round: z.number().int().min(0), steps: z.array(PlanStep), reason: z.string() }),
  z.object({
    type: z.literal('tool'),
    ...at,
    stepId: z.string().optional(),
    tool: z.string(),
    input: z.unknown(),
    outcome: z.enum(['ok', 'error', 'timeout', 'refused']),
    /** What came back, in one line (or why it failed). */
    summary: z.string(),
    durationMs: z.number().min(0),
  }),
  z.object({
    type: z.literal('model'),
    ...at,
    model: z.string(),
    /** What the call was for: analyze, plan, synthesize, evaluate, rewrite, generate. */
    purpose: z.string(),
    promptTokens: z.number().int().min(0),
    completionTokens: z.number().int().min(0),
    durationMs: z.number().min(0),
  }),
  z.object({ type: z.literal('evaluation'), ...at, round: z.number().int().min(0), scores: AnswerScores, threshold: z.number().min(0).max(1), evaluator: z.string() }),
  z.object({
    type: z.literal('refinement'),
    ...at,
    round: z.number().int().min(1),
    action: z.enum(['rephrase', 'broaden', 'replan']),
    query: z.string().optional(),
    reason: z.string(),
  }),
]);
export type TraceStep = z.infer<typeof TraceStep>;

/** One sentence of the answer and the passage that supports it (null: none does). */
export const SentenceSupport = z.object({
  text: z.string(),
  /** The citation numbers the sentence carries. */
  cited: z.array(z.number().int().min(1)),
  /** The citation number of the passage that supports it best, or null when none does. */
  supportedBy: z.number().int().min(1).nullable(),
});
export type SentenceSupport = z.infer<typeof SentenceSupport>;

export const QueryTrace = z.object({
  queryId: z.uuid(),
  conversationId: z.uuid(),
  question: z.string(),
  /** The question as searched, when conversation history changed it. */
  standaloneQuestion: z.string().optional(),
  /** `agent`: answered by the agent; `answer-cache`: served by the gateway's answer cache. */
  source: z.enum(['agent', 'answer-cache']),
  route: AnswerRoute.optional(),
  startedAt: z.iso.datetime(),
  durationMs: z.number().min(0),
  generator: z.string(),
  answer: z.string(),
  citations: z.array(Citation),
  sentences: z.array(SentenceSupport),
  evaluation: AnswerScores.optional(),
  refinements: z.number().int().min(0),
  usage: TokenUsage,
  steps: z.array(TraceStep),
});
export type QueryTrace = z.infer<typeof QueryTrace>;
