import { Annotation } from '@langchain/langgraph';
import type { AnswerRoute, HistoryMessage, SearchFilters, SearchHit } from '@quarry/contracts';
import type { GeneratedAnswer, Passage } from '@quarry/llm';
import type { AnswerPlan, Evaluation, QuestionAnalysis, StepResult } from '../reasoning/judgements';

/** An answer the loop produced, kept while a refinement tries to do better. */
export interface AnswerCandidate {
  hits: SearchHit[];
  passages: Passage[];
  generated: GeneratedAnswer;
  evaluation: Evaluation | undefined;
}

/**
 * What flows through the agent's graph; each node returns the fields it fills in. Groups: the
 * question (input), analysis, planning and execution (complex route), retrieval and generation
 * (simple route), evaluation and refinement.
 */
export const AgentState = Annotation.Root({
  // The question.
  tenantId: Annotation<string>,
  question: Annotation<string>,
  /** The question as searched: the question itself, or made standalone from the conversation. */
  searchQuestion: Annotation<string>,
  topK: Annotation<number>,
  filters: Annotation<SearchFilters | undefined>,
  history: Annotation<HistoryMessage[]>,
  /** Documents the previous turn cited: a follow-up also searches them. */
  preferredDocumentIds: Annotation<string[]>,
  maxRefinements: Annotation<number>,

  // Analysis.
  analysis: Annotation<QuestionAnalysis>,
  route: Annotation<AnswerRoute>,

  // Planning and execution.
  answerPlan: Annotation<AnswerPlan | undefined>,
  results: Annotation<StepResult[]>,

  // Retrieval and generation.
  /** Rephrasings of the question written by the chat model, searched too (multi-query retrieval). */
  variants: Annotation<string[]>,
  hits: Annotation<SearchHit[]>,
  retrievalMs: Annotation<number>,
  /** The passages the answer draws on, numbered 1..n as it cites them. */
  passages: Annotation<Passage[]>,
  generated: Annotation<GeneratedAnswer>,
  generationMs: Annotation<number>,

  // Evaluation and refinement.
  evaluation: Annotation<Evaluation | undefined>,
  /** Refine rounds taken so far. */
  round: Annotation<number>,
  /** The best answer so far: a refinement that scores lower does not replace it. */
  best: Annotation<AnswerCandidate | undefined>,
  /** Whether the loop goes on, and why not when it stops. */
  loop: Annotation<{ next: boolean; reason: string } | undefined>,
});
export type AgentStateValue = typeof AgentState.State;
export type AgentInput = Pick<AgentStateValue, 'tenantId' | 'question' | 'searchQuestion' | 'topK' | 'filters' | 'history' | 'preferredDocumentIds' | 'maxRefinements'>;
