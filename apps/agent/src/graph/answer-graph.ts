import { END, START, StateGraph } from '@langchain/langgraph';
import { JobName } from '@quarry/contracts';
import type { AnswerGenerator, ContextPacker, PackingStrategy, QueryRewriter } from '@quarry/llm';
import type { JobClient } from '@quarry/transport';
import { AnswerState, type AnswerStateValue } from './answer-state';

export interface ContextBudget {
  packer: ContextPacker;
  budgetTokens: number;
  strategy: PackingStrategy;
}

/** Multi-query retrieval: the chat model writes `count` rephrasings of each question. */
export interface QueryExpansion {
  rewriter: QueryRewriter;
  count: number;
  /** A failed rewrite costs the answer its variants, not the answer: it is reported here. */
  onError: (error: unknown) => void;
}

/**
 * The agent's answer flow as a LangGraph graph: [rewrite (the chat model rephrases the question,
 * when QUERY_VARIANTS is set)] → retrieve (a request to the retrieval service over its queue, with
 * the rephrasings) → generate (fit the hits into the context budget — relevance, diversity, no
 * near-duplicates — then the local extractive generator or an OpenAI-compatible model). Later steps
 * (planning, evaluation) are added as nodes here.
 */
export function buildAnswerGraph(jobs: JobClient, generator: AnswerGenerator, context: ContextBudget, expansion?: QueryExpansion) {
  const rewrite = async (state: AnswerStateValue): Promise<Partial<AnswerStateValue>> => {
    const started = performance.now();
    let variants: string[] = [];
    try {
      variants = expansion ? await expansion.rewriter.rephrase(state.question, expansion.count) : [];
    } catch (error) {
      expansion?.onError(error);
    }
    return { variants, rewriteMs: performance.now() - started };
  };

  const retrieve = async (state: AnswerStateValue): Promise<Partial<AnswerStateValue>> => {
    const started = performance.now();
    const reply = await jobs.request(JobName.SearchChunks, {
      tenantId: state.tenantId,
      query: state.question,
      topK: state.topK,
      filters: state.filters,
      ...(state.variants?.length ? { variants: state.variants } : {}),
    });
    return { hits: reply.hits, retrievalMs: (state.rewriteMs ?? 0) + performance.now() - started };
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
    .addNode('rewrite', rewrite)
    .addNode('retrieve', retrieve)
    .addNode('generate', generate)
    .addConditionalEdges(START, () => (expansion ? 'rewrite' : 'retrieve'), ['rewrite', 'retrieve'])
    .addEdge('rewrite', 'retrieve')
    .addEdge('retrieve', 'generate')
    .addEdge('generate', END)
    .compile();
}
export type AnswerGraph = ReturnType<typeof buildAnswerGraph>;
