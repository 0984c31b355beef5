import type { QueueName } from '@quarry/contracts';
import { Queue, QueueEvents } from 'bullmq';
import type Redis from 'ioredis';
import { type RedisTarget, redisOptionsFromUrl } from './redis-connection';

/**
 * Lazily opened BullMQ Queue and QueueEvents handles, one of each per queue name, shared by
 * everything in the process that produces jobs or waits for their results.
 */
export class QueueRegistry {
  private readonly queues = new Map<QueueName, Queue>();
  private readonly events = new Map<QueueName, Promise<QueueEvents>>();

  constructor(private readonly target: RedisTarget) {}

  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: redisOptionsFromUrl(this.target.url, 'producer'), prefix: this.target.prefix });
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
      events = this.openQueueEvents(name);
      this.events.set(name, events);
      events.catch(() => this.events.delete(name));
    }
    return events;
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

  async close(): Promise<void> {
    const events = await Promise.allSettled([...this.events.values()]);
    await Promise.allSettled([
      ...[...this.queues.values()].map((queue) => queue.close()),
      ...events.map((result) => (result.status === 'fulfilled' ? result.value.close() : undefined)),
    ]);
    this.queues.clear();
    this.events.clear();
  }
}
