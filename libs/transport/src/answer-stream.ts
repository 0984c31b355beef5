import { AnswerStreamEvent, answerCancelChannel, answerStreamChannel } from '@quarry/contracts';
import IORedis, { type Redis } from 'ioredis';
import { type RedisTarget, redisOptionsFromUrl } from './redis-connection';

// Answer streams travel over Redis pub/sub rather than BullMQ job progress or a Redis stream: one
// PUBLISH per event and one hop, nothing stored or trimmed afterwards, and only the gateway that
// asked hears a stream (it subscribes to that stream's channel). Pub/sub keeps nothing for a
// subscriber that is away, which is acceptable here: the reply still comes back on the queue, so
// a lost event costs a token of the live view, never the answer (the gateway sends `done` from
// the reply). bench:stream measures the hop (publish → client).
// Channel names: `<REDIS_PREFIX>:answer-stream:<id>` / `<REDIS_PREFIX>:answer-cancel:<id>`, beside
// the BullMQ keys of the same deployment.

const QUIT_DEADLINE_MS = 1000;
/** Like a producer's command timeout (redis-connection.ts): a hanging Redis fails the question within seconds. */
const SUBSCRIBE_DEADLINE_MS = 5000;

/** The stream cannot be listened to (Redis is away): the caller answers as for any Redis outage. */
export class AnswerStreamUnavailableError extends Error {
  override readonly name = 'AnswerStreamUnavailableError';
}

/**
 * QUIT lets Redis close the connection cleanly; a connection that is not up (Redis away: QUIT
 * would wait in the offline queue for a reconnect) or does not answer in time is dropped.
 */
async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status !== 'ready') {
    connection.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_DEADLINE_MS)));
  await Promise.race([connection.quit().then(() => undefined, () => undefined), deadline]);
  clearTimeout(timer);
  connection.disconnect();
}

/** The channel prefix of a deployment: BullMQ's key prefix and a colon, as every other Quarry key. */
export const answerStreamPrefix = (redisPrefix: string) => `${redisPrefix}:`;

/** How long a cancel that came before its answer started is remembered (the job may still be queued). */
const EARLY_CANCEL_TTL_MS = 5 * 60_000;
const EARLY_CANCEL_MAX = 10_000;

export interface AnswerStreamHandle {
  /** Publishes the event; never waits, never throws (a lost event costs the live view, not the answer). Events leave in call order. */
  emit(event: AnswerStreamEvent): void;
  /** Aborted once a cancel for this stream arrives (the client went away). */
  readonly signal: AbortSignal;
  /** Publishes `end` (once) and stops listening for this stream's cancel. */
  close(): void;
}

export interface AnswerStreamOptions {
  /** A failed publish or subscription, for the log. */
  onError?: (what: string, error: unknown) => void;
}

/**
 * The agent side: publishes an answer's events on its stream channel and aborts the answer when a
 * gateway cancels it. One publishing connection (a connection's commands are sent in order, so
 * events arrive in the order emitted) and ONE pattern subscription for every cancel of the
 * deployment, however many answers run.
 */
export class AnswerStreamPublisher {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly running = new Map<string, AbortController>();
  /** Cancels for streams this process had not opened (yet): the job may be picked up after its client left. */
  private readonly cancelledEarly = new Map<string, number>();
  private closed = false;

  constructor(
    target: RedisTarget,
    private readonly options: AnswerStreamOptions = {},
  ) {
    this.prefix = answerStreamPrefix(target.prefix);
    this.publisher = new IORedis({ ...redisOptionsFromUrl(target.url, 'producer'), lazyConnect: true, connectionName: 'quarry-answer-stream-publisher' });
    this.subscriber = new IORedis({ ...redisOptionsFromUrl(target.url), lazyConnect: true, connectionName: 'quarry-answer-stream-cancels' });
    for (const connection of [this.publisher, this.subscriber]) connection.on('error', () => undefined);
    this.subscriber.on('pmessage', (_pattern: string, channel: string) => this.cancelled(channel));
  }

  /** Connects and subscribes to cancels; resolves once Redis confirmed the subscription. */
  async start(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.subscriber.psubscribe(answerCancelChannel(this.prefix, '*'));
  }

  open(streamId: string): AnswerStreamHandle {
    const channel = answerStreamChannel(this.prefix, streamId);
    const controller = new AbortController();
    if (this.cancelledEarly.delete(streamId)) controller.abort(new Error('the client cancelled the answer'));
    else this.running.set(streamId, controller);
    let ended = false;
    const publish = (event: AnswerStreamEvent) => {
      if (this.closed) return;
      this.publisher.publish(channel, JSON.stringify(event)).catch((error: unknown) => this.options.onError?.('could not publish an answer stream event', error));
    };
    return {
      emit: (event) => {
        if (!ended) publish(event);
      },
      signal: controller.signal,
      close: () => {
        if (ended) return;
        ended = true;
        if (this.running.get(streamId) === controller) this.running.delete(streamId);
        publish({ type: 'end' });
      },
    };
  }

  /** Answers being streamed by this process. */
  get openStreams(): number {
    return this.running.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([closeConnection(this.publisher), closeConnection(this.subscriber)]);
  }

  private cancelled(channel: string): void {
    const base = answerCancelChannel(this.prefix, '');
    if (!channel.startsWith(base)) return;
    const streamId = channel.slice(base.length);
    const controller = this.running.get(streamId);
    if (controller) {
      this.running.delete(streamId);
      controller.abort(new Error('the client cancelled the answer'));
      return;
    }
    // Every agent process hears every cancel; only the one that picks the job up will ask.
    const now = Date.now();
    this.cancelledEarly.set(streamId, now);
    for (const [id, at] of this.cancelledEarly) {
      if (this.cancelledEarly.size <= EARLY_CANCEL_MAX && now - at < EARLY_CANCEL_TTL_MS) break;
      this.cancelledEarly.delete(id);
    }
  }
}

/**
 * The gateway side: ONE subscriber connection per process for every answer stream it relays (a
 * SUBSCRIBE per stream on it, confirmed before the question is sent, so no event is missed), and
 * a publishing connection for cancels. Received events are validated; invalid ones are dropped.
 */
export class AnswerStreamHub {
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private readonly prefix: string;
  private readonly listeners = new Map<string, (event: AnswerStreamEvent) => void>();
  private invalid = 0;

  constructor(
    target: RedisTarget,
    private readonly options: AnswerStreamOptions = {},
  ) {
    this.prefix = answerStreamPrefix(target.prefix);
    // The subscriber waits for a reconnect (ioredis subscribes again by itself); cancels fail fast.
    this.subscriber = new IORedis({ ...redisOptionsFromUrl(target.url), lazyConnect: true, connectionName: 'quarry-answer-stream-hub' });
    this.publisher = new IORedis({ ...redisOptionsFromUrl(target.url, 'producer'), lazyConnect: true, connectionName: 'quarry-answer-stream-cancel' });
    for (const connection of [this.publisher, this.subscriber]) connection.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
  }

  async start(): Promise<void> {
    await Promise.all([this.subscriber.connect(), this.publisher.connect()]);
  }

  /** Listens to the stream; resolves once Redis confirmed the subscription. The returned function stops listening. */
  async subscribe(streamId: string, onEvent: (event: AnswerStreamEvent) => void): Promise<() => void> {
    const channel = answerStreamChannel(this.prefix, streamId);
    if (this.listeners.has(channel)) throw new Error(`answer stream ${streamId} is already subscribed`);
    // While Redis is away SUBSCRIBE would wait in the offline queue: the question fails at once instead.
    if (this.subscriber.status !== 'ready') throw new AnswerStreamUnavailableError(`the answer stream subscriber is not connected to Redis (${this.subscriber.status})`);
    this.listeners.set(channel, onEvent);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.subscriber.subscribe(channel),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new AnswerStreamUnavailableError(`Redis did not confirm the subscription within ${SUBSCRIBE_DEADLINE_MS} ms`)), SUBSCRIBE_DEADLINE_MS);
        }),
      ]);
    } catch (error) {
      this.listeners.delete(channel);
      throw error;
    } finally {
      clearTimeout(timer);
    }
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      if (this.listeners.get(channel) === onEvent) this.listeners.delete(channel);
      this.subscriber.unsubscribe(channel).catch((error: unknown) => this.options.onError?.('could not unsubscribe from an answer stream', error));
    };
  }

  /** Asks the agent to stop the stream's answer; resolves false when Redis could not be told. */
  async cancel(streamId: string): Promise<boolean> {
    try {
      await this.publisher.publish(answerCancelChannel(this.prefix, streamId), '1');
      return true;
    } catch (error) {
      this.options.onError?.('could not publish an answer cancel', error);
      return false;
    }
  }

  /** Streams being listened to. */
  get openStreams(): number {
    return this.listeners.size;
  }

  /** Messages dropped because they were not answer stream events. */
  get invalidEvents(): number {
    return this.invalid;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await Promise.all([closeConnection(this.publisher), closeConnection(this.subscriber)]);
  }

  private deliver(channel: string, message: string): void {
    const listener = this.listeners.get(channel);
    if (!listener) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      parsed = undefined;
    }
    const event = AnswerStreamEvent.safeParse(parsed);
    if (!event.success) {
      this.invalid++;
      return;
    }
    listener(event.data);
  }
}
