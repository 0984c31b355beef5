import type { AnswerQuestionReply, AnswerStreamEvent, Citation, QueryTrace } from '@quarry/contracts';
import { type GeneratedAnswer, type Passage, sentenceSupport } from '@quarry/llm';
import { citationOf } from '../graph/agent-nodes';
import type { AgentStateValue } from '../graph/agent-state';
import type { TraceRecorder } from '../graph/trace-recorder';

/** The answer the loop settles on: the best-scoring round's (a refinement that scored lower does not replace it). */
export interface FinalAnswer {
  generated: GeneratedAnswer;
  passages: Passage[];
  citations: Citation[];
  hitCount: number;
}

export function finalAnswer(state: AgentStateValue): FinalAnswer {
  const chosen = state.best ?? { generated: state.generated, passages: state.passages ?? [], hits: state.hits ?? [] };
  const hits = chosen.hits ?? [];
  const passages = chosen.passages ?? [];
  const citations = chosen.generated.citedPassageIndexes
    .map((index) => passages.find((passage) => passage.index === index))
    .filter((passage): passage is Passage => passage !== undefined)
    .map((passage) => citationOf(passage, hits));
  return { generated: chosen.generated, passages, citations, hitCount: hits.length };
}

// Word groups of a finished answer sent as token events (what a model's stream looks like).
const STREAM_PIECE = /\S+\s*/g;

/** The finished answer's text as token events (when it was not streamed live), then its citations. */
export function streamFinished(answer: FinalAnswer, emit: (event: AnswerStreamEvent) => void, tokensSent: boolean): void {
  if (!tokensSent) for (const [delta] of answer.generated.answer.matchAll(STREAM_PIECE)) emit({ type: 'token', delta });
  for (const citation of answer.citations) emit({ type: 'citation', citation });
}

export interface TraceFacts {
  queryId: string;
  conversationId: string;
  question: string;
  reply: AnswerQuestionReply;
  state: AgentStateValue;
  answer: FinalAnswer;
  trace: TraceRecorder;
}

/** The query's audit trail, as GET /api/queries/{id}/trace returns it. */
export function queryTrace(facts: TraceFacts): QueryTrace {
  const { state, reply, answer, trace } = facts;
  return {
    queryId: facts.queryId,
    conversationId: facts.conversationId,
    question: facts.question,
    ...(state.searchQuestion !== facts.question ? { standaloneQuestion: state.searchQuestion } : {}),
    source: 'agent',
    route: state.route,
    startedAt: trace.startedAt.toISOString(),
    durationMs: reply.timings.totalMs,
    generator: reply.generator,
    answer: reply.answer,
    citations: reply.citations,
    sentences: sentenceSupport(reply.answer, answer.passages),
    ...(reply.evaluation ? { evaluation: reply.evaluation } : {}),
    refinements: state.round ?? 0,
    usage: reply.usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    steps: [...trace.steps],
  };
}
