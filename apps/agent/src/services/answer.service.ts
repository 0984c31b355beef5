import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { AnswerQuestionReply, PayloadOf } from '@quarry/contracts';
import type { JobName } from '@quarry/contracts';
import { type AnswerGenerator, LlmEndpointError } from '@quarry/llm';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { ConversationRepository, type DataSource, ExchangeBatchRepository } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { AgentConfig } from '../config';
import type { AgentFlow } from '../graph/agent-graph';
import type { AgentSettings } from '../graph/agent-settings';
import { type AgentRun, TraceRecorder } from '../graph/trace-recorder';
import type { AgentMetrics } from '../metrics/agent-metrics';
import { AnswerStreamRelay } from '../streaming/answer-stream-relay';
import { cachedExchangeTrace } from '../trace/cached-exchange-trace';
import { AGENT_FLOW, AGENT_METRICS, AGENT_SETTINGS, ANSWER_GENERATOR, FOLLOW_UP_MODEL, type FollowUpModel } from '../tokens';
import { finalAnswer, queryTrace, streamFinished } from './answer-outcome';
import { ConversationContext } from './conversation-context';
import { ConversationRecords } from './conversation-records';
import { DeferredWrites } from './deferred-writes';
import { ExchangeLog } from './exchange-log';
import { modelFailure } from './model-failure';

// Records of answers given while Postgres is down are held in memory up to this many.
const MAX_DEFERRED_WRITES = 10_000;
// Records of answers are written behind the replies, at most one write per this long under load …
const RECORD_INTERVAL_MS = 50;
// … or sooner once this many wait.
const RECORD_MAX_BATCH = 500;

type Question = Pick<PayloadOf<typeof JobName.AnswerQuestion>, 'tenantId' | 'question' | 'topK' | 'filters' | 'conversationId' | 'history' | 'maxRefinements' | 'stream'>;

/**
 * Answers a question from the tenant's documents through the agent's graph, and records the
 * exchange, its query-log row and its audit trail. Answering needs no database (the retrieval
 * replicas serve from memory) except to read a continued conversation: the records are written
 * behind the reply, many answers in one transaction (ExchangeLog), and while Postgres is down the
 * answer is still given and its record is written once Postgres is back.
 */
@Injectable()
export class AnswerService implements OnApplicationShutdown {
  private readonly conversations: ConversationRecords;
  private readonly context: ConversationContext;
  private readonly exchanges: ExchangeLog;
  private readonly deferred: DeferredWrites;
  private readonly generatorModel: string;

  constructor(
    @Inject(AGENT_FLOW) private readonly flow: AgentFlow,
    @Inject(ANSWER_GENERATOR) generator: AnswerGenerator,
    @Inject(AGENT_SETTINGS) private readonly settings: AgentSettings,
    @Inject(AGENT_METRICS) private readonly agentMetrics: AgentMetrics,
    @Inject(FOLLOW_UP_MODEL) followUpModel: FollowUpModel | null,
    @Inject(SERVICE_CONFIG) config: Pick<AgentConfig, 'HISTORY_BUDGET_TOKENS'>,
    private readonly relay: AnswerStreamRelay,
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) metrics: ServiceMetrics,
  ) {
    this.generatorModel = generator.model;
    this.deferred = new DeferredWrites({
      maxPending: MAX_DEFERRED_WRITES,
      retryMs: 1000,
      maxRetryMs: 30_000,
      logger,
      onChange: (pending) => metrics.deferredWrites.set(pending),
      onDrop: () => metrics.deferredWritesDropped.inc(),
    });
    this.exchanges = new ExchangeLog({
      writer: new ExchangeBatchRepository(dataSource),
      deferred: this.deferred,
      logger,
      intervalMs: RECORD_INTERVAL_MS,
      maxBatch: RECORD_MAX_BATCH,
      onLost: () => metrics.deferredWritesDropped.inc(),
    });
    this.conversations = new ConversationRecords(new ConversationRepository(dataSource), this.deferred, this.exchanges, logger);
    this.context = new ConversationContext({
      turnsOf: (tenantId, conversationId) => this.conversations.turns(tenantId, conversationId),
      historyBudgetTokens: config.HISTORY_BUDGET_TOKENS,
      model: followUpModel
        ? { ...followUpModel, onError: (error) => logger.warn('the model could not rewrite a follow-up question; enriched by rules instead', { error: (error as Error).message }) }
        : undefined,
    });
  }

  /** Runs after the workers have stopped (their last answers are buffered by then), before Postgres is closed. */
  async onApplicationShutdown(): Promise<void> {
    await this.exchanges.close();
    await this.deferred.close();
  }

  async answer(request: PayloadOf<typeof JobName.AnswerQuestion>): Promise<AnswerQuestionReply> {
    const started = performance.now();
    const stream = this.relay.open(request.stream?.id);
    this.agentMetrics.activeRequests.inc();
    try {
      // A conversation the client continues must be its tenant's, before any work is done for it.
      if (request.conversationId) await this.conversations.verify(request.tenantId, request.conversationId);
      const outcome = await this.respond(request, started, { emit: (event) => stream.emit(event), signal: stream.signal });
      this.conversations.record({
        exchange: {
          tenantId: request.tenantId,
          conversationId: outcome.reply.conversationId,
          startsConversation: request.conversationId === undefined,
          question: request.question,
          answer: outcome.reply.answer,
          citations: outcome.reply.citations,
        },
        log: {
          tenantId: request.tenantId,
          question: request.question,
          hitCount: outcome.hitCount,
          citationCount: outcome.reply.citations.length,
          generator: outcome.reply.generator,
          retrievalMs: outcome.reply.timings.retrievalMs,
          generationMs: outcome.reply.timings.generationMs,
          totalMs: outcome.reply.timings.totalMs,
          correlationId: request.correlationId ?? null,
        },
        trace: outcome.trace,
      });
      return outcome.reply;
    } finally {
      stream.close();
      this.agentMetrics.activeRequests.dec();
    }
  }

  /**
   * An answer that is not an exchange: no conversation, nothing in the query log (the answer
   * cache's warming asks on nobody's behalf, and must not count its own questions as asked).
   */
  async answerUnrecorded(request: Pick<Question, 'tenantId' | 'question' | 'topK' | 'filters'>): Promise<AnswerQuestionReply> {
    return (await this.respond(request, performance.now())).reply;
  }

  private async respond(request: Question, started: number, live?: Pick<AgentRun, 'emit' | 'signal'>) {
    const signal = live?.signal ?? new AbortController().signal;
    const run: AgentRun = { trace: new TraceRecorder(), emit: this.timedEmit(live?.emit, started), streaming: request.stream !== undefined, signal, tokensSent: false };
    const asked = await this.context.resolve(request, signal);
    if (asked.isFollowUp) run.trace.add({ type: 'decision', node: 'history', decision: 'follow-up', reason: `${asked.reason}; searched as "${asked.standalone}"` });

    const state = await this.run(run, {
      tenantId: request.tenantId,
      question: request.question,
      searchQuestion: asked.standalone,
      topK: request.topK ?? 6,
      filters: request.filters,
      history: asked.history,
      preferredDocumentIds: asked.preferredDocumentIds,
      maxRefinements: request.maxRefinements ?? this.settings.maxRefinements,
    });
    const answer = finalAnswer(state);
    if (run.streaming) streamFinished(answer, (event) => run.emit(event), run.tokensSent);

    // A new conversation gets its id here, so the answer can name it before its record is written.
    const conversationId = request.conversationId ?? randomUUID();
    const queryId = randomUUID();
    const evaluation = state.best?.evaluation ?? state.evaluation;
    const { promptTokens, completionTokens } = run.trace.usage;
    const reply: AnswerQuestionReply = {
      answer: answer.generated.answer,
      citations: answer.citations,
      generator: answer.generated.model,
      conversationId,
      timings: { retrievalMs: state.retrievalMs ?? 0, generationMs: state.generationMs ?? 0, totalMs: performance.now() - started },
      queryId,
      route: state.route,
      refinements: state.round ?? 0,
      ...(evaluation ? { evaluation: { groundedness: evaluation.groundedness, coverage: evaluation.coverage, citationValidity: evaluation.citationValidity, overall: evaluation.overall } } : {}),
      usage: { promptTokens, completionTokens, totalTokens: promptTokens + completionTokens },
    };
    this.observe(reply, run);
    const trace = queryTrace({ queryId, conversationId, question: request.question, reply, state, answer, trace: run.trace });
    return { reply, trace, hitCount: answer.hitCount };
  }

  /**
   * Records an exchange answered without this service (the gateway's answer cache) as an answered
   * one: it starts the conversation the reply named, and goes into the query log with its trace.
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
      ...(payload.queryId ? { trace: cachedExchangeTrace({ ...payload, queryId: payload.queryId }, new Date(Date.now() - payload.totalMs)) } : {}),
    });
  }

  /** Runs the graph; a failed model call is told to the client without the endpoint's own text. */
  private async run(run: AgentRun, input: Parameters<AgentFlow['run']>[0]) {
    try {
      return await this.flow.run(input, run);
    } catch (error) {
      if (!(error instanceof LlmEndpointError)) throw error;
      this.logger.error('the model endpoint failed', { error: error.message, baseUrl: error.baseUrl, status: error.status });
      throw modelFailure(error);
    }
  }

  /** The stream's emit, observing the time to the first answer token. */
  private timedEmit(emit: AgentRun['emit'] | undefined, started: number): AgentRun['emit'] {
    if (!emit) return () => undefined;
    let first = true;
    return (event) => {
      if (first && event.type === 'token') {
        first = false;
        this.agentMetrics.timeToFirstToken.observe({ model: this.generatorModel }, (performance.now() - started) / 1000);
      }
      emit(event);
    };
  }

  private observe(reply: AnswerQuestionReply, run: AgentRun): void {
    const metrics = this.agentMetrics;
    metrics.requestDuration.observe({ operation: run.streaming ? 'answer-stream' : 'answer', model: reply.generator, cache_hit: 'false' }, reply.timings.totalMs / 1000);
    if (reply.route) metrics.routes.inc({ route: reply.route });
    if (reply.evaluation) metrics.scores(reply.evaluation);
    for (const step of run.trace.steps) {
      if (step.type === 'refinement') metrics.refinements.inc({ action: step.action });
      if (step.type === 'model') {
        metrics.tokens.inc({ model: step.model, type: 'prompt' }, step.promptTokens);
        metrics.tokens.inc({ model: step.model, type: 'completion' }, step.completionTokens);
      }
    }
  }
}
