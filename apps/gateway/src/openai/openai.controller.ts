import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, Inject, Post, Res } from '@nestjs/common';
import { type DependencyEndpoints, endpointsFromUrls } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { FastifyReply } from 'fastify';
import { Auth, type RequestAuth } from '../auth/request-auth';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { GatewayConfig } from '../config';
import { type AnswerStreamFormat, CACHE_STATE_HEADER, streamAnswer } from '../query/answer-sse';
import { AnswerStreamQuota } from '../query/answer-stream-quota';
import { AnswerStreams } from '../query/answer-streams';
import { QueryAnswers } from '../query/query-answers';
import { ChunkWriter, chatCompletion, unixSeconds } from './chat-completion';
import { parseChatRequest } from './chat-request';
import { openAiErrorBody } from './openai-errors';
import { type ModelList, QUARRY_MODEL } from './openai.schemas';

/** When the model "was created", as /v1/models says: the first release of this API. */
const MODEL_CREATED = unixSeconds(new Date('2026-01-01T00:00:00Z'));

/** OpenAI's stream: unnamed `data:` lines, each a chunk, then `data: [DONE]`; an error is an `{"error":…}` line. */
function chatStreamFormat(writer: ChunkWriter): AnswerStreamFormat {
  return {
    // The role goes out as soon as the stream is open, as OpenAI's first chunk does.
    open(sse) {
      sse.send(undefined, writer.role());
    },
    event(sse, event) {
      if (event.type === 'token') sse.send(undefined, writer.content(event.delta));
      if (event.type !== 'done') return; // steps, sources and citations reach the client with the answer
      for (const chunk of writer.finish(event.reply)) sse.send(undefined, chunk);
      sse.send(undefined, '[DONE]');
    },
    error(sse, { error }) {
      sse.send(undefined, openAiErrorBody(error));
    },
  };
}

/**
 * The OpenAI-compatible API: stock OpenAI clients (the official SDKs, LangChain's ChatOpenAI …)
 * ask the caller's tenant with its API key as the Bearer token, and get answers that cite their
 * sources in a form they keep (see chat-completion.ts). Errors are in OpenAI's shape.
 */
@Controller('v1')
export class OpenAiController {
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

  @Get('models')
  @RequiresRole('read')
  models(): ModelList {
    return { object: 'list', data: [{ id: QUARRY_MODEL, object: 'model', created: MODEL_CREATED, owned_by: 'quarry' }] };
  }

  @Post('chat/completions')
  @HttpCode(200)
  @RequiresRole('read')
  async complete(@Auth() auth: RequestAuth, @Body() body: unknown, @Res() response: FastifyReply): Promise<void> {
    const { asked, stream, includeUsage } = parseChatRequest(body);
    const id = randomUUID();
    const created = unixSeconds();
    if (stream) {
      const writer = new ChunkWriter(id, created, includeUsage);
      const { answers, streams, quota, logger, endpoints } = this;
      await streamAnswer({ auth, asked, response, answers, streams, quota, logger, endpoints, heartbeatMs: this.config.SSE_HEARTBEAT_MS }, chatStreamFormat(writer));
      return;
    }
    const { reply, cache } = await this.answers.answer(auth.tenantId, asked);
    await response.header(CACHE_STATE_HEADER, cache).status(200).send(chatCompletion(reply, id, created));
  }
}
