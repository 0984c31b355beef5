import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import { AnswerService } from '../services/answer.service';

/** Exchanges answered by the gateway's answer cache, recorded like the agent's own answers: one per job, or many. */
@Controller()
export class RecordExchangeJob {
  constructor(private readonly answers: AnswerService) {}

  @EventPattern(JobName.RecordExchange)
  handle(@Payload() payload: PayloadOf<typeof JobName.RecordExchange>): void {
    this.answers.recordExchange(payload);
  }

  @EventPattern(JobName.RecordExchanges)
  handleMany(@Payload() payload: PayloadOf<typeof JobName.RecordExchanges>): void {
    for (const exchange of payload.exchanges) this.answers.recordExchange(exchange);
  }
}
