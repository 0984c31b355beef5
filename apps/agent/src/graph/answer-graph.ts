import { END, START, StateGraph } from '@langchain/langgraph';
import { JobName } from '@quarry/contracts';
import type { AnswerGenerator, ContextPacker, PackingStrategy, QueryRewriter } from '@quarry/llm';
import type { JobClient } from '@quarry/transport';
import { AnswerState, type AnswerStateValue } from './answer-state';

export interface ContextBudget {
  packer: Pick<ContextPacker, 'pack'>;
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

type Node = (state: AnswerStateValue) => Promise<Partial<AnswerStateValue>>;
export type AnswerNodeName = 'rewrite' | 'retrieve' | 'generate';
export type AnswerInput = Pick<AnswerStateValue, 'tenantId' | 'question' | 'topK' | 'filters'>;

/**
 * The steps of the answer flow, each a function of the state returning the fields it fills in:
 * rewrite (the chat model rephrases the question, when QUERY_VARIANTS is set) → retrieve (a request
 * to the retrieval service over its queue, with the rephrasings) → generate (fit the hits into the
 * context budget — relevance, diversity, no near-duplicates — then the local extractive generator
 * or an OpenAI-compatible model).
 */
export function answerNodes(jobs: JobClient, generator: AnswerGenerator, context: ContextBudget, expansion?: QueryExpansion): Record<AnswerNodeName, Node> {
  const rewrite: Node = async (state) => {
    const started = performance.now();
    let variants: string[] = [];
    try {
      variants = expansion ? await expansion.rewriter.rephrase(state.question, expansion.count) : [];
    } catch (error) {
      expansion?.onError(error);
    }
    return { variants, rewriteMs: performance.now() - started };
  };

  const retrieve: Node = async (state) => {
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

  const generate: Node = async (state) => {
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

  return { rewrite, retrieve, generate };
}

/**
 * The answer flow as a LangGraph graph, compiled once (no checkpointer: an answer is one pass).
 * Later steps (planning, evaluation) are added as nodes here.
 */
export function buildAnswerGraph(nodes: Record<AnswerNodeName, Node>, rewrites: boolean) {
  return new StateGraph(AnswerState)
    .addNode('rewrite', nodes.rewrite)
    .addNode('retrieve', nodes.retrieve)
    .addNode('generate', nodes.generate)
    .addConditionalEdges(START, () => (rewrites ? 'rewrite' : 'retrieve'), ['rewrite', 'retrieve'])
    .addEdge('rewrite', 'retrieve')
    .addEdge('retrieve', 'generate')
    .addEdge('generate', END)
    .compile();
}
export type AnswerGraph = ReturnType<typeof buildAnswerGraph>;

export interface AnswerFlow {
  /** The compiled graph of the flow (the route of every flow that branches). */
  readonly graph: AnswerGraph;
  /** The steps the flow takes when it is a straight line, run as a pipeline; undefined when it runs on the graph. */
  readonly pipeline: readonly AnswerNodeName[] | undefined;
  run(input: AnswerInput): Promise<AnswerStateValue>;
}

/**
 * The agent's answer flow. Its graph is compiled once. The default flow (no rephrasing) is a
 * straight line, retrieve → generate: it runs the same node functions in order, without LangGraph's
 * per-invoke machinery (channels, a task per step, callbacks, checkpoint bookkeeping), which cost
 * about a quarter of the agent's CPU per answer; a flow with the rewrite step runs on the graph.
 */
export function buildAnswerFlow(jobs: JobClient, generator: AnswerGenerator, context: ContextBudget, expansion?: QueryExpansion): AnswerFlow {
  const nodes = answerNodes(jobs, generator, context, expansion);
  const graph = buildAnswerGraph(nodes, expansion !== undefined);
  const pipeline: AnswerNodeName[] | undefined = expansion ? undefined : ['retrieve', 'generate'];
  return {
    graph,
    pipeline,
    run: pipeline ? (input) => runPipeline(nodes, pipeline, input) : (input) => graph.invoke(input),
  };
}

/** Runs nodes in order, each one's fields merged into the state (LangGraph's last-value channels do the same). */
async function runPipeline(nodes: Record<AnswerNodeName, Node>, steps: readonly AnswerNodeName[], input: AnswerInput): Promise<AnswerStateValue> {
  let state = { ...input } as AnswerStateValue;
  for (const step of steps) state = { ...state, ...(await nodes[step](state)) };
  return state;
}
