import { Writable } from 'node:stream';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, type MicroserviceOptions, Payload } from '@nestjs/microservices';
import { ErrorCode, JobName, type PayloadOf, QueueName } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { createLogger } from '@quarry/observability';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { BullMqServer, PassThroughRpcExceptionFilter } from '@quarry/transport';
import winston from 'winston';
import type { GatewayConfig } from '../src/config';
import { INTERNAL_MESSAGE } from '../src/http/public-error';
import { issueTestKey, startGateway } from './start-gateway';

// What a broken dependency deep down might say; none of it may reach a client.
const SECRET = 'password=hunter2 at db.internal:5432 /srv/secret/path';
const SECRET_PARTS = /hunter2|db\.internal|5432|\/srv\/secret|password/;

/** How the stand-in agent fails, chosen by the question it is asked. */
const FAILURES: Record<string, () => never> = {
  'a plain error': () => {
    throw new Error(SECRET);
  },
  'an internal domain error': () => {
    throw new DomainError(ErrorCode.Internal, `retrieval broke: ${SECRET}`);
  },
  'an error that looks like a coded reason': () => {
    // A plain error whose text starts like a `CODE: message` failure reason must not pass as that code.
    throw new Error(`NOT_FOUND: ${SECRET}`);
  },
  'a thrown string': () => {
    throw SECRET as unknown as Error;
  },
  'a conversation of another tenant': () => {
    throw new DomainError(ErrorCode.NotFound, 'conversation 7d4f6c1e-1b1f-4a55-9c39-2d7d9a1e0b11 not found');
  },
};

@Controller()
class FailingAnswers {
  @MessagePattern(JobName.AnswerQuestion)
  answer(@Payload() request: PayloadOf<typeof JobName.AnswerQuestion>): never {
    const fail = FAILURES[request.question];
    if (!fail) throw new Error(`no scripted failure for "${request.question}"`);
    return fail();
  }

  // The agent queue's other jobs (exchanges answered from the gateway's cache, cache warming): nothing to do here.
  @EventPattern(JobName.RecordExchange)
  record(): void {}

  @EventPattern(JobName.RecordExchanges)
  recordMany(): void {}

  @EventPattern(JobName.WarmAnswers)
  warm(): void {}
}

@Module({ controllers: [FailingAnswers] })
class FailingAgentModule {}

/**
 * The gateway in-process on real Postgres and Redis; in the agent's place, a responder on the real
 * agent queue (same transport) that fails with a secret. The client gets a generic answer, headers
 * and body free of it; the gateway's log has the secret under the request's correlation id.
 */
describe('a downstream error carrying a secret never reaches the client', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let gateway: RunningService<GatewayConfig>;
  let agent: { close(): Promise<void> };
  let headers: Record<string, string>;
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    schema = await createTestSchema('gwsecrets');
    redis = createTestRedisPrefix('gwsecrets');
    gateway = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    // The gateway's log, from here on, into memory.
    gateway.kit.logger.clear().add(new winston.transports.Stream({ stream: sink }));
    gateway.kit.logger.silent = false;

    const strategy = new BullMqServer({
      url: redis.url,
      prefix: redis.prefix,
      queues: [QueueName.Agent],
      concurrency: 2,
      shutdownTimeoutMs: 1000,
      logger: createLogger({ service: 'failing-agent', level: 'error', silent: true }),
    });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(FailingAgentModule, { strategy, logger: false });
    app.useGlobalFilters(new PassThroughRpcExceptionFilter());
    await app.listen();
    agent = app;
    ({ headers } = await issueTestKey(gateway, 'acme', 'read'));
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await gateway?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const ask = (question: string) =>
    fetch(`${gateway.url}/api/query`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ question }) });

  /** The whole response as a client sees it: status line, every header, the body. */
  async function seen(response: Response): Promise<{ text: string; body: { error: { code: string; message: string; correlationId: string } } }> {
    const body = await response.text();
    const head = [...response.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
    return { text: `${response.status} ${response.statusText}\n${head}\n\n${body}`, body: JSON.parse(body) as never };
  }

  it.each(['a plain error', 'an internal domain error', 'an error that looks like a coded reason', 'a thrown string'])(
    'answers %s with 500 and the generic message; the gateway log has the secret under the correlation id',
    async (failure) => {
      const response = await ask(failure);
      const { text, body } = await seen(response);
      expect(response.status).toBe(500);
      expect(body.error).toEqual({ code: 'INTERNAL', message: INTERNAL_MESSAGE, correlationId: response.headers.get('x-correlation-id') });
      expect(text).not.toMatch(SECRET_PARTS);

      const logged = logs.filter((line) => line.correlationId === body.error.correlationId);
      expect(logged).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'error', status: 500, error: expect.stringContaining(SECRET) as unknown }) as unknown]));
    },
  );

  it('passes a domain error meant for the client (another tenant\'s conversation) on as it is: 404 NOT_FOUND', async () => {
    const response = await ask('a conversation of another tenant');
    const { body } = await seen(response);
    expect(response.status).toBe(404);
    expect(body.error).toMatchObject({ code: 'NOT_FOUND', message: 'conversation 7d4f6c1e-1b1f-4a55-9c39-2d7d9a1e0b11 not found' });
  });
});
