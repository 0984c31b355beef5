import { Annotation } from '@langchain/langgraph';
import type { SearchFilters, SearchHit } from '@quarry/contracts';
import type { GeneratedAnswer } from '@quarry/llm';

/** What flows through the answer graph; each node returns the fields it fills in. */
export const AnswerState = Annotation.Root({
  tenantId: Annotation<string>,
  question: Annotation<string>,
  topK: Annotation<number>,
  filters: Annotation<SearchFilters | undefined>,
  hits: Annotation<SearchHit[]>,
  retrievalMs: Annotation<number>,
  generated: Annotation<GeneratedAnswer>,
  generationMs: Annotation<number>,
});
export type AnswerStateValue = typeof AnswerState.State;
