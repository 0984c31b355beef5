import { traceModelCall } from '@quarry/observability';
import type OpenAI from 'openai';
import { type EndpointErrorContext, toEndpointError } from './endpoint-error';
import { type OpenAiEndpointOptions, createOpenAiClient, trimTrailingSlashes } from './openai-client';

/** Writes other phrasings of a question, for multi-query retrieval. */
export interface QueryRewriter {
  readonly model: string;
  rephrase(question: string, count: number, signal?: AbortSignal): Promise<string[]>;
}

export const QUERY_REWRITE_SYSTEM_PROMPT = [
  'You help a search engine find passages that answer a question.',
  'Rewrite the question in different words, the way a document answering it might phrase things:',
  'use synonyms, related technical terms and spelled-out abbreviations.',
  'Write one rephrasing per line, with no numbering and nothing else.',
].join(' ');

/** Longest rephrasing kept (the retrieval contract's limit for a query). */
const MAX_VARIANT_CHARS = 4000;

/** Rephrasings from any server that speaks OpenAI's `POST /chat/completions`. */
export class OpenAiQueryRewriter implements QueryRewriter {
  readonly model: string;
  private readonly client: OpenAI;
  private readonly errorContext: EndpointErrorContext;

  constructor(options: OpenAiEndpointOptions & { model: string }) {
    this.model = options.model;
    this.client = createOpenAiClient(options);
    this.errorContext = { baseUrl: trimTrailingSlashes(options.baseUrl), apiKey: options.apiKey, timeoutMs: options.timeoutMs, operation: `query rewriting with model "${options.model}"` };
  }

  async rephrase(question: string, count: number, signal?: AbortSignal): Promise<string[]> {
    if (count <= 0) return [];
    const started = performance.now();
    let completion: OpenAI.ChatCompletion;
    try {
      const call = { operation: 'chat', model: this.model, baseUrl: this.errorContext.baseUrl, purpose: 'rephrase-query' } as const;
      completion = await traceModelCall(call, () => this.client.chat.completions.create(
        {
          model: this.model,
          messages: [
            { role: 'system', content: `${QUERY_REWRITE_SYSTEM_PROMPT} Write exactly ${count}.` },
            { role: 'user', content: question },
          ],
          // A little variety: several identical rephrasings would be one search done twice.
          temperature: 0.5,
          max_tokens: 64 * count,
          stream: false,
        },
        { signal },
      ));
    } catch (error) {
      throw toEndpointError(error, { ...this.errorContext, elapsedMs: performance.now() - started });
    }
    return parseRephrasings(completion.choices[0]?.message.content ?? '', question, count);
  }
}

/**
 * The model's lines as rephrasings: list markers and quotes stripped, blanks, repeats and copies of
 * the question dropped, at most `count`.
 */
export function parseRephrasings(content: string, question: string, count: number): string[] {
  const seen = new Set([normalise(question)]);
  const rephrasings: string[] = [];
  for (const line of content.split('\n')) {
    const text = line
      .replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '')
      .replace(/^["“']+|["”']+$/g, '')
      .trim()
      .slice(0, MAX_VARIANT_CHARS);
    if (text === '' || seen.has(normalise(text))) continue;
    seen.add(normalise(text));
    rephrasings.push(text);
    if (rephrasings.length === count) break;
  }
  return rephrasings;
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
}
