import { END, START, StateGraph } from '@langchain/langgraph';
import { JobName } from '@quarry/contracts';
import type { AnswerGenerator, ContextPacker, PackingStrategy } from '@quarry/llm';
import type { JobClient } from '@quarry/transport';
import { AnswerState, type AnswerStateValue } from './answer-state';

/**
 * The agent's answer flow as a LangGraph graph: retrieve (a request to the retrieval service over
 * its queue) → generate (fit the hits into the context budget — relevance, diversity, no
 * near-duplicates — then the local extractive generator or an OpenAI-compatible model). Later steps (planning,
 * evaluation) are added as nodes here.
 */
export interface ContextBudget {
  packer: ContextPacker;
  budgetTokens: number;
  strategy: PackingStrategy;
}

export function buildAnswerGraph(jobs: JobClient, generator: AnswerGenerator, context: ContextBudget) {
  const retrieve = async (state: AnswerStateValue): Promise<Partial<AnswerStateValue>> => {
    const started = performance.now();
    const reply = await jobs.request(JobName.SearchChunks, {
      tenantId: state.tenantId,
      query: state.question,
      topK: state.topK,
      filters: state.filters,
    });
    return { hits: reply.hits, retrievalMs: performance.now() - started };
  };

  const generate = async (state: AnswerStateValue): Promise<Partial<AnswerStateValue>> => {
    const started = performance.now();
    const retrieved = state.hits.map((hit, position) => ({
      index: position + 1,
      chunkId: hit.chunkId,
      documentId: hit.documentId,
      filename: hit.filename,
      text: hit.text,
      score: hit.score,
    }));
    const { passages } = context.packer.pack(retrieved, { budgetTokens: context.budgetTokens, strategy: context.strategy });
    const generated = await generator.generate(state.question, passages);
    return { passages, generated, generationMs: performance.now() - started };
  };

  return new StateGraph(AnswerState)
    .addNode('retrieve', retrieve)
    .addNode('generate', generate)
    .addEdge(START, 'retrieve')
    .addEdge('retrieve', 'generate')
    .addEdge('generate', END)
    .compile();
}
export type AnswerGraph = ReturnType<typeof buildAnswerGraph>;
