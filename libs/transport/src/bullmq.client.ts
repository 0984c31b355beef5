import type { ReadPacket, WritePacket } from '@nestjs/microservices';
import { ClientProxy } from '@nestjs/microservices';
import { type AnyJobContract, type BatchReplyItem, ErrorCode, type QueueName, type RequestContract, batchJobFor, contractFor } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';
import { type ServiceMetrics, currentCorrelationId } from '@quarry/observability';
import type { Job } from 'bullmq';
import type { z } from 'zod';
import { BullMqRecord } from './bullmq.record';
import { ConsumerPresence } from './consumer-presence';
import { fromFailureReason } from './job-errors';
import { validateAgainst, validatePayload } from './payload-validation';
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

const SERVICE_OF_QUEUE: Record<QueueName, string> = {
  ingestion: 'ingestion',
  retrieval: 'retrieval',
  agent: 'agent',
  'task-scheduler': 'task-scheduler',
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

  constructor(private readonly options: BullMqClientOptions) {
    super();
    this.queues = new QueueRegistry(options);
    this.presence = new ConsumerPresence(this.queues);
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.queues.close();
  }

  unwrap<T>(): T {
    return this.queues as T;
  }

  /** True when at least one worker consumes the queue (used by readiness and by requests). */
  hasConsumers(queue: QueueName): Promise<boolean> {
    return this.presence.hasConsumers(queue);
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
    const job = await this.queues.queue(contract.queue).add(name, data, {
      ...contract.options,
      jobId: record.options.jobId,
      delay: record.options.delayMs,
      priority: record.options.priority ?? contract.options.priority,
    });
    return { jobId: job.id } as T;
  }

  /** Adds many fire-and-forget jobs of one name in one round trip (bulk uploads). */
  async emitMany(name: string, records: BullMqRecord[]): Promise<Array<{ jobId: string }>> {
    const contract = this.contract(name, 'event');
    const jobs = await this.queues.queue(contract.queue).addBulk(
      records.map((record) => ({
        name,
        data: this.withCorrelation(validatePayload(contract, name, record.data)),
        opts: { ...contract.options, jobId: record.options.jobId, delay: record.options.delayMs, priority: record.options.priority ?? contract.options.priority },
      })),
    );
    return jobs.map((job) => ({ jobId: job.id as string }));
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
    if (!(await this.presence.hasConsumers(contract.queue))) throw this.unavailable(contract.queue);
    const job = await this.queues.queue(contract.queue).add(name, data, contract.options);
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
      this.options.metrics?.requestReplyDuration.observe({ job: name, outcome }, (performance.now() - started) / 1000);
    }
  }

  /** Waits for the job's result, failing early if the responder disappears or time runs out. */
  private async awaitResult(job: Job, contract: RequestContract<z.ZodType, z.ZodType>): Promise<unknown> {
    const timeoutMs = Math.min(contract.timeoutMs, this.options.requestTimeoutMs);
    const events = await this.queues.queueEvents(contract.queue);
    let poll: NodeJS.Timeout | undefined;
    const responderGone = new Promise<never>((_, reject) => {
      poll = setInterval(() => {
        this.presence.hasConsumers(contract.queue, { fresh: true }).then(
          (alive) => {
            if (!alive) reject(this.unavailable(contract.queue));
          },
          () => undefined,
        );
      }, this.options.livenessPollMs ?? 1000);
    });
    try {
      return await Promise.race([job.waitUntilFinished(events, timeoutMs), responderGone]);
    } catch (error) {
      if (isDomainError(error)) {
        await job.remove().catch(() => undefined);
        throw error;
      }
      const message = error instanceof Error ? error.message : String(error);
      if (/timed out/i.test(message)) {
        await job.remove().catch(() => undefined);
        throw new DomainError(ErrorCode.Timeout, `the ${SERVICE_OF_QUEUE[contract.queue]} service did not answer within ${timeoutMs} ms`);
      }
      throw fromFailureReason(message);
    } finally {
      clearInterval(poll);
    }
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
