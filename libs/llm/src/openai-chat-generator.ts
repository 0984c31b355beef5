import { type ModelCallDescription, ModelCallSpan, traceModelCall } from '@quarry/observability';
import type OpenAI from 'openai';
import type { AnswerGenerator, ChatUsage, ChatUsageListener, GeneratedAnswer, Passage } from './answer-generator.port';
import { buildGroundedAnswerMessages } from './chat-prompt';
import type { CompletionCache, CompletionRequest } from './completion-cache.port';
import { parseCitedPassageIndexes } from './citations';
import { toEndpointError, type EndpointErrorContext } from './endpoint-error';
import { NO_ANSWER_TEXT } from './no-answer';
import { createOpenAiClient, trimTrailingSlashes, type OpenAiEndpointOptions } from './openai-client';

export const DEFAULT_ANSWER_MAX_TOKENS = 512;
export const DEFAULT_LLM_TIMEOUT_MS = 60_000;

export interface OpenAiChatGeneratorOptions extends OpenAiEndpointOptions {
  model: string;
  maxTokens?: number;
  /** 0 by default: answers should be reproducible and stick to the passages, not be creative. */
  temperature?: number;
  /** Completions kept and reused for the same request (model, messages, parameters). */
  cache?: CompletionCache;
  /** Reuse cached completions even when the temperature is above 0 (default: deterministic requests only). */
  cacheNonDeterministic?: boolean;
  /** Told of every completion the model made (not of cache hits), e.g. for token metrics. */
  onUsage?: ChatUsageListener;
  /**
   * Ask for the usage at the end of a stream (`stream_options.include_usage`, default true). Turn it
   * off for a server that refuses the option; streams then report no token counts.
   */
  streamUsage?: boolean;
}

/** Tokens and time of one chat completion. */
export type { ChatUsage, ChatUsageListener };

/** Grounded answers from any server that speaks OpenAI's `POST /chat/completions`. */
export class OpenAiChatGenerator implements AnswerGenerator {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly maxTokens: number;
  private readonly temperature: number;
  private readonly errorContext: EndpointErrorContext;
  private readonly cache: CompletionCache | undefined;
  private readonly onUsage: ChatUsageListener | undefined;
  private readonly streamUsage: boolean;

  constructor(options: OpenAiChatGeneratorOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
    this.model = options.model;
    this.maxTokens = options.maxTokens ?? DEFAULT_ANSWER_MAX_TOKENS;
    this.temperature = options.temperature ?? 0;
    this.client = createOpenAiClient({ ...options, timeoutMs });
    this.onUsage = options.onUsage;
    this.streamUsage = options.streamUsage ?? true;
    this.cache = options.cache && (this.temperature === 0 || options.cacheNonDeterministic) ? options.cache : undefined;
    this.errorContext = {
      baseUrl: trimTrailingSlashes(options.baseUrl),
      apiKey: options.apiKey,
      timeoutMs,
      operation: `chat completion with model "${options.model}"`,
    };
  }

  /** `onUsage` is told of this call's completion (none when the cache answers), besides the constructor's listener. */
  async generate(question: string, passages: Passage[], signal?: AbortSignal, onUsage?: ChatUsageListener): Promise<GeneratedAnswer> {
    if (passages.length === 0) return { answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: this.model };
    const request = this.request(question, passages);
    const answer = (await this.cached(request)) ?? (await this.complete(request, signal, onUsage));
    if (answer === '') return { answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: this.model };
    return { answer, citedPassageIndexes: citedIn(answer, passages), model: this.model };
  }

  private async complete(request: OpenAI.ChatCompletionCreateParamsNonStreaming, signal?: AbortSignal, onUsage?: ChatUsageListener): Promise<string> {
    let completion: OpenAI.ChatCompletion;
    const startedAt = performance.now();
    try {
      completion = await traceModelCall(this.callDescription(), () => this.client.chat.completions.create({ ...request, stream: false }, { signal }));
    } catch (error) {
      throw toEndpointError(error, { ...this.errorContext, elapsedMs: performance.now() - startedAt });
    }
    this.report(completion.usage, startedAt, onUsage);
    const answer = completion.choices[0]?.message.content?.trim() ?? '';
    // Only a completion that ended by itself is kept: one cut off by max_tokens or a filter is not the answer.
    if (answer !== '' && completion.choices[0]?.finish_reason === 'stop') await this.keep(request, answer);
    return answer;
  }

  /** `onUsage` is told of the stream's usage once it ended (none when the cache answers). */
  async *stream(question: string, passages: Passage[], signal?: AbortSignal, onUsage?: ChatUsageListener): AsyncIterable<string> {
    if (passages.length === 0) {
      yield NO_ANSWER_TEXT;
      return;
    }
    const request = this.request(question, passages);
    const cached = await this.cached(request);
    if (cached !== undefined) {
      yield cached;
      return;
    }
    const startedAt = performance.now();
    let text = '';
    let finished = false;
    let usage: OpenAI.CompletionUsage | undefined;
    const span = new ModelCallSpan(this.callDescription());
    try {
      // stream_options is not part of the request the cache keys: a streamed and a whole answer are the same answer.
      const chunks = await span.run(() =>
        this.client.chat.completions.create({ ...request, stream: true, ...(this.streamUsage ? { stream_options: { include_usage: true } } : {}) }, { signal }),
      );
      for await (const chunk of chunks) {
        // With include_usage the counts come in a last chunk without choices.
        if (chunk.usage) usage = chunk.usage;
        const delta = chunk.choices[0]?.delta?.content;
        if (chunk.choices[0]?.finish_reason === 'stop') finished = true;
        if (delta) {
          text += delta;
          yield delta;
        }
      }
      span.usage(usage, undefined, finished ? 'stop' : undefined);
    } catch (error) {
      span.fail(error);
      throw toEndpointError(error, { ...this.errorContext, elapsedMs: performance.now() - startedAt });
    } finally {
      span.end();
    }
    this.report(usage, startedAt, onUsage);
    if (finished && text.trim() !== '') await this.keep(request, text.trim());
  }

  private callDescription(): ModelCallDescription {
    return { operation: 'chat', model: this.model, baseUrl: this.errorContext.baseUrl, purpose: 'answer' };
  }

  /** A listener's fault is never the answer's: it is told, and whatever it throws is dropped. */
  private report(usage: OpenAI.CompletionUsage | undefined, startedAt: number, onUsage: ChatUsageListener | undefined): void {
    const record: ChatUsage = {
      model: this.model,
      promptTokens: usage?.prompt_tokens ?? 0,
      completionTokens: usage?.completion_tokens ?? 0,
      durationMs: performance.now() - startedAt,
      reported: usage !== undefined,
    };
    for (const listener of [this.onUsage, onUsage]) {
      try {
        listener?.(record);
      } catch {
        // ignored on purpose: counting tokens must not fail an answer
      }
    }
  }

  /** A cache fault is never the answer's: a failing lookup is a miss, a failing write is dropped. */
  private async cached(request: OpenAI.ChatCompletionCreateParamsNonStreaming): Promise<string | undefined> {
    return this.cache?.get(cacheRequest(request)).catch(() => undefined);
  }

  private async keep(request: OpenAI.ChatCompletionCreateParamsNonStreaming, text: string): Promise<void> {
    await this.cache?.set(cacheRequest(request), text).catch(() => undefined);
  }

  private request(question: string, passages: Passage[]): OpenAI.ChatCompletionCreateParamsNonStreaming {
    return {
      model: this.model,
      messages: buildGroundedAnswerMessages(question, passages),
      temperature: this.temperature,
      // `max_tokens` rather than `max_completion_tokens`: it is the one Ollama, vLLM and llama.cpp understand.
      max_tokens: this.maxTokens,
    };
  }
}

function cacheRequest(request: OpenAI.ChatCompletionCreateParamsNonStreaming): CompletionRequest {
  const { model, messages, ...params } = request;
  return { model, messages, params };
}

function citedIn(answer: string, passages: Passage[]): number[] {
  return parseCitedPassageIndexes(
    answer,
    passages.map((passage) => passage.index),
  );
}
