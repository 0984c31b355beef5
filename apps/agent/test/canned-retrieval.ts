import { randomUUID } from 'node:crypto';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, type MicroserviceOptions, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf, QueueName, type ReplyOf } from '@quarry/contracts';
import { createLogger } from '@quarry/observability';
import { BullMqServer, PassThroughRpcExceptionFilter } from '@quarry/transport';

/** The passage every search finds: enough for a generator to answer from. */
export const CANNED_PASSAGE = 'Every employee receives 27 days of paid vacation per calendar year.';
const documentId = randomUUID();
const chunkId = randomUUID();

@Controller()
class CannedSearch {
  @MessagePattern(JobName.SearchChunks)
  search(@Payload() request: PayloadOf<typeof JobName.SearchChunks>): ReplyOf<typeof JobName.SearchChunks> {
    return {
      hits: [{ chunkId, documentId, filename: `${request.tenantId}-handbook.md`, ordinal: 0, text: CANNED_PASSAGE, score: 1, provenance: {} }],
      tookMs: 0,
      indexedChunks: 1,
    };
  }
}

@Module({ controllers: [CannedSearch] })
class CannedRetrievalModule {}

/** A stand-in retrieval service on the real queue (same transport), answering every search with one passage. */
export async function startCannedRetrieval(target: { url: string; prefix: string }): Promise<{ close(): Promise<void> }> {
  const strategy = new BullMqServer({
    ...target,
    queues: [QueueName.Retrieval],
    concurrency: 4,
    shutdownTimeoutMs: 1000,
    logger: createLogger({ service: 'canned-retrieval', level: 'error', silent: true }),
  });
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(CannedRetrievalModule, { strategy, logger: false });
  app.useGlobalFilters(new PassThroughRpcExceptionFilter());
  await app.listen();
  return { close: () => app.close() };
}
