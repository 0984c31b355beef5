import { TieredCache } from '@quarry/cache';
import { OpenAiChatGenerator, type Passage } from '@quarry/llm';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import { type FakeOpenAiServer, type TestRedisPrefix, createTestRedisPrefix, lastUserMessage, startFakeOpenAiServer } from '@quarry/testing';
import { LlmResponseCache } from '../src/services/llm-response-cache';

const PASSAGES: Passage[] = [{ index: 1, chunkId: 'c1', documentId: 'd1', filename: 'handbook.md', text: 'Refunds are accepted within 30 days.', score: 0.9 }];
const logger = createLogger({ service: 'agent-test', level: 'error', silent: true });

async function collect(stream: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const piece of stream) text += piece;
  return text;
}

/** The real client against the fake OpenAI-compatible server, completions kept in memory and the run's Redis. */
describe('chat completions through the multi-level cache', () => {
  let server: FakeOpenAiServer;
  let redis: TestRedisPrefix;
  const caches: TieredCache[] = [];

  /** An agent replica's cache: its own memory, the shared Redis. */
  const replicaCache = async () => {
    const cache = new TieredCache({ service: 'agent', redis: { url: redis.url, prefix: redis.prefix }, memoryMaxBytes: 1024 * 1024, registry: new ServiceMetrics('agent').registry, logger });
    caches.push(cache);
    expect(await cache.ready()).toBe(true);
    return new LlmResponseCache(cache, 60_000);
  };
  const generatorWith = (cache: LlmResponseCache, options: { temperature?: number; cacheNonDeterministic?: boolean } = {}) =>
    new OpenAiChatGenerator({ baseUrl: server.baseUrl, model: 'llama3.1:8b', maxRetries: 0, cache, ...options });

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ reply: (body) => `Answer to "${lastUserMessage(body).split('Question: ')[1]}": within 30 days [1].` });
    redis = createTestRedisPrefix('llmcache');
  });

  afterAll(async () => {
    for (const cache of caches) await cache.close();
    await redis?.cleanup();
    await server?.close();
  });

  it('sends a deterministic request to the model once, for every replica and for streams too', async () => {
    const first = generatorWith(await replicaCache());
    const before = server.requests.length;
    const answer = await first.generate('Can I get a refund?', PASSAGES);
    expect(answer.answer).toContain('within 30 days');
    expect(await first.generate('Can I get a refund?', PASSAGES)).toEqual(answer);
    expect(await collect(first.stream('Can I get a refund?', PASSAGES))).toBe(answer.answer);
    // Another replica finds it in Redis.
    expect(await generatorWith(await replicaCache()).generate('Can I get a refund?', PASSAGES)).toEqual(answer);
    expect(server.requests.length - before).toBe(1);
    // Another question (other messages) is another request.
    expect((await first.generate('How long do refunds take?', PASSAGES)).answer).toContain('How long do refunds take?');
    expect(server.requests.length - before).toBe(2);
  });

  it('keeps a streamed completion once it finished', async () => {
    const generator = generatorWith(await replicaCache());
    const before = server.requests.length;
    const streamed = await collect(generator.stream('Is shipping free?', PASSAGES));
    expect((await generator.generate('Is shipping free?', PASSAGES)).answer).toBe(streamed.trim());
    expect(server.requests.length - before).toBe(1);
  });

  it('asks the model every time for a sampled (temperature > 0) request, unless told to cache those too', async () => {
    const cache = await replicaCache();
    const sampled = generatorWith(cache, { temperature: 0.7 });
    const before = server.requests.length;
    await sampled.generate('Tell me about refunds', PASSAGES);
    await sampled.generate('Tell me about refunds', PASSAGES);
    expect(server.requests.length - before).toBe(2);
    const cachedAnyway = generatorWith(cache, { temperature: 0.7, cacheNonDeterministic: true });
    await cachedAnyway.generate('Tell me about refunds', PASSAGES);
    await cachedAnyway.generate('Tell me about refunds', PASSAGES);
    expect(server.requests.length - before).toBe(3);
  });

  it('answers when the cache cannot: a failing tier is a miss, never the answer\'s failure', async () => {
    const cache = await replicaCache();
    await caches.at(-1)?.close(); // every tier but memory gone
    const generator = generatorWith(cache);
    expect((await generator.generate('Are gift cards refundable?', PASSAGES)).answer).toContain('Are gift cards refundable?');
  });
});
