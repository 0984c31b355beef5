import { inSpan } from '@quarry/observability';
import type { LangGraphRunnableConfig } from '@langchain/langgraph';
import { type Citation, JobName, type SearchHit } from '@quarry/contracts';
import type { AnswerGenerator, ChatUsageListener, GeneratedAnswer, Passage } from '@quarry/llm';
import { parseCitedPassageIndexes } from '@quarry/llm';
import type { JobClient } from '@quarry/transport';
import { citationSnippet } from '../services/citation-snippet';
import type { JudgementContext, Judgements } from '../reasoning/judgements';
import type { ToolRegistry } from '../tools/tool-registry';
import type { ContextBudget, QueryExpansion } from './agent-graph';
import type { AgentSettings } from './agent-settings';
import type { AgentStateValue, AnswerCandidate } from './agent-state';
import { executePlan } from './plan-executor';
import type { AgentRun } from './trace-recorder';

export type AgentNodeName = 'analyze' | 'retrieve' | 'generate' | 'plan' | 'execute' | 'synthesize' | 'evaluate' | 'refine';
export type AgentNode = (state: AgentStateValue, config: LangGraphRunnableConfig) => Promise<Partial<AgentStateValue>>;

/** Passages a plan's searches contribute at most, taken from each search in turn. */
const MAX_PLAN_PASSAGES = 24;

export interface AgentDependencies {
  jobs: JobClient;
  generator: AnswerGenerator;
  context: ContextBudget;
  expansion?: QueryExpansion;
  judgements: Judgements;
  tools: ToolRegistry;
  settings: AgentSettings;
  /** Told when a node finishes, for the per-node metrics. */
  onNode?: (node: AgentNodeName, seconds: number, outcome: 'ok' | 'error' | 'cancelled') => void;
}

/** The run of the current invocation (trace, stream, signal), passed in LangGraph's config. */
export function runOf(config: LangGraphRunnableConfig): AgentRun {
  const run = (config.configurable as { run?: AgentRun } | undefined)?.run;
  if (!run) throw new Error('the agent graph was invoked without its run');
  return run;
}

function judgementContext(state: AgentStateValue, run: AgentRun): JudgementContext {
  return { history: state.history, signal: run.signal, onModelCall: (call) => run.trace.model(call) };
}

/**
 * The nodes of the agent's graph. Each is a function of the state returning the fields it fills
 * in; `instrument` wraps every one so the trace, the stream and the metrics see it start and end.
 */
export function agentNodes(deps: AgentDependencies): Record<AgentNodeName, AgentNode> {
  const analyze: AgentNode = async (state, config) => {
    const run = runOf(config);
    const analysis = await deps.judgements.analyzer.analyze(state.searchQuestion, judgementContext(state, run));
    const route = analysis.complexity === 'complex' ? 'complex' : 'simple';
    const where = !analysis.needsRetrieval && route === 'simple' ? 'answer without retrieval' : `${route} route`;
    run.trace.add({ type: 'decision', node: 'analyze', decision: where, reason: `${analysis.intent} question (${deps.judgements.analyzer.name}): ${analysis.reason}` });
    return { analysis, route, round: state.round ?? 0, results: [], answerPlan: undefined, evaluation: undefined, best: undefined };
  };

  const retrieve: AgentNode = async (state, config) => {
    const run = runOf(config);
    const started = performance.now();
    const broadened = (state.round ?? 0) > 0;
    const variants = await rephrasings(state, run, deps.expansion, broadened);
    const topK = broadened ? Math.min(50, state.topK * 2) : state.topK;
    // A follow-up first searches the documents the previous answer cited; a refinement, everything.
    const preferred = broadened ? [] : preferredWithin(state);
    const filters = preferred.length > 0 ? { ...state.filters, documentIds: preferred } : state.filters;
    const atMs = run.trace.elapsedMs();
    const reply = await deps.jobs.request(JobName.SearchChunks, {
      tenantId: state.tenantId,
      query: state.searchQuestion,
      topK,
      filters,
      ...(variants.length ? { variants } : {}),
    });
    const hits = reply.hits;
    const where = preferred.length > 0 ? ` in the ${preferred.length} document(s) the previous answer cited` : '';
    run.trace.add(
      { type: 'tool', tool: 'search', input: { query: state.searchQuestion, topK, variants, ...(preferred.length > 0 ? { documentIds: preferred } : {}) }, outcome: 'ok', summary: `${hits.length} passages${where}`, durationMs: performance.now() - started },
      atMs,
    );
    const retrieved = hits.map((hit, position) => passageOf(hit, position + 1));
    const { passages } = deps.context.packer.pack(retrieved, { budgetTokens: deps.context.budgetTokens, strategy: deps.context.strategy });
    run.emit({ type: 'sources', sources: passages.map((passage) => citationOf(passage, hits)) });
    return { variants, hits, passages, retrievalMs: (state.retrievalMs ?? 0) + performance.now() - started };
  };

  const generate: AgentNode = async (state, config) => {
    const run = runOf(config);
    const started = performance.now();
    // Tokens go out as the model writes them only when no refinement can replace this answer.
    const final = (state.round ?? 0) >= state.maxRefinements;
    const generated =
      run.streaming && final
        ? await streamed(deps.generator, state.searchQuestion, state.passages, run)
        : await deps.generator.generate(state.searchQuestion, state.passages, run.signal, usageInto(run));
    return { generated, generationMs: (state.generationMs ?? 0) + performance.now() - started };
  };

  const plan: AgentNode = async (state, config) => {
    const run = runOf(config);
    const previous = state.answerPlan && state.evaluation ? { plan: state.answerPlan, results: state.results, evaluation: state.evaluation } : undefined;
    const made = await deps.judgements.planner.plan(state.searchQuestion, state.analysis, deps.tools.describe(), { ...judgementContext(state, run), topK: state.topK, previous });
    run.trace.add({ type: 'plan', round: state.round ?? 0, steps: made.steps, reason: `${deps.judgements.planner.name}: ${made.reason}` });
    return { answerPlan: made };
  };

  const execute: AgentNode = async (state, config) => {
    const run = runOf(config);
    const started = performance.now();
    const spent = (state.results ?? []).length;
    const results = await executePlan(state.answerPlan ?? { steps: [], reason: '' }, deps.tools, {
      tenantId: state.tenantId,
      filters: state.filters,
      analysis: state.analysis,
      signal: run.signal,
      trace: run.trace,
      stepsLeft: deps.settings.maxToolCalls - spent,
    });
    const hits = planHits(results);
    const passages = hits.map((hit, position) => passageOf(hit, position + 1));
    if (passages.length > 0) run.emit({ type: 'sources', sources: passages.map((passage) => citationOf(passage, hits)) });
    return { results, hits, passages, retrievalMs: (state.retrievalMs ?? 0) + performance.now() - started };
  };

  const synthesize: AgentNode = async (state, config) => {
    const run = runOf(config);
    const started = performance.now();
    const generated = await deps.judgements.synthesizer.synthesize(state.searchQuestion, state.analysis, state.results ?? [], state.passages ?? [], judgementContext(state, run));
    return { generated, hits: state.hits ?? [], passages: state.passages ?? [], generationMs: (state.generationMs ?? 0) + performance.now() - started };
  };

  const evaluate: AgentNode = async (state, config) => {
    const run = runOf(config);
    const round = state.round ?? 0;
    if (!state.analysis.needsRetrieval) {
      const loop = { next: false, reason: 'nothing was retrieved, so there is nothing to check the answer against' };
      run.trace.add({ type: 'decision', node: 'evaluate', decision: 'answer', reason: loop.reason });
      return { evaluation: undefined, loop, best: candidate(state, undefined) };
    }
    const evaluation = await deps.judgements.evaluator.evaluate(state.searchQuestion, state.generated, state.passages, judgementContext(state, run));
    run.trace.add({ type: 'evaluation', round, scores: scoresOf(evaluation), threshold: deps.settings.refineThreshold, evaluator: deps.judgements.evaluator.name });
    const current = candidate(state, evaluation);
    const best = !state.best || (state.best.evaluation?.overall ?? 0) < evaluation.overall ? current : state.best;
    const loop = refineDecision(evaluation.overall, round, state.maxRefinements, run, deps.settings);
    run.trace.add({ type: 'decision', node: 'evaluate', decision: loop.next ? 'refine' : 'answer', reason: loop.reason });
    return { evaluation, best, loop };
  };

  const refine: AgentNode = (state, config) => {
    const run = runOf(config);
    const round = (state.round ?? 0) + 1;
    const action = state.route === 'complex' ? 'replan' : deps.expansion ? 'rephrase' : 'broaden';
    const reason = `the answer scored ${state.evaluation?.overall.toFixed(2)} (< ${deps.settings.refineThreshold})`;
    run.trace.add({ type: 'refinement', round, action, query: state.searchQuestion, reason });
    return Promise.resolve({ round });
  };

  const nodes = { analyze, retrieve, generate, plan, execute, synthesize, evaluate, refine };
  return Object.fromEntries(Object.entries(nodes).map(([name, node]) => [name, instrument(name as AgentNodeName, node, deps.onNode)])) as Record<AgentNodeName, AgentNode>;
}

/** Whether another round is worth it, and the reason the trace keeps either way. */
function refineDecision(overall: number, round: number, maxRefinements: number, run: AgentRun, settings: AgentSettings): { next: boolean; reason: string } {
  const score = `scored ${overall.toFixed(2)}`;
  if (overall >= settings.refineThreshold) return { next: false, reason: `${score}, at or above the threshold ${settings.refineThreshold}` };
  if (round >= maxRefinements) return { next: false, reason: `${score}, below ${settings.refineThreshold}, but ${maxRefinements} refinement round(s) are spent: answering with what was found` };
  if (run.trace.elapsedMs() >= settings.timeBudgetMs) return { next: false, reason: `${score}, but the time budget (${settings.timeBudgetMs} ms) is spent` };
  if (run.trace.totalTokens >= settings.tokenBudget) return { next: false, reason: `${score}, but the token budget (${settings.tokenBudget}) is spent` };
  return { next: true, reason: `${score}, below the threshold ${settings.refineThreshold}: round ${round + 1} of ${maxRefinements}` };
}

function candidate(state: AgentStateValue, evaluation: AnswerCandidate['evaluation']): AnswerCandidate {
  return { hits: state.hits ?? [], passages: state.passages ?? [], generated: state.generated, evaluation };
}

function scoresOf(evaluation: { groundedness: number; coverage: number; citationValidity: number; overall: number }) {
  return { groundedness: evaluation.groundedness, coverage: evaluation.coverage, citationValidity: evaluation.citationValidity, overall: evaluation.overall };
}

/** The chat model's rephrasings (multi-query retrieval), when configured; a failure costs the variants only. */
async function rephrasings(state: AgentStateValue, run: AgentRun, expansion: QueryExpansion | undefined, broadened: boolean): Promise<string[]> {
  if (!expansion) return [];
  const started = performance.now();
  try {
    return await expansion.rewriter.rephrase(state.searchQuestion, broadened ? expansion.count + 2 : expansion.count);
  } catch (error) {
    expansion.onError(error);
    return [];
  } finally {
    run.trace.add({ type: 'model', model: expansion.rewriter.model, purpose: 'rewrite', promptTokens: 0, completionTokens: 0, durationMs: performance.now() - started });
  }
}

/** The documents the previous answer cited, inside the question's own filters. */
function preferredWithin(state: AgentStateValue): string[] {
  const preferred = state.preferredDocumentIds ?? [];
  const allowed = state.filters?.documentIds;
  return allowed ? preferred.filter((id) => allowed.includes(id)) : preferred;
}

/** The hits of a plan's searches, one from each search in turn, without duplicates. */
function planHits(results: AgentStateValue['results']): SearchHit[] {
  const lists = results.filter((result) => result.step.tool === 'search' && result.outcome === 'ok').map((result) => (result.output as { hits: SearchHit[] }).hits);
  const seen = new Set<string>();
  const merged: SearchHit[] = [];
  for (let rank = 0; merged.length < MAX_PLAN_PASSAGES && lists.some((list) => rank < list.length); rank++) {
    for (const list of lists) {
      const hit = list[rank];
      if (hit && !seen.has(hit.chunkId) && merged.length < MAX_PLAN_PASSAGES) {
        seen.add(hit.chunkId);
        merged.push(hit);
      }
    }
  }
  return merged;
}

/** The model's (or the local generator's) answer as deltas on the stream, assembled. */
async function streamed(generator: AnswerGenerator, question: string, passages: Passage[], run: AgentRun): Promise<GeneratedAnswer> {
  let answer = '';
  for await (const delta of generator.stream(question, passages, run.signal, usageInto(run))) {
    answer += delta;
    run.emit({ type: 'token', delta });
  }
  run.tokensSent = true;
  return { answer, citedPassageIndexes: parseCitedPassageIndexes(answer, passages.map((passage) => passage.index)), model: generator.model };
}

/** A generator's token report, into the trace (and from there the token metrics and budget). */
function usageInto(run: AgentRun): ChatUsageListener {
  return (usage) => run.trace.model({ model: usage.model, purpose: 'generate', promptTokens: usage.promptTokens, completionTokens: usage.completionTokens, durationMs: usage.durationMs });
}

export function passageOf(hit: SearchHit, index: number): Passage {
  return { index, chunkId: hit.chunkId, documentId: hit.documentId, filename: hit.filename, text: hit.text, score: hit.score };
}

export function citationOf(passage: Passage, hits: readonly SearchHit[]): Citation {
  return {
    index: passage.index,
    documentId: passage.documentId,
    chunkId: passage.chunkId,
    filename: passage.filename,
    snippet: citationSnippet(passage.text),
    score: passage.score,
    provenance: hits.find((hit) => hit.chunkId === passage.chunkId)?.provenance ?? {},
  };
}

/** Wraps a node so its start and end reach the stream, its run the answer's trace and an OpenTelemetry span, its duration the metrics. */
function instrument(name: AgentNodeName, node: AgentNode, onNode: AgentDependencies['onNode']): AgentNode {
  return async (state, config) => {
    const run = runOf(config);
    run.signal.throwIfAborted();
    const atMs = run.trace.elapsedMs();
    run.emit({ type: 'step', node: name, phase: 'start' });
    let outcome: 'ok' | 'error' | 'cancelled' = 'ok';
    try {
      return await inSpan(`agent.node ${name}`, { 'quarry.agent.node': name }, () => node(state, config));
    } catch (error) {
      outcome = run.signal.aborted ? 'cancelled' : 'error';
      throw error;
    } finally {
      const durationMs = run.trace.elapsedMs() - atMs;
      run.trace.add({ type: 'node', node: name, durationMs, outcome }, atMs);
      run.emit({ type: 'step', node: name, phase: 'end', durationMs });
      onNode?.(name, durationMs / 1000, outcome);
    }
  };
}
