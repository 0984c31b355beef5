import { ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import { tracingActive } from './start-tracing';

/** What the HTTP server span of one request is made from (the framework's view of it). */
export interface ServerRequest {
  method: string;
  /** The matched route pattern (never the raw path: its ids would make every name unique). */
  route?: string;
  headers: Record<string, string | string[] | undefined>;
  correlationId: string;
}

/**
 * The SERVER span of one HTTP request, `<method> <route>`, continuing the caller's trace when it
 * sent a `traceparent`; undefined with tracing off. Made by the framework's own hooks rather than by
 * OpenTelemetry's http instrumentation, which wraps every socket and emitter of the process to get
 * the same one span.
 */
export function startServerSpan(request: ServerRequest): Span | undefined {
  if (!tracingActive()) return undefined;
  const parent = propagation.extract(ROOT_CONTEXT, request.headers);
  const route = request.route ?? 'unmatched';
  return trace.getTracer('quarry').startSpan(
    `${request.method} ${route}`,
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': request.method, 'http.route': route, 'quarry.correlation_id': request.correlationId },
    },
    parent,
  );
}

/** Runs the rest of the request's handling with its span active (a no-op without one). */
export function inServerSpan<T>(span: Span | undefined, work: () => T): T {
  return span ? context.with(trace.setSpan(context.active(), span), work) : work();
}

export function endServerSpan(span: Span | undefined, statusCode: number): void {
  if (!span) return;
  span.setAttribute('http.response.status_code', statusCode);
  if (statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** The ids a log line about this span carries (none without a span). */
export function traceIdsOf(span: Span | undefined): { trace_id?: string; span_id?: string } {
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
