import { QueueName } from '@quarry/contracts';
import { withinDeadline } from '@quarry/domain';
import type { ServiceMetrics } from '@quarry/observability';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QueueRegistry } from './queue-registry';

/** The states an operator watches; `prioritized` is where BullMQ keeps every job added with a priority (all ingestion jobs). */
export const SAMPLED_QUEUE_STATES = ['waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed'] as const;

/**
 * How many jobs of the prioritized set are looked at for the oldest one, from each end. The set is
 * ordered by priority, then by insertion: the head holds what runs next, the tail the lowest
 * priority that waited longest behind it. Reading the whole set would cost O(n) per scrape.
 */
const PRIORITIZED_PROBE = 100;

/**
 * Samples every queue's depth per state and the age of its oldest waiting job into the service's
 * gauges, at scrape time. Every service runs one for every queue, so a queue whose consumers are all
 * down is still reported by the processes that feed it. A sample is reused for `reuseMs`, so
 * several scrapers cost one round of Redis calls; when Redis does not answer, the gauges are
 * cleared rather than left showing numbers from before the outage.
 */
export class QueueDepthSampler {
  private last: { at: number; sampling: Promise<void> } | undefined;

  constructor(
    private readonly queues: QueueRegistry,
    private readonly metrics: ServiceMetrics,
    private readonly reuseMs = 1000,
    private readonly now: () => number = Date.now,
    /** While Redis is unreachable BullMQ's calls wait for the connection: past this, the sample counts as failed. */
    private readonly deadlineMs = 1500,
  ) {}

  sample(): Promise<void> {
    const now = this.now();
    if (this.last && now - this.last.at < this.reuseMs) return this.last.sampling;
    const sampling = withinDeadline(this.sampleAll(), this.deadlineMs).catch(() => {
      this.metrics.queueJobs.reset();
      this.metrics.queueOldestWaitingAge.reset();
    });
    this.last = { at: now, sampling };
    return sampling;
  }

  private async sampleAll(): Promise<void> {
    const samples = await Promise.all(Object.values(QueueName).map(async (name) => ({ name, ...(await this.sampleQueue(this.queues.queue(name))) })));
    for (const { name, counts, oldestAgeSeconds } of samples) {
      for (const state of SAMPLED_QUEUE_STATES) this.metrics.queueJobs.set({ queue: name, state }, counts[state] ?? 0);
      this.metrics.queueOldestWaitingAge.set({ queue: name }, oldestAgeSeconds);
    }
  }

  private async sampleQueue(queue: Queue): Promise<{ counts: Record<string, number>; oldestAgeSeconds: number }> {
    const [counts, oldest] = await Promise.all([queue.getJobCounts(...SAMPLED_QUEUE_STATES), this.oldestWaitingTimestamp(queue)]);
    return { counts, oldestAgeSeconds: oldest === undefined ? 0 : Math.max(0, (this.now() - oldest) / 1000) };
  }

  /** The creation time of the oldest job among the next to run: the wait list's tail and both ends of the prioritized set. */
  private async oldestWaitingTimestamp(queue: Queue): Promise<number | undefined> {
    // BullMQ's client type is narrower than the ioredis instance it is.
    const client = (await queue.client) as unknown as Redis;
    const [tail, head, lowest] = await Promise.all([
      // Jobs are pushed on the left and taken from the right: the last element waited longest.
      client.lrange(queue.keys.wait, -1, -1),
      client.zrange(queue.keys.prioritized, 0, PRIORITIZED_PROBE - 1),
      client.zrange(queue.keys.prioritized, -PRIORITIZED_PROBE, -1),
    ]);
    const ids = [...new Set([...tail, ...head, ...lowest])];
    if (ids.length === 0) return undefined;
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.hget(queue.toKey(id), 'timestamp');
    const results = (await pipeline.exec()) ?? [];
    const timestamps = results.map(([, value]) => Number(value)).filter((value) => Number.isFinite(value) && value > 0);
    return timestamps.length > 0 ? Math.min(...timestamps) : undefined;
  }
}
