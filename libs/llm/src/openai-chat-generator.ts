import type OpenAI from 'openai';
import type { AnswerGenerator, GeneratedAnswer, Passage } from './answer-generator.port';
import { buildGroundedAnswerMessages } from './chat-prompt';
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
}

/** Grounded answers from any server that speaks OpenAI's `POST /chat/completions`. */
export class OpenAiChatGenerator implements AnswerGenerator {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly maxTokens: number;
  private readonly temperature: number;
  private readonly errorContext: EndpointErrorContext;

  constructor(options: OpenAiChatGeneratorOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
    this.model = options.model;
    this.maxTokens = options.maxTokens ?? DEFAULT_ANSWER_MAX_TOKENS;
    this.temperature = options.temperature ?? 0;
    this.client = createOpenAiClient({ ...options, timeoutMs });
    this.errorContext = {
      baseUrl: trimTrailingSlashes(options.baseUrl),
      apiKey: options.apiKey,
      timeoutMs,
      operation: `chat completion with model "${options.model}"`,
    };
  }

  async generate(question: string, passages: Passage[], signal?: AbortSignal): Promise<GeneratedAnswer> {
    // Without passages there is nothing to ground an answer in; asking the model would invite it to
    // answer from its own knowledge.
    if (passages.length === 0) return { answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: this.model };
    let completion: OpenAI.ChatCompletion;
    const startedAt = performance.now();
    try {
      completion = await this.client.chat.completions.create({ ...this.request(question, passages), stream: false }, { signal });
    } catch (error) {
      throw toEndpointError(error, { ...this.errorContext, elapsedMs: performance.now() - startedAt });
    }
    const answer = completion.choices[0]?.message.content?.trim() ?? '';
    if (answer === '') return { answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: this.model };
    return { answer, citedPassageIndexes: citedIn(answer, passages), model: this.model };
  }

  async *stream(question: string, passages: Passage[], signal?: AbortSignal): AsyncIterable<string> {
    if (passages.length === 0) {
      yield NO_ANSWER_TEXT;
      return;
    }
    const startedAt = performance.now();
    try {
      const chunks = await this.client.chat.completions.create({ ...this.request(question, passages), stream: true }, { signal });
      for await (const chunk of chunks) {
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) yield delta;
      }
    } catch (error) {
      // Covers failures both before the first chunk and mid-stream (dropped connection, timeout).
      throw toEndpointError(error, { ...this.errorContext, elapsedMs: performance.now() - startedAt });
    }
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

function citedIn(answer: string, passages: Passage[]): number[] {
  return parseCitedPassageIndexes(
    answer,
    passages.map((passage) => passage.index),
  );
}
