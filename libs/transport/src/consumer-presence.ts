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

  constructor(
    private readonly queues: QueueRegistry,
    private readonly cacheMs = 1000,
  ) {}

  async hasConsumers(queue: QueueName, options: { fresh?: boolean } = {}): Promise<boolean> {
    const seen = this.seenAt.get(queue);
    if (!options.fresh && seen !== undefined && Date.now() - seen < this.cacheMs) return true;
    const count = await this.queues.queue(queue).getWorkersCount();
    if (count > 0) this.seenAt.set(queue, Date.now());
    else this.seenAt.delete(queue);
    return count > 0;
  }
}
