import { END, START, StateGraph } from '@langchain/langgraph';
import { JobName } from '@quarry/contracts';
import type { AnswerGenerator } from '@quarry/llm';
import type { JobClient } from '@quarry/transport';
import { AnswerState, type AnswerStateValue } from './answer-state';

/**
 * The agent's answer flow as a LangGraph graph: retrieve (a request to the retrieval service over
 * its queue) → generate (local extractive or an OpenAI-compatible model). Later steps (planning,
 * evaluation) are added as nodes here.
 */
export function buildAnswerGraph(jobs: JobClient, generator: AnswerGenerator) {
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
    const passages = state.hits.map((hit, position) => ({
      index: position + 1,
      chunkId: hit.chunkId,
      documentId: hit.documentId,
      filename: hit.filename,
      text: hit.text,
      score: hit.score,
    }));
    const generated = await generator.generate(state.question, passages);
    return { generated, generationMs: performance.now() - started };
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
