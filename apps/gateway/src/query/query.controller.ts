import { Body, Controller, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { JobName } from '@quarry/contracts';
import { JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { FastifyReply } from 'fastify';
import { RequiresRole } from '../auth/requires-role.decorator';
import { AnswerCache } from '../cache/answer-cache';
import { ExchangeRecorder } from '../cache/exchange-recorder';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { QueryBody, type QueryReply } from './query.schemas';

/** Says whether the answer came from the gateway's answer cache (`hit`), the agent (`miss`), or the cache was not asked (`bypass`). */
export const CACHE_HEADER = 'x-quarry-cache';

/**
 * Questions go to the agent service over its queue; the answer comes back with its citations. A
 * question the tenant asked before, on the same corpus, is answered from the answer cache without
 * a queue hop; the exchange is still recorded (conversation and query log) by the agent, behind
 * the reply.
 */
@Controller('api/query')
export class QueryController {
  constructor(
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    private readonly answers: AnswerCache,
    private readonly recorder: ExchangeRecorder,
  ) {}

  @Post()
  @HttpCode(200)
  @RequiresRole('read')
  async ask(@Tenant() tenantId: string, @Body() body: unknown, @Res({ passthrough: true }) response: FastifyReply): Promise<QueryReply> {
    const started = performance.now();
    const request = parseBody(QueryBody, body);
    const cached = await this.answers.lookup(tenantId, request);
    void response.header(CACHE_HEADER, cached.state);
    if (cached.state === 'hit') {
      const reply = AnswerCache.reply(cached.reply, performance.now() - started);
      this.record(tenantId, request, reply);
      return reply;
    }
    const reply = await this.jobs.request(JobName.AnswerQuestion, { tenantId, ...request });
    if (cached.state === 'miss') this.answers.remember(tenantId, request, cached.corpusVersion, reply);
    return reply;
  }

  /** The agent records a cached exchange as its own; the reply does not wait for it. */
  private record(tenantId: string, request: ReturnType<typeof QueryBody.parse>, reply: QueryReply): void {
    this.recorder.record({
      tenantId,
      question: request.question,
      filters: request.filters,
      topK: request.topK,
      conversationId: reply.conversationId,
      answer: reply.answer,
      citations: reply.citations,
      generator: reply.generator,
      source: 'answer-cache',
      totalMs: reply.timings.totalMs,
    });
  }
}
