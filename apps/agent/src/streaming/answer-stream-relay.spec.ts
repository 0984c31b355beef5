import { randomUUID } from 'node:crypto';
import type { AnswerStreamEvent } from '@quarry/contracts';
import { createLogger } from '@quarry/observability';
import { type TestRedisPrefix, createTestRedisPrefix, waitFor } from '@quarry/testing';
import { AnswerStreamHub } from '@quarry/transport';
import { AnswerStreamRelay } from './answer-stream-relay';

/** The agent's relay on the real Redis, heard by the gateway's hub under the same REDIS_PREFIX. */
describe('AnswerStreamRelay', () => {
  let redis: TestRedisPrefix;
  let relay: AnswerStreamRelay;
  let hub: AnswerStreamHub;

  beforeAll(async () => {
    redis = createTestRedisPrefix('agentrelay');
    relay = new AnswerStreamRelay({ REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix }, createLogger({ service: 'agent', level: 'error', silent: true }));
    hub = new AnswerStreamHub(redis);
    await Promise.all([relay.onApplicationBootstrap(), hub.start()]);
  });

  afterAll(async () => {
    await hub?.close();
    await relay?.onApplicationShutdown();
    await redis?.cleanup();
  });

  it('streams an answer asked with a stream id, and is aborted when the gateway cancels it', async () => {
    const id = randomUUID();
    const seen: AnswerStreamEvent[] = [];
    const stop = await hub.subscribe(id, (event) => seen.push(event));
    const stream = relay.open(id);
    stream.emit({ type: 'token', delta: 'hello' });
    await hub.cancel(id);
    await waitFor(() => stream.signal.aborted, { timeoutMs: 3000, description: 'the cancel' });
    stream.close();
    await waitFor(() => seen.length === 2, { timeoutMs: 3000, description: 'the events' });
    expect(seen).toEqual([{ type: 'token', delta: 'hello' }, { type: 'end' }]);
    stop();
  });

  it('gives an answer not asked to stream a handle that publishes nothing and never aborts', () => {
    const silent = relay.open(undefined);
    const before = relay.openStreams;
    silent.emit({ type: 'token', delta: 'x' });
    silent.close();
    expect(silent.signal.aborted).toBe(false);
    expect(relay.openStreams).toBe(before);
  });
});
