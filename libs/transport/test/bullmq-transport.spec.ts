import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, type MicroserviceOptions, Payload } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import { ErrorCode, JobName, type PayloadOf, QueueName, type ReplyOf } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { ServiceMetrics, createLogger, currentCorrelationId, runWithCorrelationId } from '@quarry/observability';
import { createTestRedisPrefix, waitFor, type TestRedisPrefix } from '@quarry/testing';
import { Queue, QueueEvents } from 'bullmq';
import { BullMqClient, BullMqContext, BullMqServer, JobClient, PassThroughRpcExceptionFilter, redisOptionsFromUrl } from '../src';

const logger = createLogger({ service: 'transport-test', level: 'error', silent: true });
const chunkId = '11111111-1111-4111-8111-111111111111';
const documentId = '22222222-2222-4222-8222-222222222222';

// A stand-in retrieval handler: the subject here is the transport, not search.
@Controller()
class FakeRetrievalHandlers {
  static slowMs = 0;

  @MessagePattern(JobName.SearchChunks)
  async search(@Payload() request: PayloadOf<typeof JobName.SearchChunks>, @Ctx() ctx: BullMqContext): Promise<ReplyOf<typeof JobName.SearchChunks>> {
    if (request.query === 'missing') throw new DomainError(ErrorCode.NotFound, 'no such thing');
    if (request.query === 'crash') throw new Error('boom');
    // unref: a request abandoned by the test must not keep jest alive.
    if (FakeRetrievalHandlers.slowMs > 0) await new Promise((resolve) => setTimeout(resolve, FakeRetrievalHandlers.slowMs).unref());
    return {
      hits: [
        {
          chunkId,
          documentId,
          filename: 'f.md',
          ordinal: 0,
          text: `${request.tenantId}:${request.query}:${request.topK}:${ctx.getJob().name}`,
          score: 1,
          provenance: { correlationId: currentCorrelationId() },
        },
      ],
      tookMs: 0,
      indexedChunks: 1,
    };
  }
}

@Module({ controllers: [FakeRetrievalHandlers] })
class FakeRetrievalModule {}

@Controller()
class IncompleteHandlers {
  @EventPattern(JobName.IngestDocument)
  ingest(): void {}
}
@Module({ controllers: [IncompleteHandlers] })
class IncompleteModule {}

async function startResponder(redis: TestRedisPrefix, module: unknown, queues: QueueName[] = [QueueName.Retrieval], metrics?: ServiceMetrics): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module as never, {
    strategy: new BullMqServer({ url: redis.url, prefix: redis.prefix, queues, concurrency: 4, shutdownTimeoutMs: 2000, logger, metrics }),
    logger: false,
  });
  app.useGlobalFilters(new PassThroughRpcExceptionFilter());
  await app.listen();
  return app;
}

describe('BullMQ transport against a real Redis', () => {
  let redis: TestRedisPrefix;
  let client: BullMqClient;
  let jobs: JobClient;
  let responder: INestMicroservice | undefined;

  beforeAll(() => {
    redis = createTestRedisPrefix('transport');
    client = new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 5000, livenessPollMs: 200 });
    jobs = new JobClient(client);
  });

  afterEach(async () => {
    await responder?.close();
    responder = undefined;
  });

  afterAll(async () => {
    await client.close();
    await redis.cleanup();
  });

  it('fails fast with SERVICE_UNAVAILABLE when no worker consumes the queue', async () => {
    const started = Date.now();
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'hello' })).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      message: expect.stringContaining('retrieval service is unavailable') as unknown,
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('round-trips a request with defaults applied and the reply validated', async () => {
    responder = await startResponder(redis, FakeRetrievalModule);
    const reply = await jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'hello' });
    expect(reply.hits[0].text).toBe(`t1:hello:8:${JobName.SearchChunks}`);
  });

  it('rebuilds the handler’s domain error code on the caller’s side; unknown errors become INTERNAL', async () => {
    responder = await startResponder(redis, FakeRetrievalModule);
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'missing' })).rejects.toMatchObject({
      code: ErrorCode.NotFound,
      message: 'no such thing',
    });
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'crash' })).rejects.toMatchObject({
      code: ErrorCode.Internal,
      message: 'boom',
    });
  });

  it('counts failures by reason code, every code of its queues at zero from the start', async () => {
    const metrics = new ServiceMetrics('retrieval');
    responder = await startResponder(redis, FakeRetrievalModule, [QueueName.Retrieval], metrics);
    const failures = async () => new Map((await metrics.jobFailures.get()).values.map((value) => [`${value.labels.queue}/${value.labels.reason_code}`, value.value]));
    const before = await failures();
    expect(before.size).toBe(Object.values(ErrorCode).length);
    expect([...before.values()].every((value) => value === 0)).toBe(true);
    expect((await metrics.jobsTotal.get()).values).toContainEqual(expect.objectContaining({ labels: { queue: 'retrieval', job_name: JobName.SearchChunks, outcome: 'failed' }, value: 0 }));
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'missing' })).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'crash' })).rejects.toMatchObject({ code: ErrorCode.Internal });
    const after = await failures();
    expect(after.get(`retrieval/${ErrorCode.NotFound}`)).toBe(1);
    expect(after.get(`retrieval/${ErrorCode.Internal}`)).toBe(1);
    expect(after.get(`retrieval/${ErrorCode.Timeout}`)).toBe(0);
  });

  it('rejects an invalid payload before it leaves the producer', async () => {
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 'Bad Tenant!', query: '' })).rejects.toMatchObject({
      code: ErrorCode.InvalidPayload,
      message: expect.stringMatching(/tenantId[\s\S]*query/) as unknown,
    });
  });

  it('fails a foreign producer’s malformed job with a readable reason, without retries or a crash', async () => {
    responder = await startResponder(redis, FakeRetrievalModule);
    const foreign = new Queue(QueueName.Retrieval, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
    const events = new QueueEvents(QueueName.Retrieval, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
    try {
      await events.waitUntilReady();
      const bad = await foreign.add(JobName.SearchChunks, { tenantId: 't1', topK: 'ten' }, { attempts: 3 });
      await expect(bad.waitUntilFinished(events, 5000)).rejects.toThrow(/^INVALID_PAYLOAD: payload of job "retrieval.search" is invalid: .*query.*topK/);
      const unknown = await foreign.add('retrieval.reindex-everything', { now: true });
      await expect(unknown.waitUntilFinished(events, 5000)).rejects.toThrow('UNKNOWN_JOB: no handler for job "retrieval.reindex-everything" on queue "retrieval"');
      const failed = await foreign.getJob(bad.id as string);
      expect(failed?.attemptsMade).toBe(1);
      // The service keeps serving.
      await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'still alive' })).resolves.toBeDefined();
    } finally {
      await events.close();
      await foreign.close();
    }
  });

  it('fails a waiting request soon after its responder disappears', async () => {
    FakeRetrievalHandlers.slowMs = 4000;
    try {
      responder = await startResponder(redis, FakeRetrievalModule);
      const pending = jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'slow' });
      const outcome = expect(pending).rejects.toMatchObject({ code: ErrorCode.ServiceUnavailable });
      // Simulate a killed process: force-close the workers without letting the job finish.
      await waitFor(async () => (await client.hasConsumers(QueueName.Retrieval)) || undefined, { timeoutMs: 2000, description: 'a consumer' });
      const started = Date.now();
      const workers = responder.unwrap<Array<{ close(force: boolean): Promise<void> }>>();
      await Promise.all(workers.map((worker) => worker.close(true)));
      await outcome;
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      FakeRetrievalHandlers.slowMs = 0;
    }
  });

  it('refuses to start a worker whose queue has jobs without a handler', async () => {
    await expect(startResponder(redis, IncompleteModule, [QueueName.Ingestion, QueueName.Retrieval])).rejects.toThrow(
      /no handler registered for job\(s\): .*retrieval.search/,
    );
  });

  it('emits fire-and-forget events with a deterministic job id only once', async () => {
    const payload = { tenantId: 't1', documentId, sha256: 'b'.repeat(64) };
    const first = await jobs.publish(JobName.IngestDocument, payload, { jobId: 'ingest-x' });
    const second = await jobs.publish(JobName.IngestDocument, payload, { jobId: 'ingest-x' });
    expect(first.jobId).toBe('ingest-x');
    expect(second.jobId).toBe('ingest-x');
    const queue = client.unwrap<{ queue(name: string): Queue }>().queue(QueueName.Ingestion);
    expect(await queue.getJobCountByTypes('waiting')).toBe(1);
  });

  describe('batches', () => {
    const search = (query: string, correlationId = `corr-${query}`, via = jobs) =>
      runWithCorrelationId(correlationId, () => via.request(JobName.SearchChunks, { tenantId: 't1', query }));

    it('sends concurrent requests as one batch job; each caller gets its own reply or error, under its own correlation id', async () => {
      responder = await startResponder(redis, FakeRetrievalModule);
      const [first, missing, second, crash] = await Promise.allSettled(['first', 'missing', 'second', 'crash'].map((query) => search(query)));
      expect(first).toMatchObject({ status: 'fulfilled', value: { hits: [{ text: `t1:first:8:${JobName.SearchChunksBatch}`, provenance: { correlationId: 'corr-first' } }] } });
      expect(second).toMatchObject({ status: 'fulfilled', value: { hits: [{ text: `t1:second:8:${JobName.SearchChunksBatch}`, provenance: { correlationId: 'corr-second' } }] } });
      expect(missing).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.NotFound, message: 'no such thing' } });
      expect(crash).toMatchObject({ status: 'rejected', reason: { code: ErrorCode.Internal, message: 'boom' } });
    });

    it('splits more concurrent requests than a batch may hold into even batches', async () => {
      responder = await startResponder(redis, FakeRetrievalModule);
      const small = new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 5000, maxBatchSize: 3 });
      try {
        const queries = ['split-a', 'split-b', 'split-c', 'split-d', 'split-e', 'split-f', 'split-g'];
        const replies = await Promise.all(queries.map((query) => search(query, `corr-${query}`, new JobClient(small))));
        expect(replies.map((reply) => reply.hits[0].text.split(':')[1])).toEqual(queries);
        const done = await small.unwrap<{ queue(name: string): Queue }>().queue(QueueName.Retrieval).getJobs(['completed']);
        const batches = done.filter((job) => job.name === JobName.SearchChunksBatch && (job.data as { requests: Array<{ query: string }> }).requests[0].query.startsWith('split-'));
        // 7 = 3 + 3 + 1, and the last one goes alone as a plain job.
        expect(batches.map((job) => (job.data as { requests: unknown[] }).requests.length)).toEqual([3, 3]);
        expect(replies[6].hits[0].text).toBe(`t1:split-g:8:${JobName.SearchChunks}`);
      } finally {
        await small.close();
      }
    });

    it('answers a foreign producer’s batch job per request, and refuses a batch holding an invalid request as a whole', async () => {
      responder = await startResponder(redis, FakeRetrievalModule);
      const foreign = new Queue(QueueName.Retrieval, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
      const events = new QueueEvents(QueueName.Retrieval, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
      try {
        await events.waitUntilReady();
        const batch = await foreign.add(JobName.SearchChunksBatch, { requests: [{ tenantId: 't1', query: 'x', topK: 3 }, { tenantId: 't1', query: 'missing' }] });
        expect(await batch.waitUntilFinished(events, 5000)).toEqual({
          replies: [
            { reply: expect.objectContaining({ hits: [expect.objectContaining({ text: `t1:x:3:${JobName.SearchChunksBatch}` })] }) as unknown },
            { error: { code: ErrorCode.NotFound, message: 'no such thing' } },
          ],
        });
        const bad = await foreign.add(JobName.SearchChunksBatch, { requests: [{ tenantId: 't1', query: 'fine' }, { tenantId: 't1', topK: 0 }] });
        await expect(bad.waitUntilFinished(events, 5000)).rejects.toThrow(/^INVALID_PAYLOAD: payload of job "retrieval.search-batch" is invalid: requests\.1\.query.*requests\.1\.topK/);
      } finally {
        await events.close();
        await foreign.close();
      }
    });
  });
});
