import { type QueueName, parseFailureReason } from '@quarry/contracts';
import { abortableDelay } from '@quarry/domain';
import type { QueueRegistry } from '@quarry/transport';

const POLL_MS = 250;

/** How a job a task put on another service's queue ended. */
export type JobEnd = { state: 'completed'; value: unknown } | { state: 'failed'; reason: string };

/**
 * Follows a job a task put on another service's queue (under an id of its own) until it ends, by
 * its state in BullMQ. When the task is stopped (cancel, timeout, shutdown) a job that has not
 * started is taken back, and the stop is thrown; a job already running is left to finish, since
 * the services' jobs are safe to end that way. A failure's reason comes without its error code.
 */
export async function followJob(queues: QueueRegistry, queueName: QueueName, jobId: string, signal: AbortSignal): Promise<JobEnd> {
  const queue = queues.queue(queueName);
  for (;;) {
    const job = await queue.getJob(jobId);
    if (!job) throw new Error(`the job ${jobId} vanished from the ${queueName} queue`);
    const state = await job.getState();
    if (state === 'completed') return { state: 'completed', value: job.returnvalue };
    if (state === 'failed') return { state: 'failed', reason: parseFailureReason(job.failedReason ?? 'no reason given').message };
    await abortableDelay(POLL_MS, signal).catch(async (error: unknown) => {
      // An active job is locked by its worker: remove() refuses it, which is what is wanted here.
      await job.remove().catch(() => undefined);
      throw error;
    });
  }
}
