/** A chat completion request as far as it decides the answer: what a cached completion is keyed by. */
export interface CompletionRequest {
  model: string;
  messages: unknown;
  /** sampling and length parameters (temperature, max_tokens, …) */
  params: Record<string, unknown>;
}

/**
 * Where completions are kept, so the same request is sent to the model once (the agent backs it
 * with the multi-level cache). Only deterministic requests (temperature 0) are looked up unless
 * the generator is told otherwise: a sampled completion is one of many a client may want.
 */
export interface CompletionCache {
  get(request: CompletionRequest): Promise<string | undefined>;
  set(request: CompletionRequest, text: string): Promise<void>;
}
