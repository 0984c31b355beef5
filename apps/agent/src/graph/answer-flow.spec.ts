import { randomUUID } from 'node:crypto';
import type { SearchHit } from '@quarry/contracts';
import { ContextPacker, ExtractiveAnswerGenerator } from '@quarry/llm';
import type { JobClient } from '@quarry/transport';
import type { AnswerStateValue } from './answer-state';
import { buildAnswerFlow } from './answer-graph';

const hit = (text: string, score: number): SearchHit => ({ chunkId: randomUUID(), documentId: randomUUID(), filename: 'handbook.md', ordinal: 0, text, score, provenance: { page: 1 } });
const HITS = [
  hit('Every employee receives 27 days of paid vacation per calendar year.', 0.9),
  hit('Vacation requests are approved by the team lead in the portal.', 0.7),
  hit('Parking spaces are assigned by the facilities team.', 0.2),
];

/** A JobClient whose searches answer HITS, recording what was asked. */
function fakeJobs(asked: unknown[]): JobClient {
  return {
    request: (_name: string, payload: unknown) => {
      asked.push(payload);
      return Promise.resolve({ hits: HITS, tookMs: 0.1, indexedChunks: HITS.length });
    },
  } as unknown as JobClient;
}

/** The state without its timings, which differ from run to run. */
const withoutTimings = ({ rewriteMs: _r, retrievalMs: _t, generationMs: _g, ...rest }: AnswerStateValue) => rest;

describe('the answer flow', () => {
  const packer = new ContextPacker();
  afterAll(() => packer.dispose());
  const context = { packer, budgetTokens: 1000, strategy: 'both' as const };
  const input = { tenantId: 'acme', question: 'How many vacation days do we get?', topK: 6, filters: undefined };

  it('runs the straight default flow as a pipeline of the graph\'s own nodes, with the very state the graph ends in', async () => {
    const asked: unknown[] = [];
    const flow = buildAnswerFlow(fakeJobs(asked), new ExtractiveAnswerGenerator(), context);
    expect(flow.pipeline).toEqual(['retrieve', 'generate']);
    const piped = await flow.run(input);
    const graphed = await flow.graph.invoke(input);
    expect(withoutTimings(piped)).toEqual(withoutTimings(graphed));
    expect(piped.generated.answer).toContain('27 days');
    expect(piped.retrievalMs).toBeGreaterThanOrEqual(0);
    expect(piped.generationMs).toBeGreaterThanOrEqual(0);
    expect(asked).toEqual([
      { tenantId: 'acme', query: input.question, topK: 6, filters: undefined },
      { tenantId: 'acme', query: input.question, topK: 6, filters: undefined },
    ]);
  });

  it('runs a flow with the rewrite step on the graph, searching the rephrasings too', async () => {
    const asked: unknown[] = [];
    const expansion = { rewriter: { model: 'fake-rewriter', rephrase: () => Promise.resolve(['paid leave per year']) }, count: 1, onError: () => undefined };
    const flow = buildAnswerFlow(fakeJobs(asked), new ExtractiveAnswerGenerator(), context, expansion);
    expect(flow.pipeline).toBeUndefined();
    const state = await flow.run(input);
    expect(state.variants).toEqual(['paid leave per year']);
    expect(asked).toEqual([{ tenantId: 'acme', query: input.question, topK: 6, filters: undefined, variants: ['paid leave per year'] }]);
    expect(state.generated.citedPassageIndexes).toContain(1);
  });
});
