import { ErrorCode } from '@quarry/contracts';

/** The one place where error codes become HTTP statuses. */
export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  [ErrorCode.InvalidPayload]: 400,
  [ErrorCode.UnknownJob]: 400,
  [ErrorCode.Unauthenticated]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.QuotaExceeded]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.StorageQuotaExceeded]: 413,
  [ErrorCode.UnsupportedType]: 415,
  [ErrorCode.EmptyDocument]: 422,
  [ErrorCode.CorruptDocument]: 422,
  [ErrorCode.PasswordRequired]: 422,
  [ErrorCode.NoExtractableText]: 422,
  [ErrorCode.ResourceLimit]: 422,
  [ErrorCode.ParseTimeout]: 422,
  [ErrorCode.Cancelled]: 409,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.Internal]: 500,
  [ErrorCode.UpstreamModelError]: 502,
  [ErrorCode.ServiceUnavailable]: 503,
  // Answered as SERVICE_UNAVAILABLE: what timed out was a dependency.
  [ErrorCode.Timeout]: 503,
};

/**
 * `Retry-After` (seconds) for the errors that pass by themselves: an outage (Postgres or Redis
 * restarting, a service with no live worker) usually lasts seconds; a stream slot frees up when
 * another stream of the tenant ends.
 */
export const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.ServiceUnavailable]: 5,
  [ErrorCode.RateLimited]: 10,
};
