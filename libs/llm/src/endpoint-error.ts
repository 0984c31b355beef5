import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

/**
 * A failure of the configured model endpoint, phrased for an operator: it names the endpoint and what
 * went wrong, and never contains the API key (servers sometimes echo a masked key back; it is removed).
 */
export class LlmEndpointError extends Error {
  override readonly name = 'LlmEndpointError';

  constructor(
    message: string,
    readonly baseUrl: string,
    /** HTTP status from the endpoint; undefined when it could not be reached or timed out. */
    readonly status?: number,
    /** What was being attempted ("chat completion", "embeddings"): says which call failed without the endpoint's own text. */
    readonly operation?: string,
  ) {
    super(message);
  }
}

export interface EndpointErrorContext {
  baseUrl: string;
  apiKey?: string;
  /** What was being attempted, e.g. "chat completion", "embeddings". */
  operation: string;
  timeoutMs?: number;
  /** How long the failed call took, to recognise timeouts the client reports as connection errors. */
  elapsedMs?: number;
}

/**
 * Translates whatever the `openai` client threw into an LlmEndpointError. Aborts requested by the
 * caller are returned unchanged, because they are not endpoint failures and callers test for them.
 */
export function toEndpointError(error: unknown, context: EndpointErrorContext): Error {
  if (error instanceof APIUserAbortError) return error;
  if (error instanceof LlmEndpointError) return error;
  const where = `${context.operation} at ${context.baseUrl}`;
  if (error instanceof APIConnectionTimeoutError || (error instanceof APIConnectionError && ranIntoTimeout(context))) {
    const limit = context.timeoutMs === undefined ? '' : ` after ${context.timeoutMs} ms`;
    return new LlmEndpointError(`${where} timed out${limit}`, context.baseUrl, undefined, context.operation);
  }
  if (error instanceof APIConnectionError) {
    return new LlmEndpointError(`${where} is unreachable: ${redactSecrets(describeCause(error), context.apiKey)}`, context.baseUrl, undefined, context.operation);
  }
  if (error instanceof APIError) {
    const status = typeof error.status === 'number' ? error.status : undefined;
    const hint = status === 401 || status === 403 ? ' (check the API key)' : '';
    return new LlmEndpointError(`${where} failed${hint}: ${redactSecrets(error.message, context.apiKey)}`, context.baseUrl, status, context.operation);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LlmEndpointError(`${where} failed: ${redactSecrets(message, context.apiKey)}`, context.baseUrl, undefined, context.operation);
}

/**
 * The client recognises its own timeout by the AbortError's name; when that error comes from another
 * realm (jest's sandbox, some fetch polyfills) it reports a plain "Connection error." instead. A
 * connection failure that took at least the timeout is a timeout: refusals and DNS errors are quick.
 */
function ranIntoTimeout(context: EndpointErrorContext): boolean {
  return context.timeoutMs !== undefined && context.elapsedMs !== undefined && context.elapsedMs >= context.timeoutMs;
}

/** The client says only "Connection error."; the useful part (ECONNREFUSED, DNS) is in the cause. */
function describeCause(error: APIConnectionError): string {
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const nested: unknown = cause.cause;
    const detail = nested instanceof Error ? `${cause.message} (${nested.message})` : cause.message;
    return `${error.message} ${detail}`;
  }
  return error.message;
}

function redactSecrets(message: string, apiKey: string | undefined): string {
  let redacted = message;
  if (apiKey) redacted = redacted.split(apiKey).join('***');
  // OpenAI-style keys, including the partially masked form some servers echo in 401 responses.
  return redacted.replace(/\bsk-[A-Za-z0-9_*.-]+/g, 'sk-***');
}
