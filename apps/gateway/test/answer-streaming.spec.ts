import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { INTERNAL_MESSAGE } from '../src/http/public-error';
import { CACHE_HEADER } from '../src/query/query.controller';
import { PostEventStream } from './post-event-stream';
import { issueTestKey, startGateway } from './start-gateway';
import { AGENT_SECRET, type StreamingAgent, startStreamingAgent } from './streaming-agent';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Done {
  answer: string;
  citations: Array<{ index: number; filename: string }>;
  conversationId: string;
  queryId?: string;
  usage?: unknown;
  timings: unknown;
}

/**
 * `POST /api/query` as server-sent events, in-process on real Postgres and Redis, with a stand-in
 * agent that publishes its events through the real AnswerStreamPublisher.
 */
describe('streamed answers (POST /api/query with "stream": true)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let gateway: RunningService<GatewayConfig>;
  let agent: StreamingAgent;
  let headers: Record<string, string>;
  let env: Record<string, string>;

  beforeAll(async () => {
    schema = await createTestSchema('answerstreams');
    redis = createTestRedisPrefix('answerstreams');
    env = { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, RATE_LIMIT_PER_MINUTE: '0' };
    gateway = await startGateway(env);
    agent = await startStreamingAgent(redis);
    ({ headers } = await issueTestKey(gateway, 'streams-acme', 'read'));
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await gateway?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const open = (body: Record<string, unknown>, extra: Record<string, string> = {}) => PostEventStream.open(`${gateway.url}/api/query`, body, { ...headers, ...extra });
  const tokens = (stream: PostEventStream) => stream.data<{ delta: string }>('token').map((token) => token.delta).join('');

  it('relays steps, sources, tokens and citations in order, then `done` with the whole reply; the agent gets a stream id, not the flag', async () => {
    const stream = await open({ question: 'How many vacation days do we get?', stream: true });
    expect(stream.status).toBe(200);
    expect(stream.header('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.header(CACHE_HEADER)).toBe('miss');
    expect(stream.header('x-correlation-id')).toBeTruthy();
    await stream.closedByServer();
    const names = stream.events.map((event) => event.event);
    expect(names.slice(0, 3)).toEqual(['step', 'sources', 'step']);
    expect(names.at(-1)).toBe('done');
    expect(names.indexOf('citation')).toBeGreaterThan(names.lastIndexOf('token'));
    expect(names.filter((name) => name === 'citation')).toHaveLength(2);
    const [done] = stream.data<Done>('done');
    expect(tokens(stream)).toBe(done.answer);
    expect(done.answer).toContain('[1]');
    expect(done.citations.map((citation) => citation.filename)).toEqual(['handbook.md', 'policies/leave.md']);
    expect(done).toMatchObject({ conversationId: expect.stringMatching(UUID) as unknown, queryId: expect.stringMatching(UUID) as unknown, usage: { totalTokens: 18 } });
    const payload = agent.asked.find((asked) => asked.question === 'How many vacation days do we get?');
    expect(payload?.stream).toEqual({ id: expect.stringMatching(UUID) as unknown });
  });

  it('streams when the client asks with Accept: text/event-stream; a plain request still gets JSON', async () => {
    const stream = await open({ question: 'Accept header question?' }, { accept: 'text/event-stream' });
    await stream.closedByServer();
    expect(stream.events.at(-1)?.event).toBe('done');
    const plain = await fetch(`${gateway.url}/api/query`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ question: 'Plain question?' }) });
    expect(plain.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await plain.json()) as Done).answer).toContain('Plain question?');
  });

  it('streams a cached answer too (sources, tokens, citations, done), with a fresh query id recorded with the exchange', async () => {
    const first = await open({ question: 'Who approves leave?', stream: true });
    await first.closedByServer();
    const again = await open({ question: 'Who approves leave?', stream: true });
    await again.closedByServer();
    expect(again.header(CACHE_HEADER)).toBe('hit');
    const names = again.events.map((event) => event.event);
    expect(names[0]).toBe('sources');
    expect(names.at(-1)).toBe('done');
    const [done] = again.data<Done>('done');
    const [firstDone] = first.data<Done>('done');
    expect(tokens(again)).toBe(done.answer);
    expect(done.answer).toBe(firstDone.answer);
    expect(done.queryId).toMatch(UUID);
    expect(done.queryId).not.toBe(firstDone.queryId);
    expect(names.filter((name) => name === 'citation')).toHaveLength(done.citations.length);
    await waitFor(() => agent.recorded.find((record) => record.queryId === done.queryId), { timeoutMs: 3000, description: 'the cached exchange to be recorded with its query id' });
  });

  it('cancels the answer at the agent when the client disconnects', async () => {
    const stream = await open({ question: 'slow question about the budget', stream: true });
    await stream.next((event) => event.event === 'token');
    const asked = agent.asked.find((payload) => payload.question === 'slow question about the budget');
    stream.close();
    await waitFor(() => agent.aborted.includes(asked?.stream?.id ?? 'none'), { timeoutMs: 3000, description: 'the agent to see the cancel' });
  });

  it('sends the answer as tokens when the agent streamed nothing, and waits for events that come after the reply', async () => {
    const quiet = await open({ question: 'quiet question?', stream: true });
    await quiet.closedByServer();
    const [quietDone] = quiet.data<Done>('done');
    expect(tokens(quiet)).toBe(quietDone.answer);
    expect(quiet.events.map((event) => event.event)[0]).toBe('sources');

    const late = await open({ question: 'late question?', stream: true });
    await late.closedByServer();
    const names = late.events.map((event) => event.event);
    // The agent's own events (a step first), not the reply replayed.
    expect(names[0]).toBe('step');
    expect(tokens(late)).toBe(late.data<Done>('done')[0].answer);
  });

  it('ends with an `error` event in the public error shape, never the internal message', async () => {
    const stream = await open({ question: 'fail at once', stream: true });
    await stream.closedByServer();
    expect(stream.events.map((event) => event.event)).toEqual(['error']);
    const [error] = stream.data<{ code: string; message: string; correlationId: string }>('error');
    expect(error).toEqual({ code: 'INTERNAL', message: INTERNAL_MESSAGE, correlationId: stream.header('x-correlation-id') });
    expect(stream.body).not.toContain('hunter2');
    expect(stream.body).not.toContain(AGENT_SECRET);
  });

  it('caps open streamed answers per key (429 before streaming); at shutdown ends open streams with an error and cancels their answers', async () => {
    const small = await startGateway({ ...env, SSE_MAX_STREAMS_PER_KEY: '1' });
    let closed = false;
    try {
      const { headers: capped } = await issueTestKey(small, 'streams-cap', 'read');
      const first = await PostEventStream.open(`${small.url}/api/query`, { question: 'slow question for the cap', stream: true }, capped);
      await first.next((event) => event.event === 'token');
      const second = await PostEventStream.open(`${small.url}/api/query`, { question: 'one more?', stream: true }, capped);
      await second.closedByServer();
      expect(second.status).toBe(429);
      expect(JSON.parse(second.body)).toMatchObject({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/at most 1 streamed answers per API key/) as unknown } });
      const asked = agent.asked.find((payload) => payload.question === 'slow question for the cap');
      await small.close();
      closed = true;
      await first.closedByServer();
      expect(first.events.at(-1)?.event).toBe('error');
      expect(JSON.parse(first.events.at(-1)?.data ?? '{}')).toMatchObject({ code: 'SERVICE_UNAVAILABLE', message: 'the gateway is shutting down; ask again' });
      await waitFor(() => agent.aborted.includes(asked?.stream?.id ?? 'none'), { timeoutMs: 3000, description: 'the agent to see the cancel' });
    } finally {
      if (!closed) await small.close();
    }
  });

  it('refuses a bad body before streaming (400 JSON), and `stream` must be a boolean', async () => {
    const bad = await open({ question: '', stream: true });
    await bad.closedByServer();
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    const notBoolean = await open({ question: 'x', stream: 'yes' });
    await notBoolean.closedByServer();
    expect(notBoolean.status).toBe(400);
  });
});
