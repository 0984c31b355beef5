import { JobName, QueueName, type ReplyOf, SearchChunksRequest } from '@quarry/contracts';
import { Queue, QueueEvents } from 'bullmq';
import type { z } from 'zod';

/**
 * Asks the retrieval service directly over its queue, as any BullMQ producer may, for tests that
 * must know exactly what the index holds (an answer's citations depend on the answer generator).
 * Plain BullMQ on purpose: it exercises the public queue contract, and the testing library must
 * not depend on the transport library (whose own tests use this one).
 */
export class RetrievalProbe {
  private readonly queue: Queue;
  private readonly events: QueueEvents;

  constructor(target: { redisUrl: string; redisPrefix: string }) {
    const { hostname, port } = new URL(target.redisUrl);
    const connection = { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
    this.queue = new Queue(QueueName.Retrieval, { connection, prefix: target.redisPrefix });
    this.events = new QueueEvents(QueueName.Retrieval, { connection, prefix: target.redisPrefix });
  }

  async search(request: z.input<typeof SearchChunksRequest>): Promise<ReplyOf<typeof JobName.SearchChunks>> {
    await this.events.waitUntilReady();
    const job = await this.queue.add(JobName.SearchChunks, SearchChunksRequest.parse(request), { removeOnComplete: { age: 60 }, removeOnFail: { age: 60 } });
    return (await job.waitUntilFinished(this.events, 10_000)) as ReplyOf<typeof JobName.SearchChunks>;
  }

  async close(): Promise<void> {
    await Promise.all([this.queue.close(), this.events.close()]);
  }
}
