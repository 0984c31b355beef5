import { type Queue, UnrecoverableError, Worker } from 'bullmq';
import { redisOptionsFromUrl } from '@quarry/transport';

/**
 * Takes the queue's next job as a worker would and fails it for good with `reason`: what BullMQ
 * leaves behind after a job's last attempt failed. The queue must hold no other waiting job.
 */
export async function failNextJob(queue: Queue, target: { url: string; prefix: string }, reason: string): Promise<void> {
  const worker = new Worker(queue.name, null, { connection: redisOptionsFromUrl(target.url), prefix: target.prefix, autorun: false });
  try {
    const job = await worker.getNextJob('fixture', { block: false });
    if (!job) throw new Error('no job to fail');
    await job.moveToFailed(new UnrecoverableError(reason), 'fixture', false);
  } finally {
    await worker.close();
  }
}
