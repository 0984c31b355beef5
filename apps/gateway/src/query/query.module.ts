import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { AnswerStreamQuota } from './answer-stream-quota';
import { AnswerStreams } from './answer-streams';
import { QueryAnswers } from './query-answers';
import { QueryController } from './query.controller';

/** POST /api/query, and the answering (cache, agent, streams) the OpenAI-compatible API shares. */
@Module({
  imports: [CacheModule],
  controllers: [QueryController],
  providers: [QueryAnswers, AnswerStreams, AnswerStreamQuota],
  exports: [QueryAnswers, AnswerStreams, AnswerStreamQuota],
})
export class QueryModule {}
