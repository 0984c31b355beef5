import OpenAI, { APIError } from 'openai';
import { countFakeTokens, fakeEmbedding, lastUserMessage, startFakeOpenAiServer, textOutsideQuotedData, type FakeOpenAiServer } from './fake-openai-server';

describe('fake OpenAI server', () => {
  let server: FakeOpenAiServer;
  let client: OpenAI;

  beforeEach(async () => {
    server = await startFakeOpenAiServer({ reply: (request) => `You said: ${lastUserMessage(request)}` });
    client = new OpenAI({ baseURL: server.baseUrl, apiKey: 'test-key', maxRetries: 0 });
  });

  afterEach(async () => {
    await server.close();
  });

  it('listens on a random local port with a /v1 base URL', () => {
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
  });

  it('answers a chat completion with the scripted reply and records the request', async () => {
    const completion = await client.chat.completions.create({
      model: 'fake-chat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello' },
      ],
      temperature: 0,
    });
    expect(completion.choices[0].message.content).toBe('You said: hello');
    expect(completion.model).toBe('fake-chat');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'fake-chat', temperature: 0 } });
    expect(server.requests[0].headers.authorization).toBe('Bearer test-key');
  });

  it('streams the reply as SSE chunks that concatenate to the whole text', async () => {
    server.setReply('one two  three four.');
    const stream = await client.chat.completions.create({ model: 'fake-chat', messages: [{ role: 'user', content: 'go' }], stream: true });
    const deltas: string[] = [];
    const finishReasons: (string | null)[] = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      if (chunk.choices[0].delta.content) deltas.push(chunk.choices[0].delta.content);
      finishReasons.push(chunk.choices[0].finish_reason);
    }
    expect(deltas).toEqual(['one', ' two', '  three', ' four.']);
    expect(finishReasons.at(-1)).toBe('stop');
    expect(server.requests[0].body.stream).toBe(true);
  });

  it('returns deterministic unit embeddings of the requested size, as floats or base64', async () => {
    const asFloats = await client.embeddings.create({ model: 'fake-embed', input: ['a', 'b'], dimensions: 5, encoding_format: 'float' });
    expect(asFloats.data.map((item) => item.index)).toEqual([0, 1]);
    expect(asFloats.data[0].embedding).toEqual(fakeEmbedding('a', 5));
    expect(asFloats.data[0].embedding).not.toEqual(asFloats.data[1].embedding);
    const norm = Math.hypot(...asFloats.data[0].embedding);
    expect(norm).toBeCloseTo(1, 6);

    // Without encoding_format the client asks for base64 and decodes it itself.
    const decoded = await client.embeddings.create({ model: 'fake-embed', input: 'a', dimensions: 5 });
    expect(server.requests[1].body.encoding_format).toBe('base64');
    decoded.data[0].embedding.forEach((value, i) => expect(value).toBeCloseTo(fakeEmbedding('a', 5)[i], 6));
  });

  it('can return unnormalised embeddings', async () => {
    const scaled = await startFakeOpenAiServer({ embeddingScale: 3 });
    try {
      const scaledClient = new OpenAI({ baseURL: scaled.baseUrl, apiKey: 'k', maxRetries: 0 });
      const response = await scaledClient.embeddings.create({ model: 'm', input: 'x', dimensions: 4, encoding_format: 'float' });
      expect(Math.hypot(...response.data[0].embedding)).toBeCloseTo(3, 6);
    } finally {
      await scaled.close();
    }
  });

  it('uses its configured embedding size when it has one, whatever was requested', async () => {
    const fixed = await startFakeOpenAiServer({ embeddingDimensions: 3 });
    try {
      const fixedClient = new OpenAI({ baseURL: fixed.baseUrl, apiKey: 'k', maxRetries: 0 });
      const response = await fixedClient.embeddings.create({ model: 'm', input: 'x', dimensions: 10, encoding_format: 'float' });
      expect(response.data[0].embedding).toHaveLength(3);
    } finally {
      await fixed.close();
    }
  });

  it('fails with the injected status for the chosen endpoint, a given number of times', async () => {
    server.setFailure({ status: 500, endpoint: 'chat', times: 1, message: 'model crashed' });
    const error: unknown = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(500);
    expect((error as APIError).message).toContain('model crashed');
    // Recovered after one failure; embeddings were never affected.
    await expect(client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).resolves.toBeDefined();
  });

  it('rejects every request with 401 until told otherwise', async () => {
    server.setFailure({ status: 401 });
    await expect(client.embeddings.create({ model: 'm', input: 'x' })).rejects.toMatchObject({ status: 401 });
    await expect(client.chat.completions.create({ model: 'm', messages: [] })).rejects.toMatchObject({ status: 401 });
    server.setFailure(undefined);
    await expect(client.embeddings.create({ model: 'm', input: 'x' })).resolves.toBeDefined();
  });

  it('lets a retryable failure be retried by the client', async () => {
    server.setFailure({ status: 503, times: 1, retryable: true });
    const retryingClient = new OpenAI({ baseURL: server.baseUrl, apiKey: 'k', maxRetries: 1 });
    await expect(retryingClient.embeddings.create({ model: 'm', input: 'x' })).resolves.toBeDefined();
    expect(server.requests).toHaveLength(2);
  });

  it('answers unknown endpoints with 404', async () => {
    await expect(client.models.list()).rejects.toMatchObject({ status: 404 });
  });

  it('counts words as tokens in the usage of a completion', async () => {
    server.setReply('three little words');
    const completion = await client.chat.completions.create({
      model: 'm',
      messages: [
        { role: 'system', content: 'Be brief please.' },
        { role: 'user', content: 'one two' },
      ],
    });
    // "You said: …" is not used: setReply replaced it.
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
    expect(countFakeTokens(' a  b\nc ')).toBe(3);
  });

  it('sends the usage last in a stream only when stream_options.include_usage asks for it', async () => {
    server.setReply('alpha beta gamma');
    const withUsage = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'go on now' }], stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 } });
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);

    const without = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'go' }], stream: true });
    for await (const chunk of without) expect(chunk.usage).toBeUndefined();
  });

  it('makes the scripted function calls, seeing the tools the request offers', async () => {
    server.setReply((request) => ({
      content: null,
      toolCalls: (request.tools ?? []).map((tool, index) => ({ name: tool.function.name, arguments: { query: `q${index}` } })),
    }));
    const tools = ['search', 'calculator'].map((name) => ({ type: 'function' as const, function: { name, parameters: { type: 'object', properties: { query: { type: 'string' } } } } }));
    const completion = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'plan' }], tools });
    expect(completion.choices[0].finish_reason).toBe('tool_calls');
    expect(completion.choices[0].message.content).toBeNull();
    expect(completion.choices[0].message.tool_calls).toEqual([
      { id: 'call_1', type: 'function', function: { name: 'search', arguments: '{"query":"q0"}' } },
      { id: 'call_2', type: 'function', function: { name: 'calculator', arguments: '{"query":"q1"}' } },
    ]);
    expect(server.requests[0].body.tools?.map((tool) => tool.function.name)).toEqual(['search', 'calculator']);
    // Each call's name and arguments count as completion tokens ("search" + '{"query":"q0"}'), the offered tools as prompt tokens.
    expect(completion.usage?.completion_tokens).toBe(4);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(1);
  });

  it('streams function calls as deltas the client reassembles', async () => {
    server.setReply({ content: 'Planning.', toolCalls: [{ id: 'call_a', name: 'search', arguments: { query: 'revenue of Acme in 2023', topK: 4 } }, { name: 'calculator', arguments: '{"expression":"1 + 2"}' }] });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'plan' }], stream: true });
    const calls: { id?: string; name: string; arguments: string }[] = [];
    let content = '';
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      content += choice.delta.content ?? '';
      for (const delta of choice.delta.tool_calls ?? []) {
        calls[delta.index] ??= { name: '', arguments: '' };
        if (delta.id) calls[delta.index].id = delta.id;
        calls[delta.index].name += delta.function?.name ?? '';
        calls[delta.index].arguments += delta.function?.arguments ?? '';
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
    expect(content).toBe('Planning.');
    expect(finishReason).toBe('tool_calls');
    expect(calls).toEqual([
      { id: 'call_a', name: 'search', arguments: '{"query":"revenue of Acme in 2023","topK":4}' },
      { id: 'call_2', name: 'calculator', arguments: '{"expression":"1 + 2"}' },
    ]);
  });

  it('lets the reply see the whole request, tool results included', async () => {
    server.setReply((request) => {
      const answered = (request.messages ?? []).filter((message) => message.role === 'tool').map((message) => `${message.tool_call_id}=${String(message.content)}`);
      return `format ${request.response_format?.type ?? 'none'}; ${answered.join(', ')}`;
    });
    const completion = await client.chat.completions.create({
      model: 'm',
      response_format: { type: 'json_object' },
      messages: [
        { role: 'user', content: 'Reply in JSON.' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '3 hits' },
      ],
    });
    expect(completion.choices[0].message.content).toBe('format json_object; call_1=3 hits');
    expect(server.requests[0].body.messages?.[1].tool_calls?.[0].function.name).toBe('search');
  });

  it('refuses what OpenAI refuses: a malformed response_format, JSON mode never mentioning JSON, an unoffered tool_choice', async () => {
    const messages = [{ role: 'user' as const, content: 'hello' }];
    await expect(client.chat.completions.create({ model: 'm', messages, response_format: { type: 'json_object' } })).rejects.toMatchObject({ status: 400 });
    await expect(
      client.chat.completions.create({ model: 'm', messages, response_format: { type: 'json_schema', json_schema: { name: 'x' } } as never }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      client.chat.completions.create({ model: 'm', messages, tools: [{ type: 'function', function: { name: 'search' } }], tool_choice: { type: 'function', function: { name: 'database' } } }),
    ).rejects.toMatchObject({ status: 400 });
    const schema = { type: 'object', properties: { answer: { type: 'string' } } };
    await expect(client.chat.completions.create({ model: 'm', messages, response_format: { type: 'json_schema', json_schema: { name: 'x', schema } } })).resolves.toBeDefined();
  });

  it('finds the text outside quoted-data blocks the way a naive reader does: a block ends at the first closing tag', () => {
    const body = {
      messages: [
        { role: 'system', content: 'Rules.' },
        { role: 'user', content: 'A <passage index="1">kept out</passage> B <tool-result step="s1">also out</TOOL-RESULT > C <passage>inside</passage> leaked </passage> D' },
      ],
    };
    expect(textOutsideQuotedData(body).replace(/\s+/g, ' ')).toBe('Rules. A B C leaked </passage> D');
  });

  it('can delay its answers, to exercise client timeouts', async () => {
    server.setDelay(500);
    const impatient = new OpenAI({ baseURL: server.baseUrl, apiKey: 'k', maxRetries: 0, timeout: 50 });
    // A timeout surfaces as APIConnectionTimeoutError in a plain process but as a generic connection
    // error under jest, whose AbortError comes from another realm; either way the client gives up.
    await expect(impatient.embeddings.create({ model: 'm', input: 'x' })).rejects.toThrow(/timed out|connection error/i);
    expect(server.requests).toHaveLength(1);
  });
});
