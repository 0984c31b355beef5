import type { CustomTransportStrategy, MessageHandler } from '@nestjs/microservices';
import { Server } from '@nestjs/microservices';
import { type AnyJobContract, ErrorCode, type JobName, type QueueName, contractFor, formatFailureReason, jobNamesOnQueue, parseFailureReason } from '@quarry/contracts';
import { type DependencyEndpoints, DomainError } from '@quarry/domain';
import { type Logger, type ServiceMetrics, processTraced, runWithContext, tenantIdIn } from '@quarry/observability';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { lastValueFrom } from 'rxjs';
import { BullMqContext } from './bullmq.context';
import { toBatchItemError, toJobError } from './job-errors';
import { validateAgainst, validatePayload } from './payload-validation';
import { type RedisTarget, redisOptionsFromUrl } from './redis-connection';

export interface BullMqServerOptions extends RedisTarget {
  /** The queues this service consumes; every job name on them must have a handler. */
  queues: QueueName[];
  concurrency: number;
  /** Lock time of an active job; a crashed worker's jobs are taken up again after about this long. */
  lockMs?: number;
  /** How long close() lets active jobs finish before handing them back to the queue. */
  shutdownTimeoutMs: number;
  logger: Logger;
  metrics?: ServiceMetrics;
  /** Where Postgres and Redis listen, so a handler's connection error says which one is down. */
  endpoints?: DependencyEndpoints;
}

/**
 * The consumer side of the BullMQ transport for @nestjs/microservices. Handlers are ordinary
 * `@MessagePattern(JobName.X)` (request/reply: the return value is the reply) or
 * `@EventPattern(JobName.X)` (fire-and-forget) methods. Every job is validated against its contract
 * before a handler sees it; a job nobody can handle or whose payload is invalid fails at once with a
 * readable reason and is never retried.
 */
export class BullMqServer extends Server implements CustomTransportStrategy {
  private readonly workers: Worker[] = [];
  private readonly closingListeners: Array<() => void> = [];

  constructor(private readonly options: BullMqServerOptions) {
    super();
    if (options.metrics) startCountersAtZero(options.metrics, options.queues);
  }

  /** The queues this server consumes (its service's `queues`). */
  get consumedQueues(): readonly QueueName[] {
    return this.options.queues;
  }

  /** Sets how many jobs each of this server's queue workers takes at once (adaptive concurrency). */
  setConcurrency(concurrency: number): void {
    for (const worker of this.workers) worker.concurrency = concurrency;
  }

  /** Called once when the server starts closing, before it waits for the active jobs (a long job's handler stops and hands its work back). */
  onClosing(listener: () => void): void {
    this.closingListeners.push(listener);
  }

  listen(callback: (error?: unknown) => void): void {
    this.start().then(() => callback(), callback);
  }

  // Resolves once every worker's connections are up, so producers can see the consumers the moment
  // the service says it has started.
  private async start(): Promise<void> {
    this.assertEveryJobHasAHandler();
    for (const queue of this.options.queues) this.workers.push(this.startWorker(queue));
    await Promise.all(this.workers.map((worker) => worker.waitUntilReady()));
  }

  /**
   * Stops taking jobs, lets active ones finish up to the timeout, then closes the connections.
   * Pausing first and then force-closing matters: BullMQ memoises close(), so a graceful close that
   * hangs (it does when Redis is down or still reconnecting) could not be turned into a forced one.
   * Jobs still running at the deadline stay locked until their lock expires and are then run again.
   */
  async close(): Promise<void> {
    // Handlers of long jobs hand their work back now, instead of holding the close until its deadline.
    for (const listener of this.closingListeners.splice(0)) listener();
    const workers = this.workers.splice(0);
    let timer: NodeJS.Timeout | undefined;
    // A worker that is closed already (or cannot reach Redis) has nothing left to finish.
    const finished = Promise.all(workers.map((worker) => worker.pause().catch(() => undefined)));
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.shutdownTimeoutMs);
    });
    if ((await Promise.race([finished, deadline])) === 'timeout') {
      this.options.logger.warn('shutdown timeout: leaving active jobs to be taken up again', { workers: workers.length });
    }
    clearTimeout(timer);
    await Promise.all(workers.map((worker) => worker.close(true)));
  }

  on(): void {
    // Worker events are handled inside; Nest's status events are not used by this transport.
  }

  unwrap<T>(): T {
    return this.workers as T;
  }

  // A worker that boots with a job nobody handles, or a handler for a job that is not in the
  // contracts, is a deployment mistake: refuse to start rather than fail jobs one by one.
  private assertEveryJobHasAHandler(): void {
    const handled = new Set(this.getHandlers().keys());
    // A batch job is answered by the handler of the job it batches.
    const expected = new Set<string>(this.options.queues.flatMap((queue) => jobNamesOnQueue(queue)).filter((name) => !batchedJob(name)));
    const missing = [...expected].filter((name) => !handled.has(name));
    const unknown = [...handled].filter((name) => !expected.has(name));
    if (missing.length > 0) throw new Error(`no handler registered for job(s): ${missing.join(', ')}`);
    if (unknown.length > 0) throw new Error(`handler(s) for job(s) not on this service's queues: ${unknown.join(', ')}`);
  }

  private startWorker(queue: QueueName): Worker {
    const worker = new Worker(queue, (job) => this.process(queue, job), {
      connection: redisOptionsFromUrl(this.options.url),
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      ...(this.options.lockMs ? { lockDuration: this.options.lockMs, stalledInterval: this.options.lockMs } : {}),
    });
    worker.on('error', (error) => this.options.logger.error('worker error', { queue, error: error.message }));
    worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        this.options.logger.warn('job failed for good', { queue, job: job.name, jobId: job.id, reason: error.message });
      }
    });
    return worker;
  }

  private async process(queue: QueueName, job: Job): Promise<unknown> {
    const contract = contractFor(job.name);
    const handler = this.getHandlerByPattern(batchedJob(job.name) ?? job.name);
    if (!contract || contract.queue !== queue || !handler) {
      this.options.logger.warn('rejected job with unknown name', { queue, job: job.name, jobId: job.id });
      this.options.metrics?.jobFailures.inc({ queue, reason_code: ErrorCode.UnknownJob });
      throw new UnrecoverableError(formatFailureReason(ErrorCode.UnknownJob, `no handler for job "${job.name}" on queue "${queue}"`));
    }
    // In a span continuing the trace of whoever added the job (its options carry the context).
    const traced = { queue, jobName: job.name, id: job.id, attempt: job.attemptsMade + 1, options: job.opts };
    return processTraced(traced, () => runWithContext(this.contextOf(job), () => this.run(queue, job, contract, handler)));
  }

  private async run(queue: QueueName, job: Job, contract: AnyJobContract, handler: MessageHandler): Promise<unknown> {
    const { logger, metrics } = this.options;
    const started = performance.now();
    const labels = { queue, job: job.name };
    // `job` is Prometheus's own target label: the metric label is job_name.
    const metricLabels = { queue, job_name: job.name };
    logger.info('job started', { ...labels, jobId: job.id, attempt: job.attemptsMade + 1 });
    try {
      const payload = validatePayload(contract, job.name, job.data);
      if (contract.kind === 'request' && Date.now() - job.timestamp > contract.timeoutMs) {
        // The caller gave up on this request already; answering it now would do work for nobody.
        throw new DomainError(ErrorCode.Timeout, `request expired before a worker picked it up (${contract.timeoutMs} ms)`);
      }
      const batchOf = batchedJob(job.name);
      const reply = batchOf
        ? await this.answerBatch(queue, batchOf, (payload as { requests: unknown[] }).requests, handler, job)
        : await this.answer(contract, job.name, payload, handler, job);
      const seconds = (performance.now() - started) / 1000;
      metrics?.jobDuration.observe({ ...metricLabels, outcome: 'completed' }, seconds);
      metrics?.jobsTotal.inc({ ...metricLabels, outcome: 'completed' });
      logger.info('job completed', { ...labels, jobId: job.id, durationMs: Math.round(seconds * 1000) });
      return reply;
    } catch (error) {
      const jobError = toJobError(error, this.options.endpoints);
      const seconds = (performance.now() - started) / 1000;
      metrics?.jobDuration.observe({ ...metricLabels, outcome: 'failed' }, seconds);
      metrics?.jobsTotal.inc({ ...metricLabels, outcome: 'failed' });
      metrics?.jobFailures.inc({ queue, reason_code: parseFailureReason(jobError.message).code });
      logger.warn('job failed', {
        ...labels,
        jobId: job.id,
        durationMs: Math.round(seconds * 1000),
        reason: jobError.message,
        stack: error instanceof DomainError ? undefined : (error as Error | undefined)?.stack,
      });
      throw jobError;
    }
  }

  /** Runs the handler; for a request, returns its validated reply; for an event with a result schema, its validated result. */
  private async answer(contract: AnyJobContract, name: string, payload: unknown, handler: MessageHandler, job: Job): Promise<unknown> {
    const result: unknown = await lastValueFrom(this.transformToObservable(await handler(payload, new BullMqContext([job]))), { defaultValue: undefined });
    if (contract.kind === 'request') return validateAgainst(contract.reply, result, `reply of job "${name}"`);
    return contract.result ? validateAgainst(contract.result, result, `result of job "${name}"`) : undefined;
  }

  /**
   * Answers each request of a batch job with the batched job's handler, under the request's own
   * correlation id. A request that fails becomes an error entry; the others are unaffected.
   */
  private async answerBatch(queue: QueueName, name: JobName, requests: unknown[], handler: MessageHandler, job: Job): Promise<{ replies: unknown[] }> {
    const contract = contractFor(name) as AnyJobContract;
    const replies = await Promise.all(
      requests.map((request) =>
        runWithContext(this.contextOf(job, request), async () => {
          try {
            const reply = await this.answer(contract, name, request, handler, job);
            this.options.metrics?.jobsTotal.inc({ queue, job_name: name, outcome: 'completed' });
            return { reply };
          } catch (error) {
            this.options.metrics?.jobsTotal.inc({ queue, job_name: name, outcome: 'failed' });
            return { error: toBatchItemError(error, this.options.endpoints) };
          }
        }),
      ),
    );
    return { replies };
  }

  /** The correlation id and tenant a job (or one request of a batch) carries in its data. */
  private contextOf(job: Job, data: unknown = job.data): { correlationId: string; tenantId?: string } {
    const { correlationId } = (data ?? {}) as { correlationId?: unknown };
    const tenantId = tenantIdIn(data);
    return { correlationId: typeof correlationId === 'string' ? correlationId : `job:${job.id}`, ...(tenantId ? { tenantId } : {}) };
  }
}

/** Every series this server can write exists from boot at 0, so rate() sees the first failure. */
function startCountersAtZero(metrics: ServiceMetrics, queues: readonly QueueName[]): void {
  for (const queue of queues) {
    for (const code of Object.values(ErrorCode)) metrics.jobFailures.inc({ queue, reason_code: code }, 0);
    for (const name of jobNamesOnQueue(queue)) for (const outcome of ['completed', 'failed']) metrics.jobsTotal.inc({ queue, job_name: name, outcome }, 0);
  }
}

/** The job a batch job carries requests of; undefined for other jobs. */
function batchedJob(name: string): JobName | undefined {
  const contract = contractFor(name);
  return contract?.kind === 'request' ? contract.batch?.of : undefined;
}
