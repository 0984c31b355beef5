import type { QueueName } from '@quarry/contracts';
import { outsideAnyTrace } from '@quarry/observability';
import { Queue, QueueEvents } from 'bullmq';
import IORedis, { type Redis } from 'ioredis';
import { type RedisTarget, redisOptionsFromUrl } from './redis-connection';

const CLOSE_DEADLINE_MS = 3000;

/**
 * BullMQ Queue and QueueEvents handles, one of each per queue name, shared by everything in the
 * process that produces jobs or waits for their results. All Queue handles share one producer
 * connection, opened when the registry is made: a handle first used while Redis is down then fails
 * at once instead of waiting for a connection that was never established.
 */
export class QueueRegistry {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly events = new Map<QueueName, Promise<QueueEvents>>();
  /** The QueueEvents handles that are connected, for callers that need no await on the hot path. */
  private readonly ready = new Map<QueueName, QueueEvents>();
  private readonly producer: Redis;

  constructor(private readonly target: RedisTarget) {
    this.producer = new IORedis(redisOptionsFromUrl(target.url, 'producer'));
    // A Redis outage is reported by the calls that fail; the connection itself reconnects.
    this.producer.on('error', () => undefined);
  }

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.producer, prefix: this.target.prefix });
      // A Redis outage is reported by the calls that fail; the handle itself reconnects.
      queue.on('error', () => undefined);
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Completion events of a queue; resolved once the stream reader is connected. */
  queueEvents(name: QueueName): Promise<QueueEvents> {
    let events = this.events.get(name);
    if (!events) {
      // The reader lives as long as the process: it belongs to no request's trace.
      const opening = outsideAnyTrace(() => this.openQueueEvents(name));
      events = opening;
      this.events.set(name, opening);
      opening.then(
        (handle) => {
          if (this.events.get(name) === opening) this.ready.set(name, handle);
        },
        () => this.events.delete(name),
      );
    }
    return events;
  }

  /** The queue's QueueEvents handle if it is connected already, else undefined (use queueEvents). */
  readyQueueEvents(name: QueueName): QueueEvents | undefined {
    return this.ready.get(name);
  }

  // QueueEvents starts reading at "$", i.e. whenever its first blocking read happens to run; an
  // event written before that (a reply faster than the reader's start) would be lost and its
  // waiter would hang until timeout. Starting from the stream's current last id closes that gap.
  private async openQueueEvents(name: QueueName): Promise<QueueEvents> {
    const queue = this.queue(name);
    // BullMQ's client type is narrower than the ioredis instance it is.
    const client = (await queue.client) as unknown as Redis;
    const [last] = await client.xrevrange(queue.keys.events, '+', '-', 'COUNT', 1);
    const created = new QueueEvents(name, {
      connection: redisOptionsFromUrl(this.target.url),
      prefix: this.target.prefix,
      lastEventId: last?.[0] ?? '0-0',
    });
    created.on('error', () => undefined);
    // Every waiting request adds a listener for its own job id.
    created.setMaxListeners(10_000);
    await created.waitUntilReady();
    return created;
  }

  /**
   * Closes every handle. Bounded: BullMQ's close waits for a connection that may never come back
   * while Redis is down, so past the deadline the connections are simply dropped.
   */
  async close(): Promise<void> {
    const queues = [...this.queues.values()];
    const events = [...this.events.values()];
    this.queues.clear();
    this.events.clear();
    this.ready.clear();
    const graceful = Promise.allSettled([
      ...queues.map((queue) => queue.close()),
      ...events.map((pending) => pending.then((handle) => handle.close())),
    ]);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
    });
    await Promise.race([graceful, deadline]);
    clearTimeout(timer);
    // BullMQ leaves a shared connection open; QueueEvents that never connected are dropped too.
    this.producer.disconnect();
    for (const pending of events) void pending.then((handle) => handle.disconnect(), () => undefined);
  }
}
