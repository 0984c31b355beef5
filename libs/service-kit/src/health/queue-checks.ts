import type { QueueName } from '@quarry/contracts';
import type { BullMqServer, QueueRegistry } from '@quarry/transport';
import type { Worker } from 'bullmq';
import type { DeepCheck } from './deep-health';

/**
 * A queue this service sends jobs to: at least one worker (of whichever service consumes it) is
 * connected to it now. Counted from Redis's client list, where every BullMQ worker connection is
 * registered under its queue, so a stopped or killed consumer disappears at once.
 */
export function queueConsumersCheck(queues: QueueRegistry, queue: QueueName): DeepCheck {
  return async () => {
    const workers = await queues.queue(queue).getWorkersCount();
    if (workers > 0) return { ok: true, detail: { workers } };
    return { ok: false, error: `no worker consumes queue ${queue}: jobs sent there wait until its service runs`, detail: { workers } };
  };
}

/**
 * A queue this service consumes: this process's own worker for it is running (not paused, not
 * closed) and registered in Redis. The detail counts every worker of the queue (all replicas).
 */
export function ownWorkerCheck(server: BullMqServer | null, queues: QueueRegistry, queue: QueueName): DeepCheck {
  return async () => {
    const worker = server?.unwrap<Worker[]>().find((candidate) => candidate.name === queue);
    if (!worker) return { ok: false, error: `this process runs no worker for queue ${queue} (not started, or shutting down)` };
    if (worker.isPaused()) return { ok: false, error: `this process's worker for queue ${queue} is paused` };
    if (!worker.isRunning()) return { ok: false, error: `this process's worker for queue ${queue} is not running` };
    const workers = await queues.queue(queue).getWorkersCount();
    if (workers === 0) return { ok: false, error: `this process's worker for queue ${queue} is not connected to Redis`, detail: { workers } };
    return { ok: true, detail: { workers } };
  };
}
