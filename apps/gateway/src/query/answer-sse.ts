import { ErrorCode } from '@quarry/contracts';
import { DomainError, type DependencyEndpoints } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import type { FastifyReply } from 'fastify';
import type { RequestAuth } from '../auth/request-auth';
import { CORRELATION_HEADER } from '../http/error-reply';
import { type PublicError, publicErrorLogged } from '../http/public-error';
import { limitSubject } from '../limits/limit-subject';
import type { AnswerStreamQuota } from './answer-stream-quota';
import type { AnswerStreams } from './answer-streams';
import type { AnswerEvent, AskedQuestion, QueryAnswers } from './query-answers';
import { SseResponse } from './sse-response';

/** Sent to the streams still open when the gateway shuts down. */
export const SHUTDOWN_MESSAGE = 'the gateway is shutting down; ask again';

export interface StreamAnswerContext {
  auth: RequestAuth;
  asked: AskedQuestion;
  response: FastifyReply;
  answers: QueryAnswers;
  streams: AnswerStreams;
  quota: AnswerStreamQuota;
  logger: Logger;
  heartbeatMs: number;
  endpoints?: DependencyEndpoints;
}

/** An error as a stream tells it: the public error and the request's correlation id. */
export interface StreamFailure {
  error: PublicError;
  correlationId: string | undefined;
}

export interface AnswerStreamFormat {
  /** Writes what comes before the answer's events, once the stream is open. */
  open?(sse: SseResponse): void;
  /** Writes one event of the answer (all but errors); the stream ends after `done`. */
  event(sse: SseResponse, event: Exclude<AnswerEvent, { type: 'error' }>): void;
  /** Writes the failure; the stream ends after it. */
  error(sse: SseResponse, failure: StreamFailure): void;
}

/** The name of the response header that says where the answer came from. */
export const CACHE_STATE_HEADER = 'x-quarry-cache';

/**
 * Streams one answer as server-sent events, in the format given (`POST /api/query`'s named
 * events, or OpenAI's chunks). What can fail before the first byte (the stream quota, the cache,
 * Redis) fails as a normal error response; after it, as the format's error event. A client that
 * leaves cancels the answer (the agent is told); a gateway shutting down ends its open streams.
 */
export async function streamAnswer(context: StreamAnswerContext, format: AnswerStreamFormat): Promise<void> {
  const { response, logger } = context;
  const release = context.quota.acquire(limitSubject(context.auth));
  let prepared: Awaited<ReturnType<QueryAnswers['prepare']>>;
  try {
    prepared = await context.answers.prepare(context.auth.tenantId, context.asked);
  } catch (error) {
    release();
    throw error;
  }
  const stamped = response.getHeader(CORRELATION_HEADER);
  const correlationId = typeof stamped === 'string' ? stamped : undefined;
  // Headers already set for the reply (correlation id, rate limit, CORS) go out with the stream.
  void response.header(CACHE_STATE_HEADER, prepared.cache);
  const headers = Object.fromEntries(Object.entries(response.getHeaders()).filter((entry): entry is [string, string | number | string[]] => entry[1] !== undefined));
  response.hijack();
  const sse = new SseResponse(response.raw, { heartbeatMs: context.heartbeatMs, headers });
  const fail = (error: unknown) => {
    const failure = publicErrorLogged(error, logger, { correlationId, streamed: true }, { endpoints: context.endpoints });
    format.error(sse, { error: failure, correlationId });
    sse.end();
  };
  let cancel: () => void = () => undefined;
  const untrack = context.streams.track(() => {
    cancel();
    fail(new DomainError(ErrorCode.ServiceUnavailable, SHUTDOWN_MESSAGE));
  });
  sse.whenEnded(() => {
    release();
    untrack();
  });
  sse.whenClientGone(() => cancel());
  format.open?.(sse);
  cancel = prepared.run((event) => {
    if (sse.ended) return;
    if (event.type === 'error') {
      fail(event.error);
      return;
    }
    format.event(sse, event);
    if (event.type === 'done') sse.end();
  });
  // The cache replays its answer at once: nothing is left to cancel.
  if (sse.ended) cancel = () => undefined;
}
