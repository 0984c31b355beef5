import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FakeOpenAiServer, freePort, startFakeOpenAiServer } from '@quarry/testing';
import { NOT_CONFIGURED, checkModelEndpoint, embeddingEndpoint, llmEndpoint, modelEndpointCheck } from './model-endpoint-check';

const KEY = 'sk-test-do-not-leak-0123456789';

/** A server answering GET /v1/models with `status` and `body`, recording the Authorization header it got. */
async function modelsServer(status: number, body: unknown): Promise<{ baseUrl: string; authorization: Array<string | undefined>; close(): Promise<void> }> {
  const authorization: Array<string | undefined> = [];
  const server: Server = createServer((request, response) => {
    authorization.push(request.headers.authorization);
    response.writeHead(request.url === '/v1/models' ? status : 404, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, authorization, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('model endpoint check', () => {
  let fake: FakeOpenAiServer;
  beforeAll(async () => {
    fake = await startFakeOpenAiServer();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('is ok against the repo\'s fake OpenAI-compatible server, which answers but does not list models', async () => {
    const result = await checkModelEndpoint({ baseUrl: fake.baseUrl, apiKey: KEY, model: 'fake-model' });
    expect(result).toEqual({ ok: true, detail: { endpoint: fake.baseUrl, models: 'not listed (GET /models answered 404)' } });
    const asked = fake.requests.at(-1);
    expect(asked).toMatchObject({ method: 'GET', path: '/v1/models' });
    expect(asked?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('counts the listed models and says whether the configured one is among them', async () => {
    const server = await modelsServer(200, { object: 'list', data: [{ id: 'llama3' }, { id: 'nomic-embed-text' }] });
    try {
      await expect(checkModelEndpoint({ baseUrl: `${server.baseUrl}/`, model: 'llama3' })).resolves.toEqual({ ok: true, detail: { endpoint: server.baseUrl, models: 2, modelListed: true } });
      await expect(checkModelEndpoint({ baseUrl: server.baseUrl, model: 'gpt-4o' })).resolves.toEqual({ ok: true, detail: { endpoint: server.baseUrl, models: 2, modelListed: false } });
      // No key configured: no Authorization header (local servers ignore it).
      expect(server.authorization).toEqual([undefined, undefined]);
    } finally {
      await server.close();
    }
  });

  it('fails when the endpoint refuses the key, without ever repeating the key', async () => {
    const server = await modelsServer(401, { error: { message: `Incorrect API key provided: ${KEY}` } });
    try {
      const result = await checkModelEndpoint({ baseUrl: server.baseUrl, apiKey: KEY });
      expect(result).toEqual({ ok: false, error: `${server.baseUrl} refused the API key (401): check the *_API_KEY setting` });
      expect(JSON.stringify(result)).not.toContain(KEY);
    } finally {
      await server.close();
    }
  });

  it('fails on a server error status', async () => {
    const server = await modelsServer(503, { error: { message: 'overloaded' } });
    try {
      await expect(checkModelEndpoint({ baseUrl: server.baseUrl })).resolves.toEqual({ ok: false, error: `${server.baseUrl} answered GET /models with 503` });
    } finally {
      await server.close();
    }
  });

  it('fails with a short message against a closed port', async () => {
    const port = await freePort();
    const result = await checkModelEndpoint({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: KEY });
    expect(result).toEqual({ ok: false, error: `http://127.0.0.1:${port}/v1 is unreachable (ECONNREFUSED)` });
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it('never shows a password of the URL, even in the reason fetch gives', async () => {
    const port = await freePort();
    const result = await checkModelEndpoint({ baseUrl: `http://user:pa55word@127.0.0.1:${port}/v1`, apiKey: KEY });
    expect(result).toMatchObject({ ok: false, error: expect.stringMatching(new RegExp(`^http://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}/v1 is unreachable`)) as unknown });
    expect(JSON.stringify(result)).not.toMatch(/pa55word|sk-test/);
  });

  it('fails when the endpoint does not answer in time', async () => {
    fake.setDelay(1000);
    try {
      const started = Date.now();
      await expect(checkModelEndpoint({ baseUrl: fake.baseUrl }, 150)).resolves.toEqual({ ok: false, error: `${fake.baseUrl} did not answer within 150 ms` });
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      fake.setDelay(0);
    }
  });

  it('is skipped (ok, "not configured") while the local defaults are in use', async () => {
    expect(llmEndpoint({})).toBeUndefined();
    expect(llmEndpoint({ LLM_BASE_URL: 'http://ollama:11434/v1' })).toBeUndefined();
    expect(embeddingEndpoint({ EMBEDDING_PROVIDER: 'local', EMBEDDING_BASE_URL: 'http://ignored/v1' })).toBeUndefined();
    await expect(Promise.resolve(modelEndpointCheck(undefined)())).resolves.toEqual({ ok: true, detail: NOT_CONFIGURED });
  });

  it('takes the endpoint from the LLM_* and EMBEDDING_* settings', async () => {
    expect(llmEndpoint({ LLM_BASE_URL: ' http://ollama:11434/v1 ', LLM_MODEL: 'llama3', LLM_API_KEY: KEY })).toEqual({ baseUrl: 'http://ollama:11434/v1', model: 'llama3', apiKey: KEY });
    expect(embeddingEndpoint({ EMBEDDING_PROVIDER: 'openai' })).toEqual({ baseUrl: 'https://api.openai.com/v1', model: 'text-embedding-3-small', apiKey: undefined });
    expect(embeddingEndpoint({ EMBEDDING_PROVIDER: 'openai', EMBEDDING_BASE_URL: fake.baseUrl, EMBEDDING_MODEL: 'e5', EMBEDDING_API_KEY: KEY })).toEqual({ baseUrl: fake.baseUrl, model: 'e5', apiKey: KEY });
    await expect(Promise.resolve(modelEndpointCheck(llmEndpoint({ LLM_BASE_URL: fake.baseUrl, LLM_MODEL: 'fake-model' }))())).resolves.toMatchObject({ ok: true });
  });
});
