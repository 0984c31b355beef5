import { ChatOpenAI } from '@langchain/openai';
import { AIMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import OpenAI from 'openai';
import type { GatewayConfig } from '../src/config';
import { PostEventStream } from './post-event-stream';
import { issueTestKey, startGateway } from './start-gateway';
import { AGENT_SECRET, type StreamingAgent, startStreamingAgent } from './streaming-agent';

type Citations = Array<{ index: number; filename: string; snippet: string }>;

/**
 * The OpenAI-compatible API, in-process on real Postgres and Redis with a stand-in agent that
 * streams, asked by the official `openai` client and LangChain's ChatOpenAI with an API key as
 * their Bearer token.
 */
describe('OpenAI-compatible API (/v1)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let gateway: RunningService<GatewayConfig>;
  let agent: StreamingAgent;
  let key: string;
  let client: OpenAI;

  beforeAll(async () => {
    schema = await createTestSchema('openaiapi');
    redis = createTestRedisPrefix('openaiapi');
    gateway = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, RATE_LIMIT_PER_MINUTE: '0' });
    agent = await startStreamingAgent(redis);
    ({ key } = await issueTestKey(gateway, 'openai-acme', 'read'));
    client = new OpenAI({ apiKey: key, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await gateway?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const askedWith = (question: string) => agent.asked.filter((payload) => payload.question === question);

  it('lists the one model', async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => [model.id, model.owned_by])).toEqual([['quarry', 'quarry']]);
  });

  it('answers a chat completion with inline markers, a Sources list, structured citations and usage, for the key\'s tenant', async () => {
    const completion = await client.chat.completions.create({ model: 'quarry', messages: [{ role: 'user', content: 'How many vacation days?' }] });
    expect(completion.object).toBe('chat.completion');
    const content = completion.choices[0].message.content ?? '';
    expect(content).toMatch(/\[1\].*\[2\]/s);
    expect(content).toContain('\n\nSources:\n[1] handbook.md — Every employee receives 27 days of paid vacation per calendar year.\n[2] policies/leave.md — ');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 });
    expect((completion as unknown as { citations: Citations }).citations.map((citation) => citation.filename)).toEqual(['handbook.md', 'policies/leave.md']);
    expect(askedWith('How many vacation days?')).toEqual([expect.objectContaining({ tenantId: 'openai-acme' })]);
  });

  it('streams chunks: the role first, the same content as without streaming, stop with citations, usage when asked, then [DONE]', async () => {
    const stream = await client.chat.completions.create({
      model: 'quarry',
      messages: [{ role: 'user', content: 'Streamed vacation question?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.id === chunks[0].id)).toBe(true);
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    // Asked again, the answer comes from the answer cache: the same content (and no tokens spent).
    const whole = await client.chat.completions.create({ model: 'quarry', messages: [{ role: 'user', content: 'Streamed vacation question?' }] });
    expect(content).toBe(whole.choices[0].message.content);
    expect(whole.usage?.total_tokens).toBe(0);
    const stop = chunks.find((chunk) => chunk.choices[0]?.finish_reason === 'stop');
    expect((stop as unknown as { citations: Citations }).citations).toHaveLength(2);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { total_tokens: 18 } });
    // The raw stream ends with [DONE], as OpenAI's does.
    const raw = await PostEventStream.open(`${gateway.url}/v1/chat/completions`, { model: 'quarry', messages: [{ role: 'user', content: 'Raw stream?' }], stream: true }, { authorization: `Bearer ${key}` });
    await raw.closedByServer();
    expect(raw.events.at(-1)?.data).toBe('[DONE]');
    expect(raw.data('message').some((chunk) => 'usage' in chunk && chunk.usage !== null)).toBe(false);
  });

  it('turns earlier messages into history (system ignored, the Sources list dropped from assistant turns)', async () => {
    await client.chat.completions.create({
      model: 'quarry',
      messages: [
        { role: 'system', content: 'You are a pirate.' },
        { role: 'user', content: 'How many vacation days?' },
        { role: 'assistant', content: 'You get 27 days [1].\n\nSources:\n[1] handbook.md — Every employee…' },
        { role: 'user', content: [{ type: 'text', text: 'And who approves them?' }] },
      ],
    });
    const [payload] = askedWith('And who approves them?');
    expect(payload.history).toEqual([
      { role: 'user', content: 'How many vacation days?' },
      { role: 'assistant', content: 'You get 27 days [1].' },
    ]);
  });

  it('refuses what it cannot honour with a 400 in OpenAI\'s error shape, an unknown model with 404, a bad key with 401', async () => {
    const refusals: Array<[Partial<OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming>, RegExp]> = [
      [{ n: 2 }, /^n: only one choice/],
      [{ tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }, /^tools: function calling is not supported/],
      [{ response_format: { type: 'json_object' } }, /^response_format/],
      [{ messages: [{ role: 'assistant', content: 'hi' }] }, /the last message must be the user's question/],
      [{ messages: [] }, /messages/],
    ];
    for (const [params, message] of refusals) {
      const error = await client.chat.completions.create({ model: 'quarry', messages: [{ role: 'user', content: 'q' }], ...params }).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).error).toMatchObject({ type: 'invalid_request_error', message: expect.stringMatching(message) as unknown });
    }
    await expect(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'q' }] })).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
    const stranger = new OpenAI({ apiKey: 'qk_live_not-a-key', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const response = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: expect.any(String) as unknown, type: 'authentication_error', param: null, code: 'invalid_api_key' } });
  });

  it('reports a failed answer as an error (never the internal message), streaming or not', async () => {
    const error = await client.chat.completions.create({ model: 'quarry', messages: [{ role: 'user', content: 'fail now' }] }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(JSON.stringify((error as InstanceType<typeof OpenAI.APIError>).error)).not.toContain('hunter2');
    const stream = await client.chat.completions.create({ model: 'quarry', messages: [{ role: 'user', content: 'fail streaming' }], stream: true });
    const streamed = await (async () => {
      for await (const _chunk of stream) {
        // the role chunk comes first; the error follows
      }
    })().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(streamed).toBeInstanceOf(OpenAI.APIError);
    expect(String((streamed as Error).message)).not.toContain(AGENT_SECRET);
  });

  it('LangChain ChatOpenAI streams the answer with its sources in the content', async () => {
    const model = new ChatOpenAI({ model: 'quarry', apiKey: key, configuration: { baseURL: `${gateway.url}/v1` }, maxRetries: 0, streaming: true });
    let content = '';
    for await (const chunk of await model.stream([new SystemMessage('Answer briefly.'), new HumanMessage('LangChain question?')])) content += typeof chunk.content === 'string' ? chunk.content : '';
    expect(content).toContain('[1]');
    expect(content).toMatch(/Sources:\n\[1\] handbook\.md — .*\n\[2\] policies\/leave\.md — /);
    // Not streaming: LangChain then takes the usage from the reply (a streamed invoke would count tokens with tiktoken, whose files it downloads).
    const reply = await new ChatOpenAI({ model: 'quarry', apiKey: key, configuration: { baseURL: `${gateway.url}/v1` }, maxRetries: 0 }).invoke([new HumanMessage('LangChain question?'), new AIMessage('earlier'), new HumanMessage('LangChain follow-up?')]);
    expect(reply.content).toEqual(expect.stringContaining('Sources:'));
    expect(askedWith('LangChain follow-up?')[0].history).toEqual([
      { role: 'user', content: 'LangChain question?' },
      { role: 'assistant', content: 'earlier' },
    ]);
  });
});
