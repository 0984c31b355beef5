import { Body, Controller, Headers, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { type DependencyEndpoints, endpointsFromUrls } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { FastifyReply } from 'fastify';
import { Auth, type RequestAuth } from '../auth/request-auth';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { GatewayConfig } from '../config';
import { parseBody } from '../http/parse-body';
import { AnswerStreamQuota } from './answer-stream-quota';
import { type AnswerStreamFormat, CACHE_STATE_HEADER, streamAnswer } from './answer-sse';
import { AnswerStreams } from './answer-streams';
import { QueryAnswers } from './query-answers';
import { QueryBody } from './query.schemas';

/** Says whether the answer came from the gateway's answer cache (`hit`), the agent (`miss`), or the cache was not asked (`bypass`). */
export const CACHE_HEADER = CACHE_STATE_HEADER;

/** `POST /api/query`'s events: each agent event under its own name (data without `type`), `done` with the reply, `error` with the public error. */
export const QUERY_STREAM_FORMAT: AnswerStreamFormat = {
  event(sse, event) {
    if (event.type === 'done') {
      sse.send('done', event.reply);
      return;
    }
    const { type, ...data } = event;
    sse.send(type, data);
  },
  error(sse, { error, correlationId }) {
    sse.send('error', { code: error.code, message: error.message, ...(correlationId ? { correlationId } : {}) });
  },
};

/** `Accept: text/event-stream` asks for the streamed answer (as `"stream": true` does). */
export function acceptsEventStream(accept: string | undefined): boolean {
  return accept !== undefined && /(^|,)\s*text\/event-stream\s*(;|,|$)/i.test(accept);
}

/**
 * Questions go to the agent service over its queue; the answer comes back with its citations,
 * whole or (`"stream": true`, `Accept: text/event-stream`) as server-sent events while it is made.
 * A question the tenant asked before, on the same corpus, is answered from the answer cache
 * without a queue hop (streamed too); the exchange is still recorded by the agent, behind the reply.
 */
@Controller('api/query')
export class QueryController {
  private readonly endpoints: DependencyEndpoints;

  constructor(
    private readonly answers: QueryAnswers,
    private readonly streams: AnswerStreams,
    private readonly quota: AnswerStreamQuota,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<GatewayConfig, 'SSE_HEARTBEAT_MS' | 'DATABASE_URL' | 'REDIS_URL'>,
  ) {
    this.endpoints = endpointsFromUrls({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL });
  }

  @Post()
  @HttpCode(200)
  @RequiresRole('read')
  async ask(@Auth() auth: RequestAuth, @Body() body: unknown, @Headers('accept') accept: string | undefined, @Res() response: FastifyReply): Promise<void> {
    // `stream` says how to answer; it is not part of the question the agent gets.
    const { stream, ...asked } = parseBody(QueryBody, body);
    if (stream ?? acceptsEventStream(accept)) {
      const { answers, streams, quota, logger, endpoints } = this;
      await streamAnswer({ auth, asked, response, answers, streams, quota, logger, endpoints, heartbeatMs: this.config.SSE_HEARTBEAT_MS }, QUERY_STREAM_FORMAT);
      return;
    }
    const { reply, cache } = await this.answers.answer(auth.tenantId, asked);
    await response.header(CACHE_HEADER, cache).status(200).send(reply);
  }
}
