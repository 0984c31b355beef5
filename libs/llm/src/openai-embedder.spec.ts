import { fakeEmbedding, startFakeOpenAiServer, type FakeOpenAiServer } from '@quarry/testing';
import { LlmEndpointError } from './endpoint-error';
import { OpenAiEmbedder } from './openai-embedder';
import { dotProduct } from './vector-math';

describe('OpenAiEmbedder against an OpenAI-compatible server', () => {
  let server: FakeOpenAiServer;

  beforeEach(async () => {
    server = await startFakeOpenAiServer();
  });

  afterEach(async () => {
    await server.close();
  });

  it('embeds in batches of the configured size, keeping input order', async () => {
    const embedder = new OpenAiEmbedder({ baseUrl: server.baseUrl, model: 'nomic-embed-text', dimensions: 8, batchSize: 2, maxRetries: 0 });
    const texts = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const vectors = await embedder.embed(texts);

    expect(server.requests.map((request) => request.body.input)).toEqual([['alpha', 'beta'], ['gamma', 'delta'], ['epsilon']]);
    expect(server.requests[0]).toMatchObject({ path: '/v1/embeddings', body: { model: 'nomic-embed-text', encoding_format: 'float' } });
    // Not an OpenAI text-embedding-3 model: the server is not asked to shorten vectors.
    expect(server.requests[0].body.dimensions).toBeUndefined();
    expect(vectors).toHaveLength(5);
    vectors.forEach((vector, i) => {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(Math.sqrt(dotProduct(vector, vector))).toBeCloseTo(1, 5);
      Array.from(vector).forEach((value, d) => expect(value).toBeCloseTo(fakeEmbedding(texts[i], 8)[d], 5));
    });
    expect(embedder).toMatchObject({ model: 'nomic-embed-text', dimensions: 8 });
  });

  it('asks text-embedding-3 models for the configured size', async () => {
    const embedder = new OpenAiEmbedder({ baseUrl: server.baseUrl, model: 'text-embedding-3-small', dimensions: 256, maxRetries: 0 });
    const [vector] = await embedder.embed(['hello']);
    expect(server.requests[0].body.dimensions).toBe(256);
    expect(vector).toHaveLength(256);
  });

  it('normalises vectors that the server returns unnormalised', async () => {
    await server.close();
    server = await startFakeOpenAiServer({ embeddingScale: 7 });
    const embedder = new OpenAiEmbedder({ baseUrl: server.baseUrl, model: 'm', dimensions: 8, maxRetries: 0 });
    const [vector] = await embedder.embed(['x']);
    expect(Math.sqrt(dotProduct(vector, vector))).toBeCloseTo(1, 5);
    Array.from(vector).forEach((value, d) => expect(value).toBeCloseTo(fakeEmbedding('x', 8)[d], 5));
  });

  it('does not send blank texts and gives them the zero vector', async () => {
    const embedder = new OpenAiEmbedder({ baseUrl: server.baseUrl, model: 'm', dimensions: 8, maxRetries: 0 });
    const vectors = await embedder.embed(['', 'real text', '   ']);
    expect(server.requests.map((request) => request.body.input)).toEqual([['real text']]);
    expect(Array.from(vectors[0])).toEqual(new Array(8).fill(0));
    expect(Array.from(vectors[2])).toEqual(new Array(8).fill(0));
    expect(dotProduct(vectors[1], vectors[1])).toBeCloseTo(1, 5);
    expect(await embedder.embed([])).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('explains a dimension mismatch between model and configuration', async () => {
    await server.close();
    server = await startFakeOpenAiServer({ embeddingDimensions: 768 });
    const embedder = new OpenAiEmbedder({ baseUrl: server.baseUrl, model: 'nomic-embed-text', dimensions: 384, maxRetries: 0 });
    await expect(embedder.embed(['x'])).rejects.toThrow(
      `Embedding model "nomic-embed-text" at ${server.baseUrl} returned vectors of 768 dimensions, but 384 are configured`,
    );
  });

  it('reports endpoint failures naming the endpoint, never the key', async () => {
    server.setFailure({ status: 401, message: 'Incorrect API key provided: sk-abc***xyz' });
    const embedder = new OpenAiEmbedder({ baseUrl: server.baseUrl, apiKey: 'sk-abc-very-secret-xyz', model: 'm', dimensions: 8, maxRetries: 0 });
    const error: unknown = await embedder.embed(['x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmEndpointError);
    const { message } = error as LlmEndpointError;
    expect(message).toContain(`embeddings with model "m" at ${server.baseUrl} failed (check the API key): 401`);
    expect(message).not.toMatch(/abc|xyz|secret/);
  });

  it('rejects nonsensical settings at construction', () => {
    expect(() => new OpenAiEmbedder({ baseUrl: server.baseUrl, model: 'm', dimensions: 0 })).toThrow(/dimensions/);
    expect(() => new OpenAiEmbedder({ baseUrl: server.baseUrl, model: 'm', dimensions: 8, batchSize: 0 })).toThrow(/batch size/);
  });
});
