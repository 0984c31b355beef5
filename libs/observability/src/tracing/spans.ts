import { type Attributes, type Span, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';

const tracer = () => trace.getTracer('quarry');

/** Marks a span failed with the error's class and message (never a payload). */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/**
 * Runs `work` in a child span of whatever is active (an HTTP request, a job). With tracing off the
 * tracer is OpenTelemetry's no-op one: the cost is one function call.
 */
export async function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failSpan(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** What one model call is, in the OpenTelemetry GenAI semantic conventions. */
export interface ModelCallDescription {
  /** `chat` or `embeddings` (gen_ai.operation.name). */
  operation: 'chat' | 'embeddings';
  model: string;
  /** The endpoint's base URL; only its host and port go on the span. */
  baseUrl: string;
  /** What the call is for in Quarry (answer, plan, evaluate, analyze …). */
  purpose?: string;
}

/**
 * A span around one model call (`chat gpt-4o-mini`), kind CLIENT, with the gen_ai.* request
 * attributes; the caller adds the usage when the reply (or the stream's last chunk) reports it.
 * Started by hand because streamed answers outlive any single callback.
 */
export class ModelCallSpan {
  readonly span: Span;

  constructor(call: ModelCallDescription) {
    const server = serverOf(call.baseUrl);
    this.span = tracer().startSpan(`${call.operation} ${call.model}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.operation.name': call.operation,
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': call.model,
        ...(server ? { 'server.address': server.host, 'server.port': server.port } : {}),
        ...(call.purpose ? { 'quarry.model_call.purpose': call.purpose } : {}),
      },
    });
  }

  /** Runs the request inside this span, so anything it traces (HTTP) is its child. */
  run<T>(work: () => T): T {
    return context.with(trace.setSpan(context.active(), this.span), work);
  }

  usage(usage: { prompt_tokens?: number; completion_tokens?: number } | undefined, responseModel?: string, finishReason?: string | null): void {
    if (usage?.prompt_tokens !== undefined) this.span.setAttribute('gen_ai.usage.input_tokens', usage.prompt_tokens);
    if (usage?.completion_tokens !== undefined) this.span.setAttribute('gen_ai.usage.output_tokens', usage.completion_tokens);
    if (responseModel) this.span.setAttribute('gen_ai.response.model', responseModel);
    if (finishReason) this.span.setAttribute('gen_ai.response.finish_reasons', [finishReason]);
  }

  fail(error: unknown): void {
    failSpan(this.span, error);
  }

  end(): void {
    this.span.end();
  }
}

function serverOf(baseUrl: string): { host: string; port: number } | undefined {
  try {
    const url = new URL(baseUrl);
    return { host: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
  } catch {
    return undefined;
  }
}

/** The parts of a chat completion or embeddings reply a span records. */
interface ModelReply {
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  model?: string;
  choices?: ReadonlyArray<{ finish_reason?: string | null }>;
}

/** A whole (not streamed) model call in its span, with the reply's usage, model and finish reason. */
export async function traceModelCall<T extends ModelReply>(call: ModelCallDescription, request: () => Promise<T>): Promise<T> {
  const span = new ModelCallSpan(call);
  try {
    const reply = await span.run(request);
    span.usage(reply.usage ?? undefined, reply.model, reply.choices?.[0]?.finish_reason);
    return reply;
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}
