import { ErrorCode } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';

/** Network failures that mean "Qdrant is not reachable right now" (retrying later may help). */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

const MAX_DETAIL_LENGTH = 300;

export interface QdrantErrorContext {
  /** What the adapter was doing, for the message ("upsert points into collection quarry_x_384"). */
  readonly operation: string;
  /** Qdrant's URL as shown to humans: `displayUrl(QDRANT_URL)`. */
  readonly url: string;
  /** Scrubbed from every message, should anything ever echo it back. */
  readonly apiKey?: string;
}

/**
 * Translates whatever the Qdrant client threw into a `DomainError`:
 * - unreachable (refused, reset, DNS, TLS …), HTTP 401/403/404/408/429/5xx → SERVICE_UNAVAILABLE
 *   (retried by the job machinery; 401/403 name the credentials so operators know where to look);
 * - the client's own deadline → TIMEOUT;
 * - any other HTTP error (400 …: Qdrant rejected what we sent) → INTERNAL, with Qdrant's reason.
 * Messages carry the URL (without user info or query) and never the API key.
 */
export function toDomainError(error: unknown, context: QdrantErrorContext): DomainError {
  if (isDomainError(error)) return error;
  const { operation, url } = context;
  const scrub = (text: string): string => scrubSecret(text, context.apiKey);
  const status = httpStatus(error);

  if (status !== undefined) {
    const reason = scrub(qdrantReason(error));
    const details = { url, operation, status };
    if (status === 401 || status === 403) {
      return new DomainError(
        ErrorCode.ServiceUnavailable,
        `Qdrant at ${url} refused the credentials (HTTP ${status}) during ${operation}; check QDRANT_API_KEY`,
        details,
      );
    }
    if (status === 404 || status === 408 || status === 429 || status >= 500) {
      return new DomainError(
        ErrorCode.ServiceUnavailable,
        `Qdrant at ${url} could not ${operation} (HTTP ${status})${reason ? `: ${reason}` : ''}`,
        details,
      );
    }
    return new DomainError(ErrorCode.Internal, `Qdrant at ${url} rejected ${operation} (HTTP ${status})${reason ? `: ${reason}` : ''}`, details);
  }

  // Duck-typed throughout: errors from Node's built-in fetch may come from another realm (jest's
  // VM contexts), where `instanceof TypeError` is false.
  if (errorName(error) === 'QdrantClientTimeoutError') {
    return new DomainError(ErrorCode.Timeout, `Qdrant at ${url} did not answer in time during ${operation}`, { url, operation });
  }

  const networkCode = connectionErrorCode(error);
  if (networkCode !== undefined) {
    return new DomainError(
      ErrorCode.ServiceUnavailable,
      `Qdrant at ${url} is unreachable (${networkCode}) during ${operation}`,
      { url, operation, cause: networkCode },
    );
  }

  const message = errorMessage(error);
  return new DomainError(ErrorCode.Internal, `Qdrant at ${url} failed during ${operation}: ${truncate(scrub(message))}`, {
    url,
    operation,
  });
}

/** The URL without user info, query or fragment (never a secret in a log line). */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const path = parsed.pathname === '/' ? '' : parsed.pathname.replace(/\/+$/, '');
    return `${parsed.protocol}//${parsed.host}${path}`;
  } catch {
    return '<invalid QDRANT_URL>';
  }
}

/** The HTTP status of a failed Qdrant call (the client throws `ApiError`s carrying it), if any. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' && status >= 100 && status <= 599 ? status : undefined;
}

/** Qdrant answers errors as `{ "status": { "error": "…" }, "time": … }`; anything else is shown raw. */
export function qdrantReason(error: unknown): string {
  const data = (error as { data?: unknown }).data;
  if (typeof data === 'string') return truncate(data.trim());
  if (typeof data === 'object' && data !== null) {
    const status = (data as { status?: unknown }).status;
    if (typeof status === 'object' && status !== null) {
      const message = (status as { error?: unknown }).error;
      if (typeof message === 'string') return truncate(message);
    }
  }
  return '';
}

/** The network error code of a failed fetch, looking through `cause` chains (undici nests them). */
function connectionErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT'))) {
      return code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  // A fetch that failed before any HTTP exchange (bad port, invalid TLS setup …): name its cause.
  if (errorName(error) === 'TypeError' && errorMessage(error) === 'fetch failed') {
    const cause = (error as { cause?: unknown }).cause;
    return cause === undefined ? 'fetch failed' : truncate(errorMessage(cause));
  }
  return undefined;
}

function errorName(error: unknown): string | undefined {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

function errorMessage(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}

function scrubSecret(text: string, secret: string | undefined): string {
  return secret && secret.length > 0 ? text.split(secret).join('***') : text;
}

function truncate(text: string): string {
  return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH)}…` : text;
}
