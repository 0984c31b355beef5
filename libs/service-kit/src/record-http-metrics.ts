import { traceIdsOf } from '@quarry/observability';
import type { FastifyInstance } from 'fastify';
import type { BaseServiceConfig, ServiceKit } from './service-kit';

const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const;
/** Requests that matched no route are counted under this one label instead of their (client-chosen) paths. */
const UNMATCHED = 'unmatched';

/**
 * Counts and times every HTTP response by route pattern and logs one access line per request
 * (probes and scrapes excepted) with its correlation id and tenant. Every route's response counter
 * exists from boot at 0, so the first 5xx of an outage moves rate() instead of creating the series.
 * Registered before the app's routes, so onRoute sees each of them.
 */
export function recordHttpMetrics(fastify: FastifyInstance, kit: ServiceKit<BaseServiceConfig>): void {
  const { metrics, logger } = kit;
  const startAtZero = (method: string, route: string) => {
    for (const status_class of STATUS_CLASSES) metrics.httpResponses.inc({ method, route, status_class }, 0);
  };
  fastify.addHook('onRoute', (route) => {
    // HEAD routes are Fastify's automatic twins of GET routes.
    for (const method of [route.method].flat()) if (method !== 'HEAD') startAtZero(method, route.url);
  });
  for (const method of ['GET', 'POST']) startAtZero(method, UNMATCHED);

  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED;
    const status = reply.statusCode;
    metrics.httpRequestDuration.observe({ method: request.method, route, status_code: String(status) }, reply.elapsedTime / 1000);
    metrics.httpResponses.inc({ method: request.method, route, status_class: `${Math.floor(status / 100)}xx` });
    if (!route.startsWith('/health') && route !== '/metrics') {
      const context = request.requestContext;
      logger.info('http request', {
        method: request.method,
        route,
        status_code: String(status),
        durationMs: Math.round(reply.elapsedTime),
        correlationId: context?.correlationId,
        ...(context?.tenantId ? { tenantId: context.tenantId } : {}),
        ...traceIdsOf(request.serverSpan),
      });
    }
    done();
  });
}
