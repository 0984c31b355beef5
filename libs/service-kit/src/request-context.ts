import { trace } from '@opentelemetry/api';
import { type RequestContext, newCorrelationId, runWithContext } from '@quarry/observability';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const CORRELATION_HEADER = 'x-correlation-id';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's correlation id and (once authenticated) tenant: the same object its log lines read. */
    requestContext?: RequestContext;
  }
}

/** The caller's `x-correlation-id` if it sent a sane one, else a new id. */
export function correlationIdFor(request: FastifyRequest): string {
  const offered = request.headers[CORRELATION_HEADER];
  return typeof offered === 'string' && /^[\w.:-]{1,128}$/.test(offered) ? offered : newCorrelationId();
}

/**
 * Runs every request, from its first hook on, inside its own context: the authentication hook,
 * guards, handlers, error filters and the access-log line all see one correlation id, and the
 * tenant once authentication has set it (setCurrentTenant). Registered before any other hook.
 */
export function runRequestsInContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const context: RequestContext = { correlationId: correlationIdFor(request) };
    request.requestContext = context;
    // The HTTP server span knows the method only; the route pattern and the id a client quotes find it.
    const span = trace.getActiveSpan();
    if (span && request.routeOptions.url) {
      span.updateName(`${request.method} ${request.routeOptions.url}`);
      span.setAttribute('http.route', request.routeOptions.url);
    }
    span?.setAttribute('quarry.correlation_id', context.correlationId);
    runWithContext(context, done);
  });
}
