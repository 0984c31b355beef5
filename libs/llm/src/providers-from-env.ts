import type { z } from 'zod';
import type { embeddingEnv, llmEnv } from '@quarry/config';
import type { AnswerGeneratorConfig, EmbedderConfig } from './providers';

/** The EMBEDDING_* variables as an embedder config (ingestion and retrieval must agree on them). */
export function embedderConfigFromEnv(env: z.output<typeof embeddingEnv>): EmbedderConfig {
  return {
    provider: env.EMBEDDING_PROVIDER,
    model: env.EMBEDDING_MODEL,
    dimensions: env.EMBEDDING_DIMENSIONS,
    baseUrl: env.EMBEDDING_BASE_URL,
    apiKey: env.EMBEDDING_API_KEY,
  };
}

/** The LLM_* variables as an answer generator config; without LLM_BASE_URL and LLM_MODEL it is extractive. */
export function answerGeneratorConfigFromEnv(env: z.output<typeof llmEnv>): AnswerGeneratorConfig {
  return { baseUrl: env.LLM_BASE_URL, model: env.LLM_MODEL, apiKey: env.LLM_API_KEY, maxTokens: env.LLM_MAX_TOKENS, timeoutMs: env.LLM_TIMEOUT_MS };
}
