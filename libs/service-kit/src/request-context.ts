import type { Span } from '@opentelemetry/api';
import { type RequestContext, endServerSpan, inServerSpan, newCorrelationId, runWithContext, startServerSpan } from '@quarry/observability';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const CORRELATION_HEADER = 'x-correlation-id';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's correlation id and (once authenticated) tenant: the same object its log lines read. */
    requestContext?: RequestContext;
    /** The request's trace span, with tracing on. */
    serverSpan?: Span;
  }
}

/** The caller's `x-correlation-id` if it sent a sane one, else a new id. */
export function correlationIdFor(request: FastifyRequest): string {
  const offered = request.headers[CORRELATION_HEADER];
  return typeof offered === 'string' && /^[\w.:-]{1,128}$/.test(offered) ? offered : newCorrelationId();
}

/**
 * Runs every request, from its first hook on, inside its own context: the authentication hook,
 * guards, handlers, error filters and the access-log line all see one correlation id, the tenant
 * once authentication has set it (setCurrentTenant), and with tracing on the request's span.
 * Registered before any other hook.
 */
export function runRequestsInContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    const context: RequestContext = { correlationId: correlationIdFor(request) };
    request.requestContext = context;
    const route = request.routeOptions.url;
    // Probes and scrapes come every few seconds and say nothing about a request: not traced.
    const traced = !route?.startsWith('/health') && route !== '/metrics';
    request.serverSpan = traced ? startServerSpan({ method: request.method, route, headers: request.headers, correlationId: context.correlationId }) : undefined;
    runWithContext(context, () => inServerSpan(request.serverSpan, done));
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    endServerSpan(request.serverSpan, reply.statusCode);
    done();
  });
}
