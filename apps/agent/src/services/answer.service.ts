import { Inject, Injectable } from '@nestjs/common';
import type { AnswerQuestionReply, Citation, PayloadOf } from '@quarry/contracts';
import type { JobName } from '@quarry/contracts';
import type { AnswerGenerator } from '@quarry/llm';
import type { Logger } from '@quarry/observability';
import { ConversationRepository, type DataSource, QueryLogRepository } from '@quarry/persistence';
import { DATA_SOURCE, JOB_CLIENT, LOGGER } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { type AnswerGraph, type ContextBudget, type QueryExpansion, buildAnswerGraph } from '../graph/answer-graph';
import { ANSWER_GENERATOR, CONTEXT_BUDGET, QUERY_EXPANSION } from '../tokens';
import { citationSnippet } from './citation-snippet';

/** Answers a question from the tenant's documents and records the exchange and the query log. */
@Injectable()
export class AnswerService {
  private readonly graph: AnswerGraph;
  private readonly conversations: ConversationRepository;
  private readonly queryLog: QueryLogRepository;

  constructor(
    @Inject(JOB_CLIENT) jobs: JobClient,
    @Inject(ANSWER_GENERATOR) generator: AnswerGenerator,
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(CONTEXT_BUDGET) context: ContextBudget,
    @Inject(QUERY_EXPANSION) expansion: QueryExpansion | null,
  ) {
    this.graph = buildAnswerGraph(jobs, generator, context, expansion ?? undefined);
    this.conversations = new ConversationRepository(dataSource);
    this.queryLog = new QueryLogRepository(dataSource);
  }

  async answer(request: PayloadOf<typeof JobName.AnswerQuestion>): Promise<AnswerQuestionReply> {
    const started = performance.now();
    const state = await this.graph.invoke({
      tenantId: request.tenantId,
      question: request.question,
      topK: request.topK,
      filters: request.filters,
    });
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
    const conversationId = await this.conversations.appendExchange({
      tenantId: request.tenantId,
      conversationId: request.conversationId,
      question: request.question,
      answer: state.generated.answer,
      citations,
    });
    const totalMs = performance.now() - started;
    await this.queryLog
      .record({
        tenantId: request.tenantId,
        question: request.question,
        hitCount: state.hits.length,
        citationCount: citations.length,
        generator: state.generated.model,
        retrievalMs: state.retrievalMs,
        generationMs: state.generationMs,
        totalMs,
        correlationId: request.correlationId ?? null,
      })
      .catch((error: unknown) => this.logger.warn('query log write failed', { error: (error as Error).message }));
    return {
      answer: state.generated.answer,
      citations,
      generator: state.generated.model,
      conversationId,
      timings: { retrievalMs: state.retrievalMs, generationMs: state.generationMs, totalMs },
    };
  }
}
