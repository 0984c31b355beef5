import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AnswerQuestionReply, Citation, PayloadOf } from '@quarry/contracts';
import type { JobName } from '@quarry/contracts';
import { type AnswerGenerator, LlmEndpointError } from '@quarry/llm';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { ConversationRepository, type DataSource } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, METRICS } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { type AnswerFlow, type ContextBudget, type QueryExpansion, buildAnswerFlow } from '../graph/answer-graph';
import { ANSWER_GENERATOR, CONTEXT_BUDGET, QUERY_EXPANSION } from '../tokens';
import { citationSnippet } from './citation-snippet';
import { ConversationRecords } from './conversation-records';
import { DeferredWrites } from './deferred-writes';
import { ExchangeLog } from './exchange-log';
import { ExchangeWriter } from './exchange-writer';
import { modelFailure } from './model-failure';

// Records of answers given while Postgres is down are held in memory up to this many.
const MAX_DEFERRED_WRITES = 10_000;
// Records of answers are written behind the replies, at most one write per this long under load …
const RECORD_INTERVAL_MS = 50;
// … or sooner once this many wait.
const RECORD_MAX_BATCH = 500;

/**
 * Answers a question from the tenant's documents and records the exchange and the query log.
 * Answering needs no database (the retrieval replicas serve from memory): the records are written
 * behind the reply, many answers in one transaction (ExchangeLog), and while Postgres is down the
 * answer is still given and its record is written once Postgres is back.
 */
@Injectable()
export class AnswerService implements OnApplicationShutdown {
  private readonly flow: AnswerFlow;
  private readonly conversations: ConversationRecords;
  private readonly exchanges: ExchangeLog;
  private readonly deferred: DeferredWrites;

  constructor(
    @Inject(JOB_CLIENT) jobs: JobClient,
    @Inject(ANSWER_GENERATOR) generator: AnswerGenerator,
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTEXT_BUDGET) context: ContextBudget,
    @Inject(QUERY_EXPANSION) expansion: QueryExpansion | null,
    @Inject(METRICS) metrics: ServiceMetrics,
  ) {
    this.flow = buildAnswerFlow(jobs, generator, context, expansion ?? undefined);
    this.deferred = new DeferredWrites({
      maxPending: MAX_DEFERRED_WRITES,
      retryMs: 1000,
      maxRetryMs: 30_000,
      logger,
      onChange: (pending) => metrics.deferredWrites.set(pending),
      onDrop: () => metrics.deferredWritesDropped.inc(),
    });
    this.exchanges = new ExchangeLog({
      writer: new ExchangeWriter(dataSource),
      deferred: this.deferred,
      logger,
      intervalMs: RECORD_INTERVAL_MS,
      maxBatch: RECORD_MAX_BATCH,
      onLost: () => metrics.deferredWritesDropped.inc(),
    });
    this.conversations = new ConversationRecords(new ConversationRepository(dataSource), this.deferred, this.exchanges, logger);
  }

  /** Runs after the workers have stopped (their last answers are buffered by then), before Postgres is closed. */
  async onApplicationShutdown(): Promise<void> {
    await this.exchanges.close();
    await this.deferred.close();
  }

  async answer(request: PayloadOf<typeof JobName.AnswerQuestion>): Promise<AnswerQuestionReply> {
    const started = performance.now();
    // A conversation the client continues must be its tenant's, before any work is done for it.
    if (request.conversationId) await this.conversations.verify(request.tenantId, request.conversationId);
    const { reply, hitCount } = await this.respond(request, started);
    this.conversations.record({
      exchange: {
        tenantId: request.tenantId,
        conversationId: reply.conversationId,
        startsConversation: request.conversationId === undefined,
        question: request.question,
        answer: reply.answer,
        citations: reply.citations,
      },
      log: {
        tenantId: request.tenantId,
        question: request.question,
        hitCount,
        citationCount: reply.citations.length,
        generator: reply.generator,
        retrievalMs: reply.timings.retrievalMs,
        generationMs: reply.timings.generationMs,
        totalMs: reply.timings.totalMs,
        correlationId: request.correlationId ?? null,
      },
    });
    return reply;
  }

  /**
   * An answer that is not an exchange: no conversation, nothing in the query log (the answer
   * cache's warming asks on nobody's behalf, and must not count its own questions as asked).
   */
  async answerUnrecorded(request: Pick<PayloadOf<typeof JobName.AnswerQuestion>, 'tenantId' | 'question' | 'topK' | 'filters'>): Promise<AnswerQuestionReply> {
    return (await this.respond(request, performance.now())).reply;
  }

  private async respond(request: Pick<PayloadOf<typeof JobName.AnswerQuestion>, 'tenantId' | 'question' | 'topK' | 'filters' | 'conversationId'>, started: number) {
    const state = await this.generate(request);
    const hitOf = new Map(state.hits.map((hit) => [hit.chunkId, hit]));
    const citations: Citation[] = state.generated.citedPassageIndexes.map((index) => {
      const passage = state.passages[index - 1];
      return {
        index,
        documentId: passage.documentId,
        chunkId: passage.chunkId,
        filename: passage.filename,
        snippet: citationSnippet(passage.text),
        score: passage.score,
        provenance: hitOf.get(passage.chunkId)?.provenance ?? {},
      };
    });
    // A new conversation gets its id here, so the answer can name it before its record is written.
    const conversationId = request.conversationId ?? randomUUID();
    const totalMs = performance.now() - started;
    const reply: AnswerQuestionReply = {
      answer: state.generated.answer,
      citations,
      generator: state.generated.model,
      conversationId,
      timings: { retrievalMs: state.retrievalMs, generationMs: state.generationMs, totalMs },
    };
    return { reply, hitCount: state.hits.length };
  }

  /**
   * Records an exchange answered without this service (the gateway's answer cache) as an answered
   * one: it starts the conversation the reply named, and goes into the query log.
   */
  recordExchange(payload: PayloadOf<typeof JobName.RecordExchange>): void {
    this.conversations.record({
      exchange: {
        tenantId: payload.tenantId,
        conversationId: payload.conversationId,
        startsConversation: true,
        question: payload.question,
        answer: payload.answer,
        citations: payload.citations,
      },
      log: {
        tenantId: payload.tenantId,
        question: payload.question,
        hitCount: payload.citations.length,
        citationCount: payload.citations.length,
        generator: `${payload.generator} (${payload.source})`,
        retrievalMs: 0,
        generationMs: 0,
        totalMs: payload.totalMs,
        correlationId: payload.correlationId ?? null,
      },
    });
  }

  /** Runs the answer flow; a failed model call is told to the client without the endpoint's own text. */
  private async generate(request: Pick<PayloadOf<typeof JobName.AnswerQuestion>, 'tenantId' | 'question' | 'topK' | 'filters'>) {
    try {
      return await this.flow.run({ tenantId: request.tenantId, question: request.question, topK: request.topK, filters: request.filters });
    } catch (error) {
      if (!(error instanceof LlmEndpointError)) throw error;
      this.logger.error('the model endpoint failed', { error: error.message, baseUrl: error.baseUrl, status: error.status });
      throw modelFailure(error);
    }
  }
}
