import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { NodeSDK } from '@opentelemetry/sdk-node';

let sdk: NodeSDK | undefined;

/** Tracing is off unless an OTLP endpoint is configured (the OpenTelemetry variables, read by the SDK itself). */
export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Starts OpenTelemetry tracing for one service process when an OTLP endpoint is configured:
 * spans for Postgres and Redis calls (only inside a traced request or job, so BullMQ's idle polling
 * is not traced), exported over OTLP; HTTP requests, jobs, agent steps and model calls get their
 * spans from Quarry's own code (server-span, job-propagation, spans). Runs from the first
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
    instrumentations: databaseInstrumentations(env),
  });
  sdk.start();
  return true;
}

/**
 * Postgres and Redis spans, minus those OTEL_NODE_DISABLED_INSTRUMENTATIONS names (`pg`, `ioredis`,
 * comma-separated, as in OpenTelemetry's auto-instrumentations). Their wrappers run for every query
 * and command of a traced request, sampled or not: about 0.3 ms of CPU per query here (README,
 * Benchmarks), which sampling does not save.
 */
function databaseInstrumentations(env: NodeJS.ProcessEnv): Instrumentation[] {
  const disabled = new Set((env.OTEL_NODE_DISABLED_INSTRUMENTATIONS ?? '').split(',').map((name) => name.trim()));
  return [
    // A pool checkout is not a query: its spans doubled Postgres' share of every trace.
    ...(disabled.has('pg') ? [] : [new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true })]),
    // The command name only: the default statement carries every argument of an EVALSHA — BullMQ's
    // job payloads and the cache's values, i.e. tenants' data — into the traces (and cost the most).
    ...(disabled.has('ioredis') ? [] : [new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command: string) => command })]),
  ];
}

/** Sends the spans still buffered and stops tracing (part of a graceful shutdown). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown().catch(() => undefined);
}

/** Whether this process traces (startTracing ran with an endpoint configured). */
export function tracingActive(): boolean {
  return sdk !== undefined;
}

/**
 * Runs `start` outside any trace: for long-lived loops (a queue's event reader) that a request
 * happens to open lazily, which would otherwise make every later command of the loop a child of
 * that one request's span.
 */
export function outsideAnyTrace<T>(start: () => T): T {
  return context.with(ROOT_CONTEXT, start);
}
