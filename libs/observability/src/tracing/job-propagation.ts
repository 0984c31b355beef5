import { type Context, type Span, SpanKind, context, propagation, trace } from '@opentelemetry/api';
import { failSpan } from './spans';
import { tracingActive } from './start-tracing';

const tracer = () => trace.getTracer('quarry');

/** Where a job carries its producer's trace context: BullMQ's `opts.telemetry.metadata`, a JSON W3C carrier (bullmq-otel's format). */
export interface TracedJobOptions {
  telemetry?: { metadata?: string; omitContext?: boolean };
}

interface JobDescription {
  queue: string;
  jobName: string;
}

const messaging = (job: JobDescription, operation: 'send' | 'process') => ({
  'messaging.system': 'bullmq',
  'messaging.destination.name': job.queue,
  'messaging.operation.type': operation,
  'quarry.job.name': job.jobName,
});

/**
 * Adds a job (or a bulk of one name) inside a PRODUCER span `send <job name>` whose context the
 * job carries, so the consumer's span continues the trace. With tracing off it is `add` as is.
 */
export async function sendTraced<T>(job: JobDescription, add: (telemetry: TracedJobOptions['telemetry']) => Promise<T>): Promise<T> {
  if (!tracingActive()) return add(undefined);
  const span = tracer().startSpan(`send ${job.jobName}`, { kind: SpanKind.PRODUCER, attributes: messaging(job, 'send') });
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  try {
    return await add({ metadata: JSON.stringify(carrier) });
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** The producer's context a job carries, if any. */
function producerContext(options: TracedJobOptions | undefined): Context | undefined {
  const metadata = options?.telemetry?.metadata;
  if (!metadata) return undefined;
  try {
    return propagation.extract(context.active(), JSON.parse(metadata) as Record<string, string>);
  } catch {
    // A foreign producer's unreadable metadata starts a trace of its own.
    return undefined;
  }
}

/**
 * Runs a job's handling in a CONSUMER span `process <queue>`, the child of the span that sent the
 * job. Only the job's name, id and attempt go on the span — never its data or its result, which
 * hold tenants' documents and answers.
 */
export function processTraced<T>(job: JobDescription & { id?: string; attempt: number; options?: TracedJobOptions }, handle: () => Promise<T>): Promise<T> {
  if (!tracingActive()) return handle();
  const parent = producerContext(job.options) ?? context.active();
  const span: Span = tracer().startSpan(
    `process ${job.queue}`,
    { kind: SpanKind.CONSUMER, attributes: { ...messaging(job, 'process'), 'messaging.message.id': job.id ?? '', 'quarry.job.attempt': job.attempt } },
    parent,
  );
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await handle();
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
