import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { QueueName } from '@quarry/contracts';
import { type AnswerGenerator, ContextPacker, OpenAiQueryRewriter, answerGeneratorConfigFromEnv, createAnswerGenerator } from '@quarry/llm';
import { TieredCache } from '@quarry/cache';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG, ServiceCacheModule, modelDeepHealth, queueDeepHealth } from '@quarry/service-kit';
import { agentProviders } from './agent-providers';
import type { AgentConfig } from './config';
import { AnswerQuestionJob } from './jobs/answer-question.job';
import { RecordExchangeJob } from './jobs/record-exchange.job';
import { WarmAnswersJob } from './jobs/warm-answers.job';
import { AnswerCacheWarmer } from './services/answer-cache-warmer';
import { AnswerService } from './services/answer.service';
import { LlmResponseCache } from './services/llm-response-cache';
import { ANSWER_STREAM_RELAY, AnswerStreamRelay } from './streaming/answer-stream-relay';
import type { QueryExpansion } from './graph/agent-graph';
import { ANSWER_GENERATOR, CONTEXT_BUDGET, QUERY_EXPANSION } from './tokens';

@Module({
  imports: [ServiceCacheModule.forService('agent')],
  controllers: [AnswerQuestionJob, RecordExchangeJob, WarmAnswersJob],
  providers: [
    ...agentProviders,
    // Deep health: searches go to retrieval; the chat model when LLM_* are set.
    queueDeepHealth({ sendsTo: [QueueName.Retrieval] }),
    modelDeepHealth(['llm']),
    AnswerService,
    AnswerCacheWarmer,
    AnswerStreamRelay,
    { provide: ANSWER_STREAM_RELAY, useExisting: AnswerStreamRelay },
    {
      provide: CONTEXT_BUDGET,
      inject: [SERVICE_CONFIG],
      useFactory: (config: AgentConfig) => ({ packer: new ContextPacker(), budgetTokens: config.CONTEXT_BUDGET_TOKENS, strategy: config.CONTEXT_STRATEGY }),
    },
    {
      provide: QUERY_EXPANSION,
      inject: [SERVICE_CONFIG, LOGGER],
      useFactory: (config: AgentConfig, logger: Logger): QueryExpansion | null =>
        config.QUERY_VARIANTS > 0 && config.LLM_BASE_URL && config.LLM_MODEL
          ? {
              rewriter: new OpenAiQueryRewriter({ baseUrl: config.LLM_BASE_URL, model: config.LLM_MODEL, apiKey: config.LLM_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS }),
              count: config.QUERY_VARIANTS,
              onError: (error) => logger.warn('query rewriting failed; searching the question alone', { error: (error as Error).message }),
            }
          : null,
    },
    {
      provide: ANSWER_GENERATOR,
      inject: [SERVICE_CONFIG, TieredCache],
      useFactory: (config: AgentConfig, cache: TieredCache) =>
        createAnswerGenerator(
          answerGeneratorConfigFromEnv(config),
          config.LLM_RESPONSE_CACHE_TTL_SECONDS > 0 ? new LlmResponseCache(cache, config.LLM_RESPONSE_CACHE_TTL_SECONDS * 1000) : undefined,
        ),
    },
  ],
})
export class AgentModule implements OnApplicationBootstrap {
  constructor(
    @Inject(ANSWER_GENERATOR) private readonly generator: AnswerGenerator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.logger.info('answer generator selected', { generator: this.generator.model });
  }
}
