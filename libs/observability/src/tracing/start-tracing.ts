import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Telemetry } from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';

/** Probes and scrapes arrive every few seconds and say nothing about a request: they are not traced. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|\?|$)/;

let sdk: NodeSDK | undefined;

/** Tracing is off unless an OTLP endpoint is configured (the OpenTelemetry variables, read by the SDK itself). */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts OpenTelemetry tracing for one service process when an OTLP endpoint is configured:
 * spans for incoming and outgoing HTTP, Postgres and Redis calls (only inside a traced request or
 * job, so BullMQ's idle polling is not traced), exported over OTLP. Runs from the first
 * import of each service's main.ts, before the modules it instruments are loaded. Returns whether
 * tracing is on.
 */
export function startTracing(service: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (sdk) return true;
  if (!tracingConfigured(env)) return false;
  // Quarry's metrics are Prometheus' and its logs are JSON lines: the SDK exports traces only.
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || `quarry-${service}`,
    // No exporter given: the SDK builds the OTLP one the standard variables ask for
    // (OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf by default, http/json, grpc).
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? '') }),
      // A pool checkout is not a query: its spans doubled Postgres' share of every trace.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return true;
}

/** Sends the spans still buffered and stops tracing (part of a graceful shutdown). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown().catch(() => undefined);
}

/**
 * BullMQ's OpenTelemetry hook when tracing is on: a job added inside a span carries that span's
 * context in its options, and the worker runs the job in a child span, so a trace follows a request
 * across every queue hop. Undefined with tracing off, so BullMQ does no tracing work at all.
 */
export function queueTelemetry(): Telemetry | undefined {
  return sdk ? new BullMQOtel('quarry') : undefined;
}

/**
 * Runs `start` outside any trace: for long-lived loops (a queue's event reader) that a request
 * happens to open lazily, which would otherwise make every later command of the loop a child of
 * that one request's span.
 */
export function outsideAnyTrace<T>(start: () => T): T {
  return context.with(ROOT_CONTEXT, start);
}
