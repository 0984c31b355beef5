import OpenAI from 'openai';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

// Local servers (Ollama, vLLM, llama.cpp) ignore the key, but the client refuses to start without one.
const PLACEHOLDER_API_KEY = 'no-key-configured';

export interface OpenAiEndpointOptions {
  /** Base URL including the version path, e.g. `http://localhost:11434/v1`. */
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
  /** Retries on 408/409/429/5xx and connection errors, with the client's exponential back-off. */
  maxRetries?: number;
}

/**
 * Builds the official client from explicit configuration only. Every setting is passed so that none is
 * picked up silently from OPENAI_* environment variables: the configuration object is the single
 * source of truth for which endpoint Quarry talks to.
 */
export function createOpenAiClient(options: OpenAiEndpointOptions): OpenAI {
  return new OpenAI({
    baseURL: trimTrailingSlashes(options.baseUrl),
    apiKey: options.apiKey || PLACEHOLDER_API_KEY,
    organization: null,
    project: null,
    timeout: options.timeoutMs,
    maxRetries: options.maxRetries,
  });
}

export function trimTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}
