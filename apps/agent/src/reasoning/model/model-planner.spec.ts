import { type FakeAssistantReply, type FakeOpenAiServer, startFakeOpenAiServer } from '@quarry/testing';
import { createCalculatorTool } from '../../tools/calculator-tool';
import { createSearchTool } from '../../tools/search-tool';
import { ToolRegistry } from '../../tools/tool-registry';
import type { AnswerPlan, ModelCallRecord, Planner, QuestionAnalysis } from '../judgements';
import { ChatModel } from './chat-model';
import type { JudgementFallback } from './fallback';
import { ModelPlanner } from './model-planner';

const QUESTION = 'How many more employees does Acme have than Globex?';
const ANALYSIS: QuestionAnalysis = {
  intent: 'numeric',
  complexity: 'complex',
  needsRetrieval: true,
  tools: ['calculator'],
  entities: ['Acme', 'Globex'],
  measure: 'employees',
  operation: 'difference',
  reason: 'a difference of two figures',
};
// The registry's own descriptions: what the graph gives the planner.
const TOOLS = new ToolRegistry([createSearchTool({} as never), createCalculatorTool()]).describe();
const LOCAL_PLAN: AnswerPlan = { steps: [{ id: 's1', tool: 'search', input: { query: QUESTION }, dependsOn: [], purpose: 'one search' }], reason: 'one search' };

/** The local planner the model planner falls back on: it says what it was asked. */
class LocalPlanner implements Planner {
  readonly name = 'rules';
  asked = 0;
  plan(): Promise<AnswerPlan> {
    this.asked++;
    return Promise.resolve(LOCAL_PLAN);
  }
}

const DIFFERENCE_PLAN: FakeAssistantReply = {
  content: 'Find both head counts, then subtract.',
  toolCalls: [
    { name: 'search', arguments: { query: 'Acme number of employees', entity: 'Acme', purpose: 'find the Acme head count' } },
    { name: 'search', arguments: { query: 'Globex number of employees', entity: 'Globex', purpose: 'find the Globex head count' } },
    { name: 'calculator', arguments: { expression: 'a - b', variables: { a: '{{s1}}', b: '{{ s2 }}' }, purpose: 'the difference' } },
  ],
};

describe('ModelPlanner: plans by function calling', () => {
  let server: FakeOpenAiServer;
  let local: LocalPlanner;
  let fallbacks: JudgementFallback[];
  let calls: ModelCallRecord[];
  let planner: ModelPlanner;
  const context = (extra: Partial<Parameters<Planner['plan']>[3]> = {}) => ({
    history: [],
    signal: new AbortController().signal,
    onModelCall: (record: ModelCallRecord) => calls.push(record),
    topK: 6,
    ...extra,
  });

  beforeEach(async () => {
    server = await startFakeOpenAiServer({ reply: DIFFERENCE_PLAN });
    local = new LocalPlanner();
    fallbacks = [];
    calls = [];
    planner = new ModelPlanner({ chat: new ChatModel({ baseUrl: server.baseUrl, model: 'fake-planner', maxRetries: 0 }), fallback: local, onFallback: (event) => fallbacks.push(event) });
  });

  afterEach(async () => {
    await server.close();
  });

  it('turns the model\'s tool calls into ordered steps whose dependencies are the steps their arguments name', async () => {
    const plan = await planner.plan(QUESTION, ANALYSIS, TOOLS, context());
    expect(plan).toEqual({
      reason: 'Find both head counts, then subtract.',
      steps: [
        { id: 's1', tool: 'search', input: { query: 'Acme number of employees', entity: 'Acme' }, dependsOn: [], purpose: 'find the Acme head count' },
        { id: 's2', tool: 'search', input: { query: 'Globex number of employees', entity: 'Globex' }, dependsOn: [], purpose: 'find the Globex head count' },
        { id: 's3', tool: 'calculator', input: { expression: 'a - b', variables: { a: '{{s1}}', b: '{{ s2 }}' } }, dependsOn: ['s1', 's2'], purpose: 'the difference' },
      ],
    });
    expect(local.asked).toBe(0);
    expect(calls).toEqual([expect.objectContaining({ model: 'fake-planner', purpose: 'plan' })]);
    expect(calls[0].promptTokens).toBeGreaterThan(100); // the tool schemas count
  });

  it('offers the registry\'s tools as functions with their JSON schemas, plus a purpose, and requires a call', async () => {
    await planner.plan(QUESTION, ANALYSIS, TOOLS, context());
    const { body } = server.requests[0];
    expect(body.tool_choice).toBe('required');
    expect(body.tools?.map((tool) => tool.function.name)).toEqual(['search', 'calculator']);
    const search = body.tools?.[0].function;
    const described = TOOLS[0];
    expect(search?.description).toBe(described.description);
    expect(search?.parameters).toEqual({
      ...described.parameters,
      properties: { ...(described.parameters.properties as object), purpose: expect.objectContaining({ type: 'string' }) as unknown },
    });
    const user = String(body.messages?.at(-1)?.content);
    expect(user).toContain(`Question: ${QUESTION}`);
    expect(user).toContain('"entities":["Acme","Globex"]');
    expect(user).toContain('up to 6 passages');
  });

  it('shows a re-plan what the last round did, quoted as data', async () => {
    const previous = {
      plan: LOCAL_PLAN,
      results: [{ step: LOCAL_PLAN.steps[0], outcome: 'ok' as const, output: { query: QUESTION, hits: [] } }],
      evaluation: { groundedness: 0, coverage: 0.2, citationValidity: 0, overall: 0.06, reason: 'no figures found' },
    };
    await planner.plan(QUESTION, ANALYSIS, TOOLS, context({ previous }));
    const user = String(server.requests[0].body.messages?.at(-1)?.content);
    expect(user).toContain('plan again differently');
    expect(user).toContain('<data kind="previous-plan">');
    expect(user).toContain('<tool-result step="s1" tool="search" outcome="ok">\n0 passages found\n</tool-result>');
    expect(user).toContain('scored 0.06 of 1: no figures found');
  });

  it('refuses a call of a tool that is not offered, repairs once with the reasons, and takes the corrected plan', async () => {
    let attempt = 0;
    server.setReply((): FakeAssistantReply =>
      ++attempt === 1
        ? { toolCalls: [{ name: 'search', arguments: { query: 'Acme' } }, { name: 'database', arguments: { sql: 'DROP TABLE documents' } }] }
        : { toolCalls: [{ name: 'search', arguments: { query: 'Acme employees' } }] },
    );
    const plan = await planner.plan(QUESTION, ANALYSIS, TOOLS, context());
    expect(plan.steps).toEqual([{ id: 's1', tool: 'search', input: { query: 'Acme employees' }, dependsOn: [], purpose: 'call search' }]);
    const repair = server.requests[1].body.messages ?? [];
    const assistant = repair.at(-4);
    expect(assistant?.tool_calls?.map((call) => call.function.name)).toEqual(['search', 'database']);
    expect(repair.at(-3)).toEqual({ role: 'tool', tool_call_id: 'call_1', content: 'not run: the plan was refused' });
    expect(repair.at(-2)).toMatchObject({ role: 'tool', tool_call_id: 'call_2', content: 'refused: no tool is named "database"; the tools are search, calculator' });
    expect(String(repair.at(-1)?.content)).toMatch(/^The plan was refused: .*database/);
    expect(calls.map((record) => record.purpose)).toEqual(['plan', 'plan:repair']);
  });

  it.each<[string, FakeAssistantReply]>([
    ['no tool call', { content: 'I would search for it.' }],
    ['a reference to a later step', { toolCalls: [{ name: 'calculator', arguments: { expression: 'a', variables: { a: '{{s2}}' } } }, { name: 'search', arguments: { query: 'x' } }] }],
    ['arguments that are not JSON', { toolCalls: [{ name: 'search', arguments: '{"query": "Acme' }] }],
    ['a call of an unknown tool', { toolCalls: [{ name: 'shell', arguments: { command: 'rm -rf /' } }] }],
  ])('falls back on the local planner after %s twice, and says so', async (_, reply) => {
    server.setReply(reply);
    const plan = await planner.plan(QUESTION, ANALYSIS, TOOLS, context());
    expect(plan.steps).toEqual(LOCAL_PLAN.steps);
    expect(plan.reason).toBe("model fake-planner not used (the model's output was invalid after one repair); rules planner decided: one search");
    expect(local.asked).toBe(1);
    expect(server.requests).toHaveLength(2);
    expect(fallbacks).toEqual([expect.objectContaining({ judgement: 'plan', model: 'fake-planner', fallback: 'rules planner', cause: 'invalid-output' })]);
  });

  it('falls back when the endpoint fails, without its text in the plan', async () => {
    server.setFailure({ status: 503, message: 'overloaded at internal-host:8000' });
    const plan = await planner.plan(QUESTION, ANALYSIS, TOOLS, context());
    expect(plan.reason).toBe('model fake-planner not used (the model endpoint failed); rules planner decided: one search');
    expect(fallbacks[0]).toMatchObject({ cause: 'endpoint' });
    expect(calls).toHaveLength(0);
  });

  it('does not hide a cancelled query behind the fallback', async () => {
    server.setDelay(500);
    const controller = new AbortController();
    const pending = planner.plan(QUESTION, ANALYSIS, TOOLS, { ...context(), signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toThrow(/abort/i);
    expect(local.asked).toBe(0);
    expect(fallbacks).toHaveLength(0);
  });
});
