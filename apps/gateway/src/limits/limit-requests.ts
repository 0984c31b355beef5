import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { type Logger, newCorrelationId } from '@quarry/observability';
import type { FastifyInstance, FastifyReply } from 'fastify';
import Redis from 'ioredis';
import type { GatewayConfig } from '../config';
import { sendError } from '../http/error-reply';
import { publicErrorOf } from '../http/public-error';
import { limitSubject } from './limit-subject';
import { type RateDecision, RequestRateLimiter } from './request-rate-limiter';

type RateLimitConfig = Pick<GatewayConfig, 'REDIS_URL' | 'REDIS_PREFIX' | 'RATE_LIMIT_PER_MINUTE' | 'RATE_LIMIT_BURST'>;

/** A counter update takes well under a millisecond; past this, Redis counts as down for that request. */
const REDIS_COMMAND_TIMEOUT_MS = 250;
/** The degraded mode is logged once per this long, not once per request. */
const FALLBACK_LOG_EVERY_MS = 60_000;

/**
 * Rate limits every authenticated request (see RequestRateLimiter), in an onRequest hook that
 * must be added right after authenticateRequests: it needs `request.auth`, and it must run before
 * anything costly (an upload's body is not read for a refused request). Public routes (health,
 * metrics, the API's documentation) have no `request.auth` and are never limited. Every limited
 * answer carries RateLimit-Limit / -Remaining / -Reset (the per-minute budget); a refusal is a
 * 429 RATE_LIMITED with Retry-After, the seconds until the window that refused has room again.
 * RATE_LIMIT_PER_MINUTE=0 turns it off.
 */
export async function limitRequests(fastify: FastifyInstance, config: RateLimitConfig, logger: Logger): Promise<void> {
  if (config.RATE_LIMIT_PER_MINUTE === 0) return;
  // A connection of its own: the counters' round trips do not queue behind anything else, and a
  // command that takes too long fails over to the in-process count instead of holding the request.
  const redis = new Redis(config.REDIS_URL, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectionName: 'quarry-gateway-rate-limit',
  });
  let degradedSince: number | undefined;
  let loggedAt = 0;
  redis.on('error', () => undefined); // reconnects by itself; the fallback below is what gets logged
  redis.on('ready', () => {
    if (degradedSince === undefined) return;
    logger.info('rate limits are counted in Redis again', { degradedForMs: Date.now() - degradedSince });
    degradedSince = undefined;
  });
  await redis.connect().catch(() => undefined);
  fastify.addHook('onClose', async () => {
    // QUIT lets Redis close the connection cleanly; when it cannot be sent, the socket is dropped.
    await redis.quit().catch(() => redis.disconnect());
  });

  const limiter = new RequestRateLimiter({
    redis,
    keyPrefix: `${config.REDIS_PREFIX}:rate-limit`,
    perMinute: config.RATE_LIMIT_PER_MINUTE,
    burst: config.RATE_LIMIT_BURST,
    onFallback: () => {
      degradedSince ??= Date.now();
      if (Date.now() - loggedAt < FALLBACK_LOG_EVERY_MS) return;
      loggedAt = Date.now();
      logger.warn('Redis is unreachable: rate limits are counted per gateway process until it is back (a caller may get its budget once per replica)');
    },
  });

  fastify.addHook('onRequest', async (request, reply) => {
    if (!request.auth) return;
    const subject = limitSubject(request.auth);
    let decision: RateDecision;
    try {
      decision = await limiter.take(subject.id);
    } catch (error) {
      // Not a refusal and not a Redis outage (those are counted in-process): a bug in the limiter.
      // The request goes on, unlimited, rather than failing because of the limiter.
      logger.error('rate limiter failed; request let through unlimited', { error: (error as Error).message, stack: (error as Error).stack });
      return;
    }
    setRateLimitHeaders(reply, decision);
    if (decision.allowed) return;
    const window = decision.refusedBy === 'second' ? `${config.RATE_LIMIT_BURST} requests a second` : `${config.RATE_LIMIT_PER_MINUTE} requests a minute`;
    const refusal = publicErrorOf(new DomainError(ErrorCode.RateLimited, `too many requests for this ${subject.noun}: at most ${window}; retry in ${decision.retryAfterSeconds} s`));
    // Sent from here rather than thrown, so that Retry-After is this window's and not the code's default.
    sendError(reply, { ...refusal, retryAfterSeconds: decision.retryAfterSeconds }, newCorrelationId());
    return reply;
  });
}

/** The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers), for the per-minute budget. */
function setRateLimitHeaders(reply: FastifyReply, decision: RateDecision): void {
  void reply.header('ratelimit-limit', String(decision.limit));
  void reply.header('ratelimit-remaining', String(decision.remaining));
  void reply.header('ratelimit-reset', String(decision.resetSeconds));
}
