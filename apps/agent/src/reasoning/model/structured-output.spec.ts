import { LlmEndpointError } from '@quarry/llm';
import { type FakeOpenAiServer, startFakeOpenAiServer } from '@quarry/testing';
import { z } from 'zod';
import type { ModelCallRecord } from '../judgements';
import { ChatModel } from './chat-model';
import { InvalidModelOutputError, completeStructured, parseJsonObject } from './structured-output';

const Verdict = z.object({ answer: z.enum(['yes', 'no']), confidence: z.number().min(0).max(1), note: z.string().optional() });
const MESSAGES = [
  { role: 'system' as const, content: 'You judge questions.' },
  { role: 'user' as const, content: 'Is the sky blue?' },
];

describe('structured output from a chat model', () => {
  let server: FakeOpenAiServer;
  let calls: ModelCallRecord[];
  const call = () => ({ purpose: 'judge', signal: new AbortController().signal, onModelCall: (record: ModelCallRecord) => calls.push(record) });
  const chatModel = (options: Partial<ConstructorParameters<typeof ChatModel>[0]> = {}) => new ChatModel({ baseUrl: server.baseUrl, model: 'fake-judge', maxRetries: 0, ...options });

  beforeEach(async () => {
    server = await startFakeOpenAiServer();
    calls = [];
  });

  afterEach(async () => {
    await server.close();
  });

  it('asks with the zod schema as response_format json_schema and in the system prompt, and returns the validated object', async () => {
    server.setReply('{"answer":"yes","confidence":0.9}');
    const verdict = await completeStructured(chatModel(), { schema: Verdict, schemaName: 'verdict', messages: MESSAGES, maxTokens: 50 }, call());
    expect(verdict).toEqual({ answer: 'yes', confidence: 0.9 });
    const { body } = server.requests[0];
    expect(body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'verdict', schema: z.toJSONSchema(Verdict, { io: 'input' }), strict: false } });
    expect(body).toMatchObject({ model: 'fake-judge', temperature: 0, max_tokens: 50 });
    const system = String(body.messages?.[0].content);
    expect(system).toMatch(/^You judge questions\.\n\nReply with one JSON object only/);
    expect(system).toContain('"confidence":{"type":"number","minimum":0,"maximum":1}');
  });

  it('reports every call\'s tokens and duration, the repair included', async () => {
    let attempt = 0;
    server.setReply(() => (++attempt === 1 ? '{"answer":"maybe"}' : '{"answer":"no","confidence":0.2}'));
    await completeStructured(chatModel(), { schema: Verdict, schemaName: 'verdict', messages: MESSAGES, maxTokens: 50 }, call());
    expect(calls.map((record) => record.purpose)).toEqual(['judge', 'judge:repair']);
    expect(calls[0]).toMatchObject({ model: 'fake-judge', completionTokens: 1 });
    expect(calls[1].completionTokens).toBe(1);
    // The repair's prompt is the first prompt plus the reply and the errors: more words.
    expect(calls[1].promptTokens).toBeGreaterThan(calls[0].promptTokens);
    expect(calls.every((record) => record.durationMs > 0)).toBe(true);
  });

  it('repairs once: the model sees its reply and the validation errors, and the corrected object is returned', async () => {
    let attempt = 0;
    server.setReply(() => (++attempt === 1 ? 'Sure! {"answer":"maybe","confidence":2}' : '```json\n{"answer":"no","confidence":0.2}\n```'));
    const verdict = await completeStructured(chatModel(), { schema: Verdict, schemaName: 'verdict', messages: MESSAGES, maxTokens: 50 }, call());
    expect(verdict).toEqual({ answer: 'no', confidence: 0.2 });
    expect(server.requests).toHaveLength(2);
    const repair = server.requests[1].body.messages ?? [];
    expect(repair.slice(0, 2)).toEqual(server.requests[0].body.messages);
    expect(repair[2]).toEqual({ role: 'assistant', content: 'Sure! {"answer":"maybe","confidence":2}' });
    expect(repair[3].role).toBe('user');
    expect(String(repair[3].content)).toMatch(/answer[\s\S]*confidence/);
    expect(String(repair[3].content)).toContain('corrected JSON object only');
  });

  it('throws a typed error the caller can fall back on when the repair is invalid too', async () => {
    server.setReply('no JSON here');
    const error: unknown = await completeStructured(chatModel(), { schema: Verdict, schemaName: 'verdict', messages: MESSAGES, maxTokens: 50 }, call()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidModelOutputError);
    expect(error).toMatchObject({ purpose: 'judge', attempts: 2, issues: 'the reply contains no JSON object' });
    expect(server.requests).toHaveLength(2);
  });

  it('applies checks beyond the schema, and repairs them the same way', async () => {
    let attempt = 0;
    server.setReply(() => (++attempt === 1 ? '{"answer":"yes","confidence":0.1}' : '{"answer":"yes","confidence":0.8}'));
    const verdict = await completeStructured(chatModel(), { schema: Verdict, schemaName: 'verdict', messages: MESSAGES, maxTokens: 50 }, call(), (value) =>
      value.answer === 'yes' && value.confidence < 0.5 ? 'a "yes" needs a confidence of at least 0.5' : undefined,
    );
    expect(verdict.confidence).toBe(0.8);
    expect(String(server.requests[1].body.messages?.[3].content)).toContain('a "yes" needs a confidence of at least 0.5');
  });

  it('treats a reply cut off at the token limit as invalid', async () => {
    let attempt = 0;
    server.setReply(() => (++attempt === 1 ? { content: '{"answer":"yes","confidence":0.9}', finishReason: 'length' } : '{"answer":"yes","confidence":0.9}'));
    await completeStructured(chatModel(), { schema: Verdict, schemaName: 'verdict', messages: MESSAGES, maxTokens: 5 }, call());
    expect(String(server.requests[1].body.messages?.[3].content)).toContain('cut off at the token limit');
  });

  it('can ask for json_object instead, for servers without schemas: the server sees "JSON" in the prompt', async () => {
    server.setReply('{"answer":"yes","confidence":1}');
    await completeStructured(chatModel({ structuredOutput: 'json_object' }), { schema: Verdict, schemaName: 'verdict', messages: [{ role: 'user', content: 'Is it?' }], maxTokens: 50 }, call());
    // The fake, like OpenAI, answers 400 to json_object mode without the word JSON: this passed.
    expect(server.requests[0].body.response_format).toEqual({ type: 'json_object' });
    expect(server.requests[0].body.messages?.[0].role).toBe('system');
  });

  it('lets endpoint failures through as LlmEndpointError, not as invalid output', async () => {
    server.setFailure({ status: 500, message: 'model not loaded' });
    const error: unknown = await completeStructured(chatModel(), { schema: Verdict, schemaName: 'verdict', messages: MESSAGES, maxTokens: 50 }, call()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmEndpointError);
    expect((error as LlmEndpointError).operation).toBe('judge (chat completion with model "fake-judge")');
    expect(calls).toHaveLength(0);
  });

  it('reads the JSON object out of prose and fences', () => {
    expect(parseJsonObject('Here:\n```json\n{"a": {"b": 1}}\n```')).toEqual({ ok: true, value: { a: { b: 1 } } });
    expect(parseJsonObject('')).toEqual({ ok: false, issues: 'the reply was empty' });
    expect(parseJsonObject('{"a": }')).toMatchObject({ ok: false, issues: expect.stringMatching(/^the reply is not valid JSON/) as unknown });
  });
});
