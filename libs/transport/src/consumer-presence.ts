import type { QueueName } from '@quarry/contracts';
import type { QueueRegistry } from './queue-registry';

/**
 * Answers "is any worker consuming this queue right now?" from Redis's client list, where every
 * BullMQ worker connection is registered under the queue's name. A process that dies drops its
 * connections, so a killed service disappears from the answer at once. Positive answers are
 * cached briefly because the question is asked on every request.
 */
export class ConsumerPresence {
  private readonly seenAt = new Map<QueueName, number>();
  /** A look under way, shared by everyone who asks meanwhile (one CLIENT LIST, not one per request). */
  private readonly looking = new Map<QueueName, Promise<boolean>>();

  constructor(
    private readonly queues: QueueRegistry,
    private readonly cacheMs = 1000,
  ) {}

  /** True when a consumer was seen within the cache time: answered without Redis. */
  seenRecently(queue: QueueName): boolean {
    const seen = this.seenAt.get(queue);
    return seen !== undefined && Date.now() - seen < this.cacheMs;
  }

  hasConsumers(queue: QueueName, options: { fresh?: boolean } = {}): Promise<boolean> {
    if (!options.fresh && this.seenRecently(queue)) return Promise.resolve(true);
    const under = this.looking.get(queue);
    // A look that started before a fresh question may predate what it must see.
    if (under && !options.fresh) return under;
    const look = this.look(queue).finally(() => {
      if (this.looking.get(queue) === look) this.looking.delete(queue);
    });
    this.looking.set(queue, look);
    return look;
  }

  private async look(queue: QueueName): Promise<boolean> {
    const count = await this.queues.queue(queue).getWorkersCount();
    if (count > 0) this.seenAt.set(queue, Date.now());
    else this.seenAt.delete(queue);
    return count > 0;
  }
}
