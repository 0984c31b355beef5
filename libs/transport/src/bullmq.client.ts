import type { ReadPacket, WritePacket } from '@nestjs/microservices';
import { ClientProxy } from '@nestjs/microservices';
import { type AnyJobContract, type BatchReplyItem, ErrorCode, QueueName, type RequestContract, batchJobFor, contractFor } from '@quarry/contracts';
import { DomainError, isDomainError, outageError, outageOf } from '@quarry/domain';
import { type ServiceMetrics, currentCorrelationId, sendTraced } from '@quarry/observability';
import type { Job } from 'bullmq';
import type { z } from 'zod';
import { BullMqRecord } from './bullmq.record';
import { ConsumerPresence } from './consumer-presence';
import { validateAgainst, validatePayload } from './payload-validation';
import { PendingReplies } from './pending-replies';
import { QueueRegistry } from './queue-registry';
import { RequestBatcher } from './request-batcher';
import type { RedisTarget } from './redis-connection';

export interface BullMqClientOptions extends RedisTarget {
  /** Upper bound for any request, on top of each contract's own timeout. */
  requestTimeoutMs: number;
  /** How often a waiting request re-checks that its responder is still alive. */
  livenessPollMs?: number;
  metrics?: ServiceMetrics;
  /** Most requests per batch job (capped by the batch contract); smaller batches come back sooner. */
  maxBatchSize?: number;
}

/** The states a BullMQ job can be in; `prioritized` holds waiting jobs that carry a priority (BullMQ 5 counts them apart from `waiting`). */
export const QUEUE_JOB_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'waiting-children', 'paused', 'failed', 'completed'] as const;
export type QueueJobState = (typeof QUEUE_JOB_STATES)[number];

const SERVICE_OF_QUEUE: Record<QueueName, string> = {
  ingestion: 'ingestion',
  retrieval: 'retrieval',
  agent: 'agent',
  'task-scheduler': 'task-scheduler',
  tasks: 'task-scheduler',
};

/**
 * The producer side of the BullMQ transport for @nestjs/microservices. `send` adds a request job
 * and resolves with its validated reply; `emit` adds a fire-and-forget job. Payloads are validated
 * before they leave the process, and a request to a service with no live worker fails at once with
 * SERVICE_UNAVAILABLE instead of waiting for a timeout.
 */
export class BullMqClient extends ClientProxy {
  private readonly queues: QueueRegistry;
  private readonly presence: ConsumerPresence;
  private readonly batchers = new Map<string, RequestBatcher | undefined>();
  private readonly replies: PendingReplies;

  constructor(private readonly options: BullMqClientOptions) {
    super();
    this.queues = new QueueRegistry(options);
    this.presence = new ConsumerPresence(this.queues);
    this.replies = new PendingReplies({
      queues: this.queues,
      presence: this.presence,
      pollMs: options.livenessPollMs ?? 1000,
      brokerCall,
      failures: {
        timedOut: (queue, timeoutMs) =>
          new DomainError(ErrorCode.ServiceUnavailable, `the ${SERVICE_OF_QUEUE[queue]} service did not answer within ${timeoutMs} ms; retry shortly`),
        unavailable: (queue) => this.unavailable(queue),
        lost: (queue) => this.lost(queue),
        closed: (queue) => new DomainError(ErrorCode.ServiceUnavailable, `the request to the ${SERVICE_OF_QUEUE[queue]} service was abandoned: the client is closing`),
      },
    });
    // Handles made now, while Redis is up, fail fast in an outage (see QueueRegistry).
    for (const queue of Object.values(QueueName)) this.queues.queue(queue);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.replies.close();
    await this.queues.close();
  }

  unwrap<T>(): T {
    return this.queues as T;
  }

  /** True when at least one worker consumes the queue (used by readiness and by requests). */
  hasConsumers(queue: QueueName): Promise<boolean> {
    return this.presence.hasConsumers(queue);
  }

  /** How many of the queue's jobs are in each state (for operators); SERVICE_UNAVAILABLE when Redis does not answer. */
  jobCounts(queue: QueueName): Promise<Record<QueueJobState, number>> {
    return brokerCall(async () => {
      const counts = await this.queues.queue(queue).getJobCounts(...QUEUE_JOB_STATES);
      return Object.fromEntries(QUEUE_JOB_STATES.map((state) => [state, counts[state] ?? 0])) as Record<QueueJobState, number>;
    });
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let settled = false;
    const settle = (reply: WritePacket) => {
      if (settled) return;
      settled = true;
      callback(reply);
    };
    this.request(packet).then(
      (response) => settle({ response: response ?? null, isDisposed: true }),
      (err: unknown) => settle({ err }),
    );
    return () => {
      settled = true;
    };
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const name = this.normalizePattern(packet.pattern as string);
    const contract = this.contract(name, 'event');
    const record = packet.data instanceof BullMqRecord ? (packet.data as BullMqRecord) : new BullMqRecord(packet.data);
    const data = this.withCorrelation(validatePayload(contract, name, record.data));
    const job = await sendTraced({ queue: contract.queue, jobName: name }, (telemetry) =>
      brokerCall(() =>
        this.queues.queue(contract.queue).add(name, data, {
          ...contract.options,
          jobId: record.options.jobId,
          delay: record.options.delayMs,
          priority: record.options.priority ?? contract.options.priority,
          telemetry,
        }),
      ),
    );
    return { jobId: job.id } as T;
  }

  /** Adds many fire-and-forget jobs of one name in one round trip (bulk uploads). */
  async emitMany(name: string, records: BullMqRecord[]): Promise<Array<{ jobId: string }>> {
    const contract = this.contract(name, 'event');
    const data = records.map((record) => this.withCorrelation(validatePayload(contract, name, record.data)));
    const added = await sendTraced({ queue: contract.queue, jobName: name }, (telemetry) => {
      const jobs = records.map((record, index) => ({
        name,
        data: data[index],
        opts: { ...contract.options, jobId: record.options.jobId, delay: record.options.delayMs, priority: record.options.priority ?? contract.options.priority, telemetry },
      }));
      return brokerCall(() => this.queues.queue(contract.queue).addBulk(jobs));
    });
    return added.map((job) => ({ jobId: job.id as string }));
  }

  private async request(packet: ReadPacket): Promise<unknown> {
    const name = this.normalizePattern(packet.pattern as string);
    return this.measured(name, () => {
      const contract = this.requestContract(name);
      const data = this.withCorrelation(validatePayload(contract, name, packet.data));
      const batcher = this.batcherFor(name);
      return batcher ? batcher.submit(data) : this.sendRequest(name, data);
    });
  }

  /** Adds one request job and resolves with its validated reply. */
  private async sendRequest(name: string, data: unknown): Promise<unknown> {
    const contract = this.requestContract(name);
    // A consumer seen within the last second needs no call to Redis (nor a deadline timer for one).
    if (!this.presence.seenRecently(contract.queue) && !(await brokerCall(() => this.presence.hasConsumers(contract.queue)))) throw this.unavailable(contract.queue);
    // Listening starts before the job exists, so its completion cannot be read before anyone listens.
    const events = this.queues.readyQueueEvents(contract.queue) ?? (await brokerCall(() => this.queues.queueEvents(contract.queue)));
    this.replies.listen(contract.queue, events);
    const job = await sendTraced({ queue: contract.queue, jobName: name }, (telemetry) =>
      brokerCall(() => this.queues.queue(contract.queue).add(name, data, { ...contract.options, telemetry })),
    );
    const result = await this.awaitResult(job, contract);
    return validateAgainst(contract.reply, result, `reply of job "${name}"`);
  }

  /** Concurrent requests of a job that has a batch job travel together (see RequestBatcher). */
  private batcherFor(name: string): RequestBatcher | undefined {
    if (this.batchers.has(name)) return this.batchers.get(name);
    const batch = batchJobFor(name);
    const batcher =
      batch &&
      new RequestBatcher({
        maxSize: Math.min(batch.maxSize, this.options.maxBatchSize ?? batch.maxSize),
        sendOne: (request) => this.sendRequest(name, request),
        sendBatch: (requests) => this.measured(batch.name, () => this.sendRequest(batch.name, { requests })) as Promise<{ replies: Array<BatchReplyItem<unknown>> }>,
      });
    this.batchers.set(name, batcher);
    return batcher;
  }

  private async measured<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    let outcome = 'completed';
    try {
      return await work();
    } catch (error) {
      outcome = isDomainError(error) ? error.code : ErrorCode.Internal;
      throw error;
    } finally {
      this.options.metrics?.requestReplyDuration.observe({ job_name: name, outcome }, (performance.now() - started) / 1000);
    }
  }

  /**
   * Waits for the job's result: its completion event, or what the shared watchdog finds (see
   * PendingReplies): the job finished while the event stream was reconnecting (its stored result is
   * used), no worker consumes the queue any more, Redis stops answering (SERVICE_UNAVAILABLE within
   * one poll, not after the timeout), or the job vanished (Redis restarted empty).
   *
   * Not BullMQ's `job.waitUntilFinished`: its first look at the job happens inside a promise
   * executor, so when Redis is down that look rejects where nobody can catch it, and the process
   * dies of an unhandled rejection; and it costs two listeners and a look at the job per request.
   */
  private async awaitResult(job: Job, contract: RequestContract<z.ZodType, z.ZodType>): Promise<unknown> {
    const timeoutMs = Math.min(contract.timeoutMs, this.options.requestTimeoutMs);
    try {
      return await this.replies.wait(contract.queue, job.id as string, timeoutMs);
    } catch (error) {
      // Not answered (timed out, responder or broker gone): nobody should work on it any more.
      if (isDomainError(error) && error.code === ErrorCode.ServiceUnavailable) await job.remove().catch(() => undefined);
      throw error;
    }
  }

  private lost(queue: QueueName): DomainError {
    return new DomainError(ErrorCode.ServiceUnavailable, `the request to the ${SERVICE_OF_QUEUE[queue]} service was lost (the queue broker restarted); retry shortly`);
  }

  private requestContract(name: string): RequestContract<z.ZodType, z.ZodType> {
    return this.contract(name, 'request') as RequestContract<z.ZodType, z.ZodType>;
  }

  private contract(name: string, kind: AnyJobContract['kind']): AnyJobContract {
    const contract = contractFor(name);
    if (!contract) throw new DomainError(ErrorCode.UnknownJob, `unknown job "${name}"`);
    if (contract.kind !== kind) throw new DomainError(ErrorCode.UnknownJob, `job "${name}" is a ${contract.kind}, not a ${kind}`);
    return contract;
  }

  private withCorrelation(data: unknown): unknown {
    const correlationId = currentCorrelationId();
    if (!correlationId || typeof data !== 'object' || data === null || 'correlationId' in data) return data;
    return { ...data, correlationId };
  }

  private unavailable(queue: QueueName): DomainError {
    const service = SERVICE_OF_QUEUE[queue];
    return new DomainError(
      ErrorCode.ServiceUnavailable,
      `the ${service} service is unavailable (no worker is consuming the "${queue}" queue); start it and retry`,
    );
  }
}

/**
 * Longest wait for one call to Redis. A connection that was never established does not time its
 * commands out (BullMQ waits for it to be ready first), so the deadline is kept here.
 */
const BROKER_DEADLINE_MS = 5000;

/**
 * Runs a call to Redis. When it fails because Redis is down, restarting or not accepting writes,
 * or does not answer within the deadline, callers get SERVICE_UNAVAILABLE naming Redis, never
 * ioredis text.
 */
async function brokerCall<T>(call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(outageError('redis')), BROKER_DEADLINE_MS);
  });
  try {
    return await Promise.race([call(), deadline]);
  } catch (error) {
    // Only this process's Redis is behind these calls, so any outage it reports is Redis's.
    throw !isDomainError(error) && outageOf(error) ? outageError('redis') : error;
  } finally {
    clearTimeout(timer);
  }
}
