import { Annotation } from '@langchain/langgraph';
import type { SearchFilters, SearchHit } from '@quarry/contracts';
import type { GeneratedAnswer, Passage } from '@quarry/llm';

/** What flows through the answer graph; each node returns the fields it fills in. */
export const AnswerState = Annotation.Root({
  tenantId: Annotation<string>,
  question: Annotation<string>,
  topK: Annotation<number>,
  filters: Annotation<SearchFilters | undefined>,
  /** Rephrasings of the question written by the chat model, searched too (multi-query retrieval). */
  variants: Annotation<string[]>,
  /** Time spent writing them, counted as retrieval time. */
  rewriteMs: Annotation<number>,
  hits: Annotation<SearchHit[]>,
  retrievalMs: Annotation<number>,
  /** The hits that fit the context budget, renumbered 1..n as the generator cites them. */
  passages: Annotation<Passage[]>,
  generated: Annotation<GeneratedAnswer>,
  generationMs: Annotation<number>,
});
export type AnswerStateValue = typeof AnswerState.State;
