import cors from '@fastify/cors';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { GatewayConfig } from '../config';
import { CORRELATION_HEADER } from '../http/error-reply';

/** What a browser page on an allowed origin may send, and read from the answers. */
const ALLOWED_HEADERS = ['authorization', 'x-api-key', 'content-type', CORRELATION_HEADER];
const EXPOSED_HEADERS = [CORRELATION_HEADER, 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'www-authenticate'];
/** How long a browser may reuse a preflight answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for browser apps on other origins, off unless CORS_ORIGINS lists them: with no list, no
 * Access-Control-Allow-Origin is ever sent, so browsers keep other sites' scripts from reading
 * answers. Keys travel in headers, never cookies, so credentials stay off (and `*` is safe to
 * allow). Registered before authentication: a preflight carries no key, and a 401 or 429 must
 * reach the page readable, not as an opaque network error.
 */
export async function registerCors(app: NestFastifyApplication, config: Pick<GatewayConfig, 'CORS_ORIGINS'>): Promise<void> {
  if (config.CORS_ORIGINS.length === 0) return;
  await app.register(cors, {
    origin: config.CORS_ORIGINS.includes('*') ? '*' : config.CORS_ORIGINS,
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    credentials: false,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  });
}
