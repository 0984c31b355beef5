import { Controller, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, type MicroserviceOptions, Payload } from '@nestjs/microservices';
import { ErrorCode, JobName, type PayloadOf, QueueName, type ReplyOf } from '@quarry/contracts';
import { endpointsFromUrls } from '@quarry/domain';
import { createLogger } from '@quarry/observability';
import { PrivateRedis } from '@quarry/testing';
import { BullMqClient, BullMqServer, JobClient, PassThroughRpcExceptionFilter } from '../src';

const logger = createLogger({ service: 'transport-outage-test', level: 'error', silent: true });

// A retrieval stand-in whose answers the test steers through the query text.
@Controller()
class SteerableHandlers {
  /** Lets every "slow" request go (at the end of each test, so shutdown does not wait for them). */
  static release: () => void = () => undefined;
  private static released = new Promise<void>((resolve) => (SteerableHandlers.release = resolve));

  static reset(): void {
    SteerableHandlers.released = new Promise<void>((resolve) => (SteerableHandlers.release = resolve));
  }

  @MessagePattern(JobName.SearchChunks)
  async search(@Payload() request: PayloadOf<typeof JobName.SearchChunks>): Promise<ReplyOf<typeof JobName.SearchChunks>> {
    if (request.query === 'slow') await SteerableHandlers.released;
    if (request.query === 'postgres down') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', port: 5432 });
    if (request.query === 'bad data') throw Object.assign(new Error('QueryFailedError'), { driverError: Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }) });
    return { hits: [], tookMs: 0, indexedChunks: 0 };
  }
}
@Module({ controllers: [SteerableHandlers] })
class SteerableModule {}

describe('BullMQ transport when Redis fails (a Redis of its own)', () => {
  let redis: PrivateRedis;
  let client: BullMqClient;
  let jobs: JobClient;
  let responder: INestMicroservice;

  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });

  beforeEach(async () => {
    const target = { url: redis.url, prefix: 'outage' };
    client = new BullMqClient({ ...target, requestTimeoutMs: 30_000, livenessPollMs: 250 });
    jobs = new JobClient(client);
    responder = await NestFactory.createMicroservice<MicroserviceOptions>(SteerableModule, {
      strategy: new BullMqServer({
        ...target,
        queues: [QueueName.Retrieval],
        concurrency: 4,
        shutdownTimeoutMs: 500,
        logger,
        endpoints: endpointsFromUrls({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/quarry', redisUrl: redis.url }),
      }),
      logger: false,
    });
    responder.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await responder.listen();
  });

  afterEach(async () => {
    SteerableHandlers.release();
    SteerableHandlers.reset();
    if (!redis.running) await redis.restart();
    await responder.close();
    await client.close();
  });

  afterAll(async () => {
    await redis.stop();
  });

  it('fails a request in flight within about a second when Redis dies, naming Redis', async () => {
    const pending = jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'slow' });
    pending.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const killedAt = Date.now();
    await redis.kill();
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: ErrorCode.ServiceUnavailable, message: 'the queue broker (Redis) is unavailable; retry shortly' });
    expect(Date.now() - killedAt).toBeLessThan(2000);
  });

  it('answers a new request with SERVICE_UNAVAILABLE at once while Redis is down, without ioredis text', async () => {
    await redis.kill();
    const started = Date.now();
    const error = await jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'hello' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: ErrorCode.ServiceUnavailable, message: 'the queue broker (Redis) is unavailable; retry shortly' });
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it('fails a request whose job vanished in a Redis restarted empty, instead of waiting for the timeout', async () => {
    const pending = jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'slow' });
    pending.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const restartedAt = Date.now();
    await redis.restartEmpty();
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: ErrorCode.ServiceUnavailable });
    expect(Date.now() - restartedAt).toBeLessThan(5000);
  });

  it('relays a handler’s database outage as SERVICE_UNAVAILABLE naming Postgres, and refused data as INVALID_PAYLOAD', async () => {
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'postgres down' })).rejects.toMatchObject({
      code: ErrorCode.ServiceUnavailable,
      message: 'the database (Postgres) is unavailable; retry shortly',
    });
    await expect(jobs.request(JobName.SearchChunks, { tenantId: 't1', query: 'bad data' })).rejects.toMatchObject({
      code: ErrorCode.InvalidPayload,
      message: 'the input cannot be stored: text holds a NUL character or bytes that are not valid UTF-8',
    });
  });
});
