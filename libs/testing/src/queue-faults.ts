/*
 * What BullMQ leaves behind when jobs fail or their workers die, made on purpose: for tests of the
 * code that must recover from it (chains, the reconciler).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Queue, UnrecoverableError, Worker } from 'bullmq';

/** The Redis and key prefix a test's queues live under. */
export interface QueueTarget {
  url: string;
  prefix: string;
}

function connectionOf(target: QueueTarget): { host: string; port: number; maxRetriesPerRequest: null } {
  const { hostname, port } = new URL(target.url);
  return { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
}

/**
 * Takes the queue's next job as a worker would and fails it for good with `reason`: what BullMQ
 * leaves behind after a job's last attempt failed (however many attempts it had left, so the test
 * need not wait out the backoff). The queue must hold no other waiting job.
 */
export async function failNextJob(queue: Queue, target: QueueTarget, reason: string): Promise<void> {
  const worker = new Worker(queue.name, null, { connection: connectionOf(target), prefix: target.prefix, autorun: false });
  try {
    const job = await worker.getNextJob('fixture', { block: false });
    if (!job) throw new Error('no job to fail');
    await job.moveToFailed(new UnrecoverableError(reason), 'fixture', false);
  } finally {
    await worker.close();
  }
}

/**
 * Makes the queue's next job stall twice, as when the workers running it die: a worker takes it and
 * never renews its lock, BullMQ's stalled-job check puts it back, twice; the next worker to take it
 * then fails it with "job stalled more than allowable limit". The queue must hold no other waiting job.
 */
export async function stallNextJobTwice(queue: Queue, target: QueueTarget): Promise<string> {
  const options = { connection: connectionOf(target), prefix: target.prefix, autorun: false, lockDuration: 300, stalledInterval: 150, maxStalledCount: 1 };
  const dying = new Worker(queue.name, null, options);
  try {
    let jobId: string | undefined;
    for (let death = 0; death < 2; death++) {
      const job = await dying.getNextJob(`dies-${death}`, { block: false });
      if (!job?.id) throw new Error('no job to stall');
      jobId = job.id;
      // Its worker is gone: nobody renews the lock; the stalled-job check returns the job to the queue.
      await dying.startStalledCheckTimer();
      const deadline = Date.now() + 10_000;
      while ((await queue.getJobState(job.id)) === 'active') {
        if (Date.now() > deadline) throw new Error('the job never stalled');
        await sleep(50);
      }
    }
    // The next worker to take it finds it stalled too often and fails it without running it.
    expectNothing(await dying.getNextJob('survivor', { block: false }));
    return jobId as string;
  } finally {
    await dying.close();
  }
}

function expectNothing(job: unknown): void {
  if (job) throw new Error('a stalled-too-often job was handed out to run');
}
