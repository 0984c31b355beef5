import { Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { type AnswerGenerator, ContextPacker, answerGeneratorConfigFromEnv, createAnswerGenerator } from '@quarry/llm';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { AgentConfig } from './config';
import { AnswerQuestionJob } from './jobs/answer-question.job';
import { AnswerService } from './services/answer.service';
import { ANSWER_GENERATOR, CONTEXT_BUDGET } from './tokens';

@Module({
  controllers: [AnswerQuestionJob],
  providers: [
    AnswerService,
    {
      provide: CONTEXT_BUDGET,
      inject: [SERVICE_CONFIG],
      useFactory: (config: AgentConfig) => ({ packer: new ContextPacker(), budgetTokens: config.CONTEXT_BUDGET_TOKENS, strategy: config.CONTEXT_STRATEGY }),
    },
    {
      provide: ANSWER_GENERATOR,
      inject: [SERVICE_CONFIG],
      useFactory: (config: AgentConfig) => createAnswerGenerator(answerGeneratorConfigFromEnv(config)),
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
