import type { AnswerGenerator } from './answer-generator.port';
import type { CompletionCache } from './completion-cache.port';
import type { Embedder } from './embedder.port';
import { ExtractiveAnswerGenerator } from './extractive-answer-generator';
import { DEFAULT_LOCAL_EMBEDDING_DIMENSIONS, LocalHashingEmbedder } from './local-hashing-embedder';
import { OPENAI_DEFAULT_BASE_URL } from './openai-client';
import { OpenAiChatGenerator } from './openai-chat-generator';
import { OpenAiEmbedder } from './openai-embedder';

export const DEFAULT_OPENAI_EMBEDDING_MODEL = 'text-embedding-3-small';
export const DEFAULT_OPENAI_EMBEDDING_DIMENSIONS = 1536;

export interface EmbedderConfig {
  provider: 'local' | 'openai';
  model?: string;
  dimensions?: number;
  /** OpenAI-compatible base URL; OpenAI's own when absent. */
  baseUrl?: string;
  apiKey?: string;
  batchSize?: number;
  timeoutMs?: number;
  maxRetries?: number;
}

export interface AnswerGeneratorConfig {
  /** OpenAI-compatible base URL, e.g. `http://localhost:11434/v1`. */
  baseUrl?: string;
  model?: string;
  apiKey?: string;
  maxTokens?: number;
  timeoutMs?: number;
  maxRetries?: number;
}

/** The local hashing embedder unless an OpenAI-compatible provider is chosen explicitly. */
export function createEmbedder(config: EmbedderConfig): Embedder {
  switch (config.provider) {
    case 'local':
      return new LocalHashingEmbedder({ dimensions: config.dimensions ?? DEFAULT_LOCAL_EMBEDDING_DIMENSIONS });
    case 'openai':
      return new OpenAiEmbedder({
        baseUrl: config.baseUrl || OPENAI_DEFAULT_BASE_URL,
        apiKey: config.apiKey,
        model: config.model || DEFAULT_OPENAI_EMBEDDING_MODEL,
        dimensions: config.dimensions ?? DEFAULT_OPENAI_EMBEDDING_DIMENSIONS,
        batchSize: config.batchSize,
        timeoutMs: config.timeoutMs,
        maxRetries: config.maxRetries,
      });
  }
}

/** An LLM is used only when both an endpoint and a model are configured; otherwise answers are extractive. */
export function isLlmConfigured(config: AnswerGeneratorConfig): config is AnswerGeneratorConfig & { baseUrl: string; model: string } {
  return Boolean(config.baseUrl?.trim() && config.model?.trim());
}

export function createAnswerGenerator(config: AnswerGeneratorConfig, cache?: CompletionCache): AnswerGenerator {
  if (!isLlmConfigured(config)) return new ExtractiveAnswerGenerator();
  return new OpenAiChatGenerator({
    cache,
    baseUrl: config.baseUrl.trim(),
    model: config.model.trim(),
    apiKey: config.apiKey,
    maxTokens: config.maxTokens,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
  });
}

/** What identifies an embedding version: enough to rebuild its embedder (the key comes from the environment). */
export interface EmbeddingVersionSpec {
  provider: 'local' | 'openai';
  model: string;
  dimensions: number;
  baseUrl?: string | null;
}

/** The embedder of a stored embedding version; a local model's name is derived from its size. */
export function embedderForVersion(spec: EmbeddingVersionSpec, apiKey?: string): Embedder {
  return createEmbedder({
    provider: spec.provider,
    model: spec.provider === 'local' ? undefined : spec.model || undefined,
    dimensions: spec.dimensions,
    baseUrl: spec.baseUrl ?? undefined,
    apiKey,
  });
}
