import { randomUUID } from 'node:crypto';
import type { SearchHit } from '@quarry/contracts';
import { tokenize } from '@quarry/domain';
import { ContextPacker, ExtractiveAnswerGenerator } from '@quarry/llm';
import type { JobClient } from '@quarry/transport';
import { GroundingEvaluator } from '../reasoning/local/grounding-evaluator';
import { RuleQuestionAnalyzer } from '../reasoning/local/rule-analyzer';
import { RulePlanner } from '../reasoning/local/rule-planner';
import { RuleSynthesizer } from '../reasoning/local/rule-synthesizer';
import { createCalculatorTool } from '../tools/calculator-tool';
import { createSearchTool } from '../tools/search-tool';
import { ToolRegistry } from '../tools/tool-registry';
import { buildAgentFlow } from './agent-graph';
import { DEFAULT_AGENT_SETTINGS } from './agent-settings';
import type { AgentStateValue } from './agent-state';
import { quietRun } from './trace-recorder';

const CORPUS = [
  { filename: 'acme-annual-report.md', text: 'Acme Corporation ended 2025 with 1,250 employees across four sites. Revenue grew by 8%.' },
  { filename: 'globex-annual-report.md', text: 'Globex had 830 employees at the end of 2025, most of them in engineering.' },
  { filename: 'handbook.md', text: 'Every employee receives 27 days of paid vacation per calendar year.' },
  { filename: 'parking.md', text: 'Parking spaces are assigned by the facilities team on request.' },
].map((document, ordinal) => ({ ...document, documentId: randomUUID(), chunkId: randomUUID(), ordinal }));

/** A JobClient whose searches rank the corpus by shared terms (the real ranking is the retrieval service's). */
function termSearch(asked: string[]): JobClient {
  return {
    request: (_name: string, payload: { query: string; topK: number }) => {
      asked.push(payload.query);
      const queryTerms = new Set(tokenize(payload.query));
      const hits: SearchHit[] = CORPUS.map((document) => ({
        chunkId: document.chunkId,
        documentId: document.documentId,
        filename: document.filename,
        ordinal: 0,
        text: document.text,
        score: tokenize(document.text).filter((term) => queryTerms.has(term)).length,
        provenance: {},
      }))
        .filter((hit) => hit.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, payload.topK);
      return Promise.resolve({ hits, tookMs: 0.1, indexedChunks: CORPUS.length });
    },
  } as unknown as JobClient;
}

describe('the agent flow with the local judgements', () => {
  const packer = new ContextPacker();
  afterAll(() => packer.dispose());

  function flowWith(asked: string[]) {
    const jobs = termSearch(asked);
    return buildAgentFlow({
      jobs,
      generator: new ExtractiveAnswerGenerator(),
      context: { packer, budgetTokens: 1000, strategy: 'both' },
      judgements: { analyzer: new RuleQuestionAnalyzer(), planner: new RulePlanner(), synthesizer: new RuleSynthesizer(), evaluator: new GroundingEvaluator() },
      tools: new ToolRegistry([createSearchTool(jobs), createCalculatorTool()]),
      settings: DEFAULT_AGENT_SETTINGS,
    });
  }
  const input = (question: string) => ({ tenantId: 'acme', question, searchQuestion: question, topK: 4, filters: undefined, history: [], preferredDocumentIds: [], maxRefinements: 1 });

  it('answers a difference of two figures from two documents: plan, a search per entity, the calculator, an evaluation', async () => {
    const asked: string[] = [];
    const run = quietRun();
    const state = await flowWith(asked).run(input('How many more employees does Acme have than Globex?'), run);
    expect(state.route).toBe('complex');
    expect(state.analysis.entities).toEqual(['Acme', 'Globex']);
    expect(state.generated.answer).toContain('420');
    expect(state.generated.answer).toContain('computed as 1250 - 830');
    const cited = state.generated.citedPassageIndexes.map((index) => state.passages[index - 1].filename).sort();
    expect(cited).toEqual(['acme-annual-report.md', 'globex-annual-report.md']);
    const kinds = run.trace.steps.filter((step) => step.type !== 'node').map((step) => (step.type === 'tool' ? `tool:${step.tool}` : step.type));
    expect(kinds).toEqual(['decision', 'plan', 'tool:search', 'tool:search', 'tool:calculator', 'evaluation', 'decision']);
    expect(state.evaluation?.overall).toBeGreaterThanOrEqual(DEFAULT_AGENT_SETTINGS.refineThreshold);
    expect(asked).toHaveLength(2);
  });

  it('runs the simple route as a pipeline ending in the very state the graph ends in', async () => {
    const question = 'How many vacation days do we get?';
    const pipelined = await flowWith([]).run(input(question), quietRun(), 'pipeline');
    const graphed = await flowWith([]).run(input(question), quietRun(), 'graph');
    const comparable = ({ retrievalMs: _r, generationMs: _g, ...rest }: AgentStateValue) => rest;
    expect(comparable(pipelined)).toEqual(comparable(graphed));
    expect(pipelined.route).toBe('simple');
    expect(pipelined.generated.answer).toContain('27 days');
  });

  it('refines an answer that scores below the threshold, at most maxRefinements times, and keeps the best one', async () => {
    const asked: string[] = [];
    const run = quietRun();
    const state = await flowWith(asked).run({ ...input('What is the policy on quantum teleportation?'), maxRefinements: 2 }, run);
    expect(state.round).toBe(2);
    expect(run.trace.steps.filter((step) => step.type === 'refinement')).toHaveLength(2);
    expect(asked).toHaveLength(3);
    const last = run.trace.steps.filter((step) => step.type === 'decision').at(-1);
    expect(last?.type === 'decision' && last.decision).toBe('answer');
    expect(last?.type === 'decision' && last.reason).toContain('refinement round(s) are spent');
  });

  it('does not refine when the request turns the loop off', async () => {
    const asked: string[] = [];
    const state = await flowWith(asked).run({ ...input('What is the policy on quantum teleportation?'), maxRefinements: 0 }, quietRun());
    expect(state.round).toBe(0);
    expect(asked).toHaveLength(1);
  });

  it('computes a bare expression with the calculator and searches nothing', async () => {
    const asked: string[] = [];
    const state = await flowWith(asked).run(input('What is 12 * (3 + 4)?'), quietRun());
    expect(state.generated.answer).toBe('12 * (3 + 4) = 84.');
    expect(asked).toHaveLength(0);
  });
});
