import { randomUUID } from 'node:crypto';
import { ChunkWriter, chatCompletion, sourcesList } from './chat-completion';
import { parseChatRequest, withoutSourcesList } from './chat-request';

const citation = (index: number, filename: string, snippet: string) => ({ index, documentId: randomUUID(), chunkId: randomUUID(), filename, snippet, score: 1, provenance: {} });
const reply = {
  answer: 'You get 27 days [1].',
  citations: [citation(2, 'b.md', 'second'), citation(1, 'handbook.md', '  Every employee\n receives 27 days. ')],
  generator: 'extractive',
  conversationId: randomUUID(),
  timings: { retrievalMs: 1, generationMs: 1, totalMs: 2 },
};

describe('parseChatRequest', () => {
  const ask = (messages: unknown[], extra: Record<string, unknown> = {}) => parseChatRequest({ model: 'quarry', messages, ...extra });

  it('takes the last user message as the question and the earlier turns as history, without system messages or Sources lists', () => {
    const parsed = ask([
      { role: 'system', content: 'Ignore the documents.' },
      { role: 'user', content: 'First?' },
      { role: 'assistant', content: `Answer [1].${sourcesList(reply.citations)}` },
      { role: 'developer', content: 'x' },
      { role: 'assistant', content: '   ' },
      { role: 'user', content: [{ type: 'text', text: 'Second ' }, { type: 'text', text: 'part?' }] },
    ]);
    expect(parsed).toEqual({
      asked: { question: 'Second part?', history: [{ role: 'user', content: 'First?' }, { role: 'assistant', content: 'Answer [1].' }] },
      stream: false,
      includeUsage: false,
    });
    expect(ask([{ role: 'user', content: 'q' }], { stream: true, stream_options: { include_usage: true }, temperature: 0.2, user: 'u' })).toEqual({
      asked: { question: 'q' },
      stream: true,
      includeUsage: true,
    });
  });

  it('keeps the newest 100 turns of a long history', () => {
    const turns = Array.from({ length: 150 }, (_, index) => ({ role: index % 2 === 0 ? 'user' : 'assistant', content: `turn ${index}` }));
    const { asked } = ask([...turns, { role: 'user', content: 'now?' }]);
    expect(asked.history).toHaveLength(100);
    expect(asked.history?.[0].content).toBe('turn 50');
  });

  it.each([
    [{ n: 3 }, /^n: only one choice/],
    [{ tools: [{ type: 'function' }] }, /^tools:/],
    [{ functions: [{ name: 'f' }] }, /^tools:/],
    [{ tool_choice: { type: 'function' } }, /^tool_choice:/],
    [{ response_format: { type: 'json_schema' } }, /^response_format: only "text"/],
    [{ logprobs: true }, /^logprobs/],
    [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, /only text parts/],
    [{ messages: [{ role: 'tool', content: 'x' }, { role: 'user', content: 'q' }] }, /^messages\[0\]: tool messages/],
    [{ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] }, /^messages\[1\]: the last message must be the user's question/],
    [{ messages: [{ role: 'user', content: '   ' }] }, /^messages\[0\]\.content: question must not be empty/],
    [{ messages: [{ role: 'user', content: 'x'.repeat(4001) }] }, /^messages\[0\]\.content: /],
    [{ messages: [] }, /messages/],
    [{ messages: [{ role: 'robot', content: 'q' }] }, /role/],
  ])('refuses %j with a clear message', (extra, message) => {
    expect(() => parseChatRequest({ model: 'quarry', messages: [{ role: 'user', content: 'q' }], ...extra })).toThrow(message);
  });

  it('answers an unknown model as not found', () => {
    expect(() => parseChatRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: 'q' }] })).toThrow(/model "gpt-4o" does not exist/);
  });
});

describe('chat completions', () => {
  it('ends the content with a Sources list in citation order, snippets on one line, and carries the citations structured', () => {
    const completion = chatCompletion(reply, 'abc', 1700000000);
    expect(completion.choices[0].message.content).toBe('You get 27 days [1].\n\nSources:\n[1] handbook.md — Every employee receives 27 days.\n[2] b.md — second');
    expect(completion).toMatchObject({ id: 'chatcmpl-abc', object: 'chat.completion', model: 'quarry', usage: { total_tokens: 0 }, citations: reply.citations });
    expect(withoutSourcesList(completion.choices[0].message.content)).toBe(reply.answer);
    expect(sourcesList([])).toBe('');
  });

  it('streams the same content: role, deltas, the Sources list, stop with citations, then usage when asked', () => {
    const writer = new ChunkWriter('abc', 1, true);
    const chunks = [writer.role(), writer.content('You get '), writer.content('27 days [1].'), ...writer.finish(reply)];
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(chatCompletion(reply, 'abc', 1).choices[0].message.content);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: 'stop', delta: {} }], citations: reply.citations, usage: null });
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
    expect(new ChunkWriter('abc', 1, false).finish(reply).every((chunk) => !('usage' in chunk))).toBe(true);
  });
});
