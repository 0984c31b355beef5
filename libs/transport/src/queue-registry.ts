import type { QueueName } from '@quarry/contracts';
import { Queue, QueueEvents } from 'bullmq';
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
      const created = new QueueEvents(name, { connection: redisOptionsFromUrl(this.target.url), prefix: this.target.prefix });
      created.on('error', () => undefined);
      // Every waiting request adds a listener for its own job id.
      created.setMaxListeners(10_000);
      events = created.waitUntilReady().then(() => created);
      this.events.set(name, events);
    }
    return events;
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
