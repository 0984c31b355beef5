import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf, type ReplyOf } from '@quarry/contracts';
import { AnswerService } from '../services/answer.service';

@Controller()
export class AnswerQuestionJob {
  constructor(private readonly answers: AnswerService) {}

  @MessagePattern(JobName.AnswerQuestion)
  handle(@Payload() request: PayloadOf<typeof JobName.AnswerQuestion>): Promise<ReplyOf<typeof JobName.AnswerQuestion>> {
    return this.answers.answer(request);
  }
}
