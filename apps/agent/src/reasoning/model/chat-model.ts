import { DEFAULT_LLM_TIMEOUT_MS, type EndpointErrorContext, type OpenAiEndpointOptions, createOpenAiClient, toEndpointError, trimTrailingSlashes } from '@quarry/llm';
import { type ModelCallDescription, ModelCallSpan, traceModelCall } from '@quarry/observability';
import type OpenAI from 'openai';
import type { ModelCallListener } from '../judgements';

export interface ChatModelOptions extends OpenAiEndpointOptions {
  model: string;
  /** 0 by default: judgements should be reproducible. */
  temperature?: number;
  /**
   * How structured outputs are asked for: `json_schema` (the schema enforced by the server: OpenAI,
   * vLLM, llama.cpp, recent Ollama) or `json_object` (any JSON; for servers without schemas). Either
   * way the schema is also written in the prompt and the reply is validated by zod.
   */
  structuredOutput?: 'json_schema' | 'json_object';
}

/** One call's bookkeeping: what it is for (the trace's `purpose`), where its usage goes, when to stop. */
export interface ModelCall {
  purpose: string;
  signal: AbortSignal;
  onModelCall: ModelCallListener;
}

/**
 * The chat model the judgements share: one `openai` client, endpoint errors translated to
 * LlmEndpointError (no key, no upstream secrets), and every completion's tokens and duration told
 * to the query's listener, so the trace and the token metrics see each call, repairs included.
 */
export class ChatModel {
  readonly model: string;
  readonly temperature: number;
  readonly structuredOutput: 'json_schema' | 'json_object';
  private readonly client: OpenAI;
  private readonly errorContext: EndpointErrorContext;

  constructor(options: ChatModelOptions) {
    this.model = options.model;
    this.temperature = options.temperature ?? 0;
    this.structuredOutput = options.structuredOutput ?? 'json_schema';
    // The client's own default is ten minutes: a judgement that waits that long is worse than its fallback.
    const timeoutMs = options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
    this.client = createOpenAiClient({ ...options, timeoutMs });
    this.errorContext = { baseUrl: trimTrailingSlashes(options.baseUrl), apiKey: options.apiKey, timeoutMs, operation: `chat completion with model "${options.model}"` };
  }

  async complete(params: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, 'model' | 'stream'>, call: ModelCall): Promise<OpenAI.ChatCompletion> {
    const started = performance.now();
    let completion: OpenAI.ChatCompletion;
    try {
      completion = await traceModelCall(this.callDescription(call), () =>
        this.client.chat.completions.create({ model: this.model, temperature: this.temperature, ...params, stream: false }, { signal: call.signal }),
      );
    } catch (error) {
      throw toEndpointError(error, { ...this.errorContext, operation: `${call.purpose} (${this.errorContext.operation})`, elapsedMs: performance.now() - started });
    }
    this.report(call, completion.usage, started);
    return completion;
  }

  /**
   * The reply's text as deltas, the usage asked for at the end of the stream
   * (`stream_options.include_usage`) and reported once the stream ended.
   */
  async *stream(params: Omit<OpenAI.ChatCompletionCreateParamsStreaming, 'model' | 'stream' | 'stream_options'>, call: ModelCall): AsyncIterable<string> {
    const started = performance.now();
    let usage: OpenAI.CompletionUsage | undefined;
    const span = new ModelCallSpan(this.callDescription(call));
    try {
      const chunks = await span.run(() =>
        this.client.chat.completions.create(
          { model: this.model, temperature: this.temperature, ...params, stream: true, stream_options: { include_usage: true } },
          { signal: call.signal },
        ),
      );
      for await (const chunk of chunks) {
        if (chunk.usage) usage = chunk.usage;
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) yield delta;
      }
      span.usage(usage);
    } catch (error) {
      span.fail(error);
      throw toEndpointError(error, { ...this.errorContext, operation: `${call.purpose} (${this.errorContext.operation})`, elapsedMs: performance.now() - started });
    } finally {
      span.end();
    }
    this.report(call, usage, started);
  }

  private callDescription(call: ModelCall): ModelCallDescription {
    return { operation: 'chat', model: this.model, baseUrl: this.errorContext.baseUrl, purpose: call.purpose };
  }

  private report(call: ModelCall, usage: OpenAI.CompletionUsage | undefined, started: number): void {
    call.onModelCall({
      model: this.model,
      purpose: call.purpose,
      promptTokens: usage?.prompt_tokens ?? 0,
      completionTokens: usage?.completion_tokens ?? 0,
      durationMs: performance.now() - started,
    });
  }
}
