import { type GeneratedAnswer, NO_ANSWER_TEXT, type Passage } from '@quarry/llm';
import { type FakeOpenAiServer, lastUserMessage, startFakeOpenAiServer } from '@quarry/testing';
import type { AnswerEvaluator, Evaluation, JudgementContext, ModelCallRecord, QuestionAnalysis, QuestionAnalyzer, StepResult, Synthesizer } from '../judgements';
import { ChatModel } from './chat-model';
import type { JudgementFallback } from './fallback';
import { ModelAnalyzer } from './model-analyzer';
import { ModelEvaluator } from './model-evaluator';
import { ModelSynthesizer } from './model-synthesizer';

const LOCAL_ANALYSIS: QuestionAnalysis = { intent: 'lookup', complexity: 'simple', needsRetrieval: true, tools: [], entities: [], reason: 'a lookup' };
const LOCAL_ANSWER: GeneratedAnswer = { answer: 'Acme has 1450 employees [1].', citedPassageIndexes: [1], model: 'local-synthesis-v1' };
const LOCAL_EVALUATION: Evaluation = { groundedness: 1, coverage: 1, citationValidity: 1, overall: 1, reason: '1 of 1 sentences supported' };
const PASSAGES: Passage[] = [
  { index: 1, chunkId: 'c1', documentId: 'd1', filename: 'acme.md', text: 'Acme employs 1450 people.', score: 0.9 },
  { index: 2, chunkId: 'c2', documentId: 'd2', filename: 'globex.md', text: 'Globex employs 1200 people.', score: 0.8 },
];
const ANALYSIS: QuestionAnalysis = { ...LOCAL_ANALYSIS, intent: 'numeric', complexity: 'complex', entities: ['Acme', 'Globex'], measure: 'employees', operation: 'difference' };

/** Local judgements that count how often they were asked. */
const local = {
  analyzer: { name: 'rules', asked: 0, analyze() { this.asked++; return Promise.resolve(LOCAL_ANALYSIS); } } satisfies QuestionAnalyzer & { asked: number },
  synthesizer: { name: 'rules', asked: 0, synthesize() { this.asked++; return Promise.resolve(LOCAL_ANSWER); } } satisfies Synthesizer & { asked: number },
  evaluator: { name: 'grounding-rules', asked: 0, evaluate() { this.asked++; return Promise.resolve(LOCAL_EVALUATION); } } satisfies AnswerEvaluator & { asked: number },
};

describe('model judgements against an OpenAI-compatible server', () => {
  let server: FakeOpenAiServer;
  let chat: ChatModel;
  let calls: ModelCallRecord[];
  let fallbacks: JudgementFallback[];
  const context = (extra: Partial<JudgementContext> = {}): JudgementContext => ({
    history: [],
    signal: new AbortController().signal,
    onModelCall: (record) => calls.push(record),
    ...extra,
  });
  const onFallback = (event: JudgementFallback) => fallbacks.push(event);

  beforeEach(async () => {
    server = await startFakeOpenAiServer();
    chat = new ChatModel({ baseUrl: server.baseUrl, model: 'fake-chat', maxRetries: 0 });
    calls = [];
    fallbacks = [];
    local.analyzer.asked = local.synthesizer.asked = local.evaluator.asked = 0;
  });

  afterEach(async () => {
    await server.close();
  });

  describe('ModelAnalyzer', () => {
    const MODEL_ANALYSIS = { ...ANALYSIS, tools: ['calculator', 'teleporter'], reason: 'two head counts and their difference' };

    it('analyses the question with the model, in the light of the conversation, keeping only tools the agent has', async () => {
      server.setReply(JSON.stringify(MODEL_ANALYSIS));
      const analyzer = new ModelAnalyzer({ chat, fallback: local.analyzer, onFallback });
      const history = [
        { role: 'user' as const, content: 'How many employees does Acme have?' },
        { role: 'assistant' as const, content: 'Acme has 1450 employees [1].' },
      ];
      const analysis = await analyzer.analyze('And how many more than Globex?', context({ history }));
      expect(analysis).toEqual({ ...MODEL_ANALYSIS, tools: ['calculator'] });
      expect(analyzer.name).toBe('model:fake-chat');
      const { body } = server.requests[0];
      expect(body.messages?.slice(1, 3)).toEqual(history);
      expect(lastUserMessage(body)).toBe('Question: And how many more than Globex?');
      expect(body.response_format).toMatchObject({ type: 'json_schema', json_schema: { name: 'question_analysis' } });
      expect(String(body.messages?.[0].content)).toContain('The tools are: search, calculator, database, document.');
      expect(calls).toEqual([expect.objectContaining({ purpose: 'analyze', model: 'fake-chat' })]);
      expect(local.analyzer.asked).toBe(0);
    });

    it('falls back on the local rules when the output stays invalid, noting it in the reason', async () => {
      server.setReply('{"intent":"guess","complexity":"simple"}');
      const analysis = await new ModelAnalyzer({ chat, fallback: local.analyzer, onFallback }).analyze('q?', context());
      expect(analysis).toEqual({ ...LOCAL_ANALYSIS, reason: "model fake-chat not used (the model's output was invalid after one repair); rules analyzer decided: a lookup" });
      expect(server.requests).toHaveLength(2);
      expect(fallbacks).toEqual([expect.objectContaining({ judgement: 'analyze', cause: 'invalid-output' })]);
    });

    it('falls back when the endpoint fails', async () => {
      server.setFailure({ status: 500 });
      const analysis = await new ModelAnalyzer({ chat, fallback: local.analyzer, onFallback }).analyze('q?', context());
      expect(analysis.reason).toMatch(/^model fake-chat not used \(the model endpoint failed\)/);
      expect(local.analyzer.asked).toBe(1);
    });
  });

  describe('ModelSynthesizer', () => {
    const results: StepResult[] = [
      { step: { id: 's1', tool: 'search', input: { query: 'Acme' }, dependsOn: [], purpose: 'Acme head count' }, outcome: 'ok', output: { query: 'Acme', hits: [] } },
      { step: { id: 's2', tool: 'calculator', input: { expression: 'a - b' }, dependsOn: ['s1'], purpose: 'the difference' }, outcome: 'ok', output: { expression: '1450 - 1200', result: 250 } },
    ];

    it('writes the answer from the passages and the tool results, and parses its citations', async () => {
      server.setReply('Acme has 1450 employees [1] and Globex 1200 [2], so Acme has 250 more [1, 2]. See [7].');
      const synthesizer = new ModelSynthesizer({ chat, fallback: local.synthesizer, onFallback });
      const answer = await synthesizer.synthesize('How many more employees does Acme have than Globex?', ANALYSIS, results, PASSAGES, context());
      expect(answer).toEqual({ answer: 'Acme has 1450 employees [1] and Globex 1200 [2], so Acme has 250 more [1, 2]. See [7].', citedPassageIndexes: [1, 2], model: 'fake-chat' });
      const user = lastUserMessage(server.requests[0].body);
      expect(user).toContain('<passage index="2" cite="[2]" source="globex.md">\nGlobex employs 1200 people.\n</passage>');
      // The calculator's result is shown; the search's output is not (its hits are the passages).
      expect(user).toContain('<tool-result step="s2" tool="calculator" outcome="ok" purpose="the difference">\n{"expression":"1450 - 1200","result":250}\n</tool-result>');
      expect(user).not.toContain('tool-result step="s1"');
      expect(user).toMatch(/\n\nQuestion: How many more employees does Acme have than Globex\?$/);
      expect(String(server.requests[0].body.messages?.[0].content)).toContain('Cite only passage numbers that appear below.');
      expect(calls).toEqual([expect.objectContaining({ purpose: 'synthesize', completionTokens: 18 })]);
    });

    it('asks once more when the answer cites no passage, then keeps the cited one', async () => {
      let attempt = 0;
      server.setReply(() => (++attempt === 1 ? 'Acme has 250 more employees.' : 'Acme has 250 more employees [1, 2].'));
      const answer = await new ModelSynthesizer({ chat, fallback: local.synthesizer, onFallback }).synthesize('q', ANALYSIS, results, PASSAGES, context());
      expect(answer.citedPassageIndexes).toEqual([1, 2]);
      expect(String(server.requests[1].body.messages?.at(-1)?.content)).toContain('Your answer cites no passage');
      expect(calls.map((record) => record.purpose)).toEqual(['synthesize', 'synthesize:repair']);
    });

    it('keeps an honest "not found" without a repair', async () => {
      server.setReply(NO_ANSWER_TEXT);
      const answer = await new ModelSynthesizer({ chat, fallback: local.synthesizer, onFallback }).synthesize('q', ANALYSIS, results, PASSAGES, context());
      expect(answer).toEqual({ answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: 'fake-chat' });
      expect(server.requests).toHaveLength(1);
    });

    it('lets the local synthesizer write the answer when the model cites only passages that do not exist, twice', async () => {
      server.setReply('Acme has 250 more [5].');
      const answer = await new ModelSynthesizer({ chat, fallback: local.synthesizer, onFallback }).synthesize('q', ANALYSIS, results, PASSAGES, context());
      expect(answer).toEqual(LOCAL_ANSWER);
      expect(String(server.requests[1].body.messages?.at(-1)?.content)).toContain('cites passage numbers that were not given; the passages are [1], [2]');
      expect(fallbacks).toEqual([expect.objectContaining({ judgement: 'synthesize', fallback: 'rules synthesizer', cause: 'invalid-output' })]);
    });

    it('streams the answer as deltas, with the usage asked for at the end of the stream and reported', async () => {
      server.setReply('Acme has 250 more employees [1, 2].');
      const synthesizer = new ModelSynthesizer({ chat, fallback: local.synthesizer, onFallback });
      const deltas: string[] = [];
      for await (const delta of synthesizer.stream('q', ANALYSIS, results, PASSAGES, context())) deltas.push(delta);
      expect(deltas.length).toBeGreaterThan(3);
      expect(deltas.join('')).toBe('Acme has 250 more employees [1, 2].');
      expect(server.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      expect(lastUserMessage(server.requests[0].body)).toContain('<tool-result step="s2" tool="calculator"');
      expect(calls).toEqual([expect.objectContaining({ purpose: 'synthesize', completionTokens: 7 })]);
    });

    it('streams the local answer whole when the model fails before its first delta', async () => {
      server.setFailure({ status: 500 });
      const deltas: string[] = [];
      for await (const delta of new ModelSynthesizer({ chat, fallback: local.synthesizer, onFallback }).stream('q', ANALYSIS, results, PASSAGES, context())) deltas.push(delta);
      expect(deltas).toEqual([LOCAL_ANSWER.answer]);
      expect(fallbacks).toEqual([expect.objectContaining({ judgement: 'synthesize', cause: 'endpoint' })]);
    });

    it('does not ask the model when nothing was found', async () => {
      const answer = await new ModelSynthesizer({ chat, fallback: local.synthesizer }).synthesize('q', ANALYSIS, [], [], context());
      expect(answer.answer).toBe(NO_ANSWER_TEXT);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('ModelEvaluator', () => {
    const answer: GeneratedAnswer = { answer: 'Acme has 1450 employees [1]. Globex has 1200 [2]. Initech has 900 [4].', citedPassageIndexes: [1, 2], model: 'fake-chat' };

    it('scores with the model, computes the overall score with the local weights, and caps citation validity by the markers that exist', async () => {
      server.setReply('{"groundedness":0.6,"coverage":0.8,"citationValidity":0.9,"reason":"the Initech figure is not in the passages"}');
      const evaluator = new ModelEvaluator({ chat, fallback: local.evaluator, onFallback });
      const evaluation = await evaluator.evaluate('How many employees?', answer, PASSAGES, context());
      const citationValidity = 2 / 3; // [4] names no passage
      expect(evaluation).toEqual({ groundedness: 0.6, coverage: 0.8, citationValidity, overall: 0.5 * 0.6 + 0.3 * 0.8 + 0.2 * citationValidity, reason: 'the Initech figure is not in the passages' });
      const user = lastUserMessage(server.requests[0].body);
      expect(user).toContain('<data kind="answer">\nAcme has 1450 employees [1].');
      expect(user).toContain('<passage index="1" cite="[1]" source="acme.md">');
      expect(server.requests[0].body.response_format).toMatchObject({ json_schema: { name: 'answer_scores' } });
      expect(calls).toEqual([expect.objectContaining({ purpose: 'evaluate' })]);
    });

    it('repairs scores out of range, then falls back on the local evaluator', async () => {
      server.setReply('{"groundedness":7,"coverage":0.8,"citationValidity":0.9,"reason":"x"}');
      const evaluation = await new ModelEvaluator({ chat, fallback: local.evaluator, onFallback }).evaluate('q', answer, PASSAGES, context());
      expect(String(server.requests[1].body.messages?.at(-1)?.content)).toMatch(/groundedness/);
      expect(evaluation).toEqual({ ...LOCAL_EVALUATION, reason: "model fake-chat not used (the model's output was invalid after one repair); grounding-rules evaluator decided: 1 of 1 sentences supported" });
      expect(local.evaluator.asked).toBe(1);
    });
  });
});
