import winston from 'winston';
import { trace } from '@opentelemetry/api';
import { currentCorrelationId, currentTenantId } from './correlation';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type Logger = winston.Logger;

const INVALID_TRACE_ID = '00000000000000000000000000000000';

const SECRET_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|cookie/i;

/** Replaces the values of secret-looking keys, however deep, before a line is written. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : redactSecrets(inner, depth + 1);
  }
  return out;
}

const addContext = winston.format((info) => {
  const correlationId = currentCorrelationId();
  if (correlationId && info.correlationId === undefined) info.correlationId = correlationId;
  const tenantId = currentTenantId();
  if (tenantId && info.tenantId === undefined) info.tenantId = tenantId;
  // With tracing on, a line leads to its trace; with it off there is no active span and nothing is added.
  const span = trace.getActiveSpan()?.spanContext();
  if (span && span.traceId !== INVALID_TRACE_ID) {
    info.trace_id ??= span.traceId;
    info.span_id ??= span.spanId;
  }
  for (const [key, inner] of Object.entries(info)) {
    if (typeof key === 'string' && SECRET_KEY.test(key)) info[key] = '[redacted]';
    else if (inner && typeof inner === 'object' && !(inner instanceof Error)) info[key] = redactSecrets(inner);
  }
  return info;
});

/** JSON lines on stdout: one object per event with time, level, service, correlation id, tenant and (with tracing on) trace and span ids. */
export function createLogger(options: { service: string; level: LogLevel; silent?: boolean }): Logger {
  return winston.createLogger({
    level: options.level,
    silent: options.silent ?? false,
    defaultMeta: { service: options.service },
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      addContext(),
      winston.format.timestamp(),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
