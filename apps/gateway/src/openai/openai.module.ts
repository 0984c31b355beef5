import { Module } from '@nestjs/common';
import { QueryModule } from '../query/query.module';
import { OpenAiController } from './openai.controller';

/** GET /v1/models and POST /v1/chat/completions, answered like POST /api/query. */
@Module({
  imports: [QueryModule],
  controllers: [OpenAiController],
})
export class OpenAiModule {}
