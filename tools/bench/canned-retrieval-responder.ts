/**
 * A stand-in retrieval service for `bench:retrieval`'s transport floor: it consumes the retrieval
 * queue through the same BullMQ transport and answers every search with one fixed reply (a real
 * reply, read from CANNED_REPLY_FILE), doing no search at all. What the benchmark measures through
 * it is what queues, Redis and JSON cost at that reply size on this machine — the part of the round
 * trip no faster search can remove.
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, type MicroserviceOptions } from '@nestjs/microservices';
import { JobName, QueueName, type ReplyOf } from '@quarry/contracts';
import { createLogger } from '@quarry/observability';
import { BullMqServer, PassThroughRpcExceptionFilter } from '@quarry/transport';

const reply = JSON.parse(readFileSync(process.env.CANNED_REPLY_FILE as string, 'utf8')) as ReplyOf<typeof JobName.SearchChunks>;

@Controller()
class CannedSearch {
  @MessagePattern(JobName.SearchChunks)
  search(): ReplyOf<typeof JobName.SearchChunks> {
    return reply;
  }
}

@Module({ controllers: [CannedSearch] })
class CannedRetrievalModule {}

async function main(): Promise<void> {
  const strategy = new BullMqServer({
    url: process.env.REDIS_URL as string,
    prefix: process.env.REDIS_PREFIX as string,
    queues: [QueueName.Retrieval],
    concurrency: Number(process.env.WORKER_CONCURRENCY ?? 16),
    shutdownTimeoutMs: 1000,
    logger: createLogger({ service: 'canned-retrieval', level: 'error' }),
  });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(CannedRetrievalModule, { strategy, logger: false });
  app.useGlobalFilters(new PassThroughRpcExceptionFilter());
  await app.listen();
  process.send?.('ready');
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
