import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf, type WarmAnswersResult } from '@quarry/contracts';
import { AnswerCacheWarmer } from '../services/answer-cache-warmer';

/** Warms the answer cache with a tenant's most asked questions (the result is the job's return value). */
@Controller()
export class WarmAnswersJob {
  constructor(private readonly warmer: AnswerCacheWarmer) {}

  @EventPattern(JobName.WarmAnswers)
  handle(@Payload() payload: PayloadOf<typeof JobName.WarmAnswers>): Promise<WarmAnswersResult> {
    return this.warmer.warm(payload);
  }
}
