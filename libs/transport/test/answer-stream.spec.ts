import { randomUUID } from 'node:crypto';
import { type AnswerStreamEvent, answerStreamChannel } from '@quarry/contracts';
import { type TestRedisPrefix, createTestRedisPrefix, waitFor } from '@quarry/testing';
import Redis from 'ioredis';
import { AnswerStreamHub, AnswerStreamPublisher, AnswerStreamUnavailableError, answerStreamPrefix } from '../src/answer-stream';

/** Agent-side publisher and gateway-side hub against the real Redis, each run under a prefix of its own. */
describe('answer streams over Redis pub/sub', () => {
  let redis: TestRedisPrefix;
  let publisher: AnswerStreamPublisher;
  let hub: AnswerStreamHub;
  let raw: Redis;

  beforeAll(async () => {
    redis = createTestRedisPrefix('answerstream');
    publisher = new AnswerStreamPublisher(redis);
    hub = new AnswerStreamHub(redis);
    await Promise.all([publisher.start(), hub.start()]);
    raw = new Redis(redis.url);
  });

  afterAll(async () => {
    raw?.disconnect();
    await hub?.close();
    await publisher?.close();
    await redis?.cleanup();
  });

  it('delivers every event in the order emitted, `end` last, to the subscriber of that stream only', async () => {
    const mine: AnswerStreamEvent[] = [];
    const other: AnswerStreamEvent[] = [];
    const id = randomUUID();
    const stop = await hub.subscribe(id, (event) => mine.push(event));
    const stopOther = await hub.subscribe(randomUUID(), (event) => other.push(event));
    const stream = publisher.open(id);
    stream.emit({ type: 'step', node: 'retrieve', phase: 'start' });
    const words = Array.from({ length: 200 }, (_, index) => `w${index} `);
    for (const delta of words) stream.emit({ type: 'token', delta });
    stream.close();
    stream.emit({ type: 'token', delta: 'after close' });
    await waitFor(() => Promise.resolve(mine.at(-1)?.type === 'end' || undefined), { timeoutMs: 3000, description: 'the end event' });
    expect(mine[0]).toEqual({ type: 'step', node: 'retrieve', phase: 'start' });
    expect(mine.filter((event) => event.type === 'token').map((event) => (event as { delta: string }).delta)).toEqual(words);
    expect(mine).toHaveLength(words.length + 2);
    expect(other).toEqual([]);
    stop();
    stopOther();
  });

  it('drops messages that are not answer stream events', async () => {
    const seen: AnswerStreamEvent[] = [];
    const id = randomUUID();
    const stop = await hub.subscribe(id, (event) => seen.push(event));
    const channel = answerStreamChannel(answerStreamPrefix(redis.prefix), id);
    const before = hub.invalidEvents;
    await raw.publish(channel, 'not json');
    await raw.publish(channel, JSON.stringify({ type: 'token', delta: 42 }));
    await raw.publish(channel, JSON.stringify({ type: 'end' }));
    await waitFor(() => Promise.resolve(seen.length > 0 || undefined), { timeoutMs: 3000, description: 'the valid event' });
    expect(seen).toEqual([{ type: 'end' }]);
    expect(hub.invalidEvents - before).toBe(2);
    stop();
  });

  it('aborts the answer whose stream a gateway cancels, and no other', async () => {
    const cancelled = publisher.open(randomUUID());
    const id = randomUUID();
    const target = publisher.open(id);
    const before = publisher.openStreams;
    await expect(hub.cancel(id)).resolves.toBe(true);
    await waitFor(() => Promise.resolve(target.signal.aborted || undefined), { timeoutMs: 3000, description: 'the abort' });
    expect(cancelled.signal.aborted).toBe(false);
    expect(publisher.openStreams).toBe(before - 1);
    cancelled.close();
    target.close();
  });

  it('aborts an answer at once when its cancel came before the answer started', async () => {
    const early = randomUUID();
    const markerId = randomUUID();
    const marker = publisher.open(markerId);
    await hub.cancel(early);
    // Cancels are heard in the order sent: once the marker's has aborted it, the early one is known.
    await hub.cancel(markerId);
    await waitFor(() => Promise.resolve(marker.signal.aborted || undefined), { timeoutMs: 3000, description: 'the marker cancel' });
    const late = publisher.open(early);
    expect(late.signal.aborted).toBe(true);
    late.close();
    marker.close();
  });

  it('stops delivering once unsubscribed', async () => {
    const seen: AnswerStreamEvent[] = [];
    const id = randomUUID();
    const stop = await hub.subscribe(id, (event) => seen.push(event));
    stop();
    const stream = publisher.open(id);
    stream.emit({ type: 'token', delta: 'x' });
    stream.close();
    // A second subscriber that joins after shows the messages were published and have arrived.
    const probe: AnswerStreamEvent[] = [];
    const probeId = randomUUID();
    const stopProbe = await hub.subscribe(probeId, (event) => probe.push(event));
    const marker = publisher.open(probeId);
    marker.close();
    await waitFor(() => Promise.resolve(probe.length > 0 || undefined), { timeoutMs: 3000, description: 'the marker' });
    expect(seen).toEqual([]);
    expect(hub.openStreams).toBe(1);
    stopProbe();
  });

  it('refuses to subscribe at once while Redis is unreachable, and closes without waiting for it', async () => {
    const away = new AnswerStreamHub({ url: 'redis://127.0.0.1:1', prefix: redis.prefix });
    await expect(away.start()).rejects.toThrow();
    await expect(away.subscribe(randomUUID(), () => undefined)).rejects.toBeInstanceOf(AnswerStreamUnavailableError);
    expect(away.openStreams).toBe(0);
    const started = performance.now();
    await away.close();
    expect(performance.now() - started).toBeLessThan(500);
  });
});
