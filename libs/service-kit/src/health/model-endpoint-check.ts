import { redactUrl } from '@quarry/config';
import { DEFAULT_OPENAI_EMBEDDING_MODEL, OPENAI_DEFAULT_BASE_URL, isLlmConfigured, trimTrailingSlashes } from '@quarry/llm';
import { type DeepCheck, type DeepCheckResult, safeMessage } from './deep-health';

/** An OpenAI-compatible endpoint a service calls: its base URL (with the version path), key and model. */
export interface ModelEndpoint {
  baseUrl: string;
  apiKey?: string;
  /** The model the service asks for; the check says whether the endpoint lists it. */
  model?: string;
}

export const NOT_CONFIGURED = 'not configured';
const DEFAULT_TIMEOUT_MS = 2500;

/** The chat model endpoint when LLM_BASE_URL and LLM_MODEL are set; undefined when the local (extractive, rule-based) defaults are in use. */
export function llmEndpoint(config: { LLM_BASE_URL?: string; LLM_MODEL?: string; LLM_API_KEY?: string }): ModelEndpoint | undefined {
  const llm = { baseUrl: config.LLM_BASE_URL, model: config.LLM_MODEL };
  return isLlmConfigured(llm) ? { baseUrl: llm.baseUrl.trim(), model: llm.model.trim(), apiKey: config.LLM_API_KEY } : undefined;
}

/** The embeddings endpoint when EMBEDDING_PROVIDER=openai (OpenAI's own unless EMBEDDING_BASE_URL says otherwise); undefined for the local embedder. */
export function embeddingEndpoint(config: { EMBEDDING_PROVIDER: 'local' | 'openai'; EMBEDDING_BASE_URL?: string; EMBEDDING_MODEL?: string; EMBEDDING_API_KEY?: string }): ModelEndpoint | undefined {
  if (config.EMBEDDING_PROVIDER !== 'openai') return undefined;
  return { baseUrl: config.EMBEDDING_BASE_URL || OPENAI_DEFAULT_BASE_URL, model: config.EMBEDDING_MODEL || DEFAULT_OPENAI_EMBEDDING_MODEL, apiKey: config.EMBEDDING_API_KEY };
}

/** A deep health check of an endpoint; ok with detail "not configured" when there is none. */
export function modelEndpointCheck(endpoint: ModelEndpoint | undefined, timeoutMs = DEFAULT_TIMEOUT_MS): DeepCheck {
  return () => (endpoint ? checkModelEndpoint(endpoint, timeoutMs) : { ok: true, detail: NOT_CONFIGURED });
}

/**
 * GET {baseUrl}/models with the configured key, bounded in time and without retries. Reachable is
 * ok: a 2xx (with how many models are listed and whether the configured one is), and also a 404 or
 * 405 — some OpenAI-compatible servers do not serve the list, but they answered. A refused key
 * (401, 403), any other status, no connection or no answer in time fails, with a short reason that
 * names the endpoint (redacted) and never the key.
 */
export async function checkModelEndpoint(endpoint: ModelEndpoint, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DeepCheckResult> {
  const base = trimTrailingSlashes(endpoint.baseUrl);
  const shown = redactUrl(base);
  let response: Response;
  try {
    response = await fetch(`${base}/models`, {
      headers: { accept: 'application/json', ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') return { ok: false, error: `${shown} did not answer within ${timeoutMs} ms` };
    return { ok: false, error: `${shown} is unreachable (${safeMessage(connectionReason(error))})` };
  }
  const status = response.status;
  if (response.ok) {
    const ids = await listedModels(response);
    const detail: Record<string, string | number | boolean | null> = { endpoint: shown, models: ids === undefined ? null : ids.length };
    if (endpoint.model && ids !== undefined) detail.modelListed = ids.includes(endpoint.model);
    return { ok: true, detail };
  }
  await response.body?.cancel().catch(() => undefined);
  if (status === 404 || status === 405) return { ok: true, detail: { endpoint: shown, models: `not listed (GET /models answered ${status})` } };
  if (status === 401 || status === 403) return { ok: false, error: `${shown} refused the API key (${status}): check the *_API_KEY setting` };
  return { ok: false, error: `${shown} answered GET /models with ${status}` };
}

async function listedModels(response: Response): Promise<string[] | undefined> {
  try {
    const body = (await response.json()) as { data?: Array<{ id?: unknown }> };
    return Array.isArray(body.data) ? body.data.map((model) => String(model.id)) : undefined;
  } catch {
    return undefined;
  }
}

/** The socket error's code (ECONNREFUSED, ENOTFOUND …) under fetch's "fetch failed". */
function connectionReason(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return (error as Error).message || 'connection failed';
}
