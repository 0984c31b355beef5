import { END, START, StateGraph } from '@langchain/langgraph';
import type { ContextPacker, PackingStrategy, QueryRewriter } from '@quarry/llm';
import { type AgentDependencies, type AgentNode, type AgentNodeName, agentNodes } from './agent-nodes';
import { AgentState, type AgentInput, type AgentStateValue } from './agent-state';
import type { AgentRun } from './trace-recorder';

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

type Next = AgentNodeName | typeof END;

/*
 * The edges of the graph, as functions of the state, shared by the LangGraph graph and the
 * pipeline runner:
 *
 *   analyze ─simple→ retrieve → generate ──→ evaluate ─refine→ refine ─simple→ retrieve
 *           └complex→ plan → execute → synthesize ─┘  └answer→ END     └complex→ plan
 *   (a question that needs no retrieval — a greeting — goes from analyze to synthesize)
 */
export const afterAnalyze = (state: AgentStateValue): Next => {
  if (!state.analysis.needsRetrieval && state.route === 'simple') return 'synthesize';
  return state.route === 'complex' ? 'plan' : 'retrieve';
};
export const afterEvaluate = (state: AgentStateValue): Next => (state.loop?.next ? 'refine' : END);
export const afterRefine = (state: AgentStateValue): Next => (state.route === 'complex' ? 'plan' : 'retrieve');
const FIXED: Partial<Record<AgentNodeName, AgentNodeName>> = { retrieve: 'generate', generate: 'evaluate', plan: 'execute', execute: 'synthesize', synthesize: 'evaluate' };

function nextAfter(node: AgentNodeName, state: AgentStateValue): Next {
  if (node === 'analyze') return afterAnalyze(state);
  if (node === 'evaluate') return afterEvaluate(state);
  if (node === 'refine') return afterRefine(state);
  return FIXED[node] ?? END;
}

/** The graph, compiled once (no checkpointer: an answer is one pass). */
export function buildAgentGraph(nodes: Record<AgentNodeName, AgentNode>) {
  return new StateGraph(AgentState)
    .addNode('analyze', nodes.analyze)
    .addNode('retrieve', nodes.retrieve)
    .addNode('generate', nodes.generate)
    .addNode('plan', nodes.plan)
    .addNode('execute', nodes.execute)
    .addNode('synthesize', nodes.synthesize)
    .addNode('evaluate', nodes.evaluate)
    .addNode('refine', nodes.refine)
    // A state that comes analysed (the pipeline analysed it, then found it complex) is not analysed twice.
    .addConditionalEdges(START, (state: AgentStateValue) => (state.analysis ? afterAnalyze(state) : 'analyze'), ['analyze', 'retrieve', 'plan', 'synthesize'])
    .addConditionalEdges('analyze', afterAnalyze, ['retrieve', 'plan', 'synthesize'])
    .addEdge('retrieve', 'generate')
    .addEdge('generate', 'evaluate')
    .addEdge('plan', 'execute')
    .addEdge('execute', 'synthesize')
    .addEdge('synthesize', 'evaluate')
    .addConditionalEdges('evaluate', afterEvaluate, ['refine', END])
    .addConditionalEdges('refine', afterRefine, ['retrieve', 'plan'])
    .compile();
}
export type AgentGraph = ReturnType<typeof buildAgentGraph>;

export interface AgentFlow {
  readonly graph: AgentGraph;
  /** Runs the question: on LangGraph, or (`pipeline`) by following the same edges without it. */
  run(input: AgentInput, run: AgentRun, mode?: 'graph' | 'pipeline'): Promise<AgentStateValue>;
}

// Nodes one answer may run: 4 per round, 1 + 3 refine rounds, with room to spare. The loop stops
// on its own bounds (rounds, time, tokens) long before; this only stops a bug.
const MAX_NODE_RUNS = 40;

/**
 * The agent. Its graph is compiled once. After the analysis, a question on the simple route runs
 * as a pipeline over the same nodes and edges (LangGraph's per-invoke machinery — channels, a task
 * per step, callbacks — cost about a quarter of the agent's CPU per answer, and the simple route
 * is the common one); a question analysed as complex runs on the graph.
 */
export function buildAgentFlow(deps: AgentDependencies): AgentFlow {
  const nodes = agentNodes(deps);
  const graph = buildAgentGraph(nodes);
  const onGraph = (state: Partial<AgentStateValue>, run: AgentRun) =>
    graph.invoke(state, { configurable: { run }, recursionLimit: MAX_NODE_RUNS + 5, signal: run.signal });
  return {
    graph,
    async run(input, run, mode) {
      if (mode === 'graph') return onGraph({ ...input, round: 0 }, run);
      const config = { configurable: { run } };
      let state = { ...input, round: 0 } as AgentStateValue;
      state = { ...state, ...(await nodes.analyze(state, config)) };
      if (mode !== 'pipeline' && state.route === 'complex') return onGraph(state, run);
      return runPipeline(nodes, state, config, 'analyze');
    },
  };
}

/** Follows the graph's edges from `from`, merging each node's fields into the state (as LangGraph's last-value channels do). */
async function runPipeline(nodes: Record<AgentNodeName, AgentNode>, initial: AgentStateValue, config: { configurable: { run: AgentRun } }, from: AgentNodeName): Promise<AgentStateValue> {
  let state = initial;
  let next = nextAfter(from, state);
  for (let runs = 1; next !== END; runs++) {
    if (runs >= MAX_NODE_RUNS) throw new Error(`the agent ran ${MAX_NODE_RUNS} nodes without finishing`);
    state = { ...state, ...(await nodes[next](state, config)) };
    next = nextAfter(next, state);
  }
  return state;
}
