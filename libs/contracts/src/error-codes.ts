/**
 * Error codes that cross process boundaries. A failed job's reason is written as
 * `CODE: human readable message`, so any producer (ours or a foreign BullMQ client) can read it and
 * our clients can rebuild a typed error from it. Only the gateway maps codes to HTTP statuses.
 */
export const ErrorCode = {
  InvalidPayload: 'INVALID_PAYLOAD',
  UnknownJob: 'UNKNOWN_JOB',
  NotFound: 'NOT_FOUND',
  UnsupportedType: 'UNSUPPORTED_TYPE',
  EmptyDocument: 'EMPTY_DOCUMENT',
  CorruptDocument: 'CORRUPT_DOCUMENT',
  PasswordRequired: 'PASSWORD_REQUIRED',
  NoExtractableText: 'NO_EXTRACTABLE_TEXT',
  ResourceLimit: 'RESOURCE_LIMIT',
  ParseTimeout: 'PARSE_TIMEOUT',
  Cancelled: 'CANCELLED',
  Conflict: 'CONFLICT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  /** No valid API key: missing, malformed, unknown, expired or revoked (the answer does not say which). */
  Unauthenticated: 'UNAUTHENTICATED',
  /** The key is valid, but its role is below what the route requires. */
  Forbidden: 'FORBIDDEN',
  /** The tenant has reached its document quota. */
  QuotaExceeded: 'QUOTA_EXCEEDED',
  /** The tenant has reached its quota of stored bytes. */
  StorageQuotaExceeded: 'STORAGE_QUOTA_EXCEEDED',
  /** Too many requests or open streams for the caller (e.g. progress streams per tenant); retry later. */
  RateLimited: 'RATE_LIMITED',
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  Timeout: 'TIMEOUT',
  UpstreamModelError: 'UPSTREAM_MODEL_ERROR',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Errors that no retry can fix: the job fails at once instead of burning its attempts. */
export const PERMANENT_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.InvalidPayload,
  ErrorCode.UnknownJob,
  ErrorCode.NotFound,
  ErrorCode.UnsupportedType,
  ErrorCode.EmptyDocument,
  ErrorCode.CorruptDocument,
  ErrorCode.PasswordRequired,
  ErrorCode.NoExtractableText,
  ErrorCode.ResourceLimit,
  ErrorCode.ParseTimeout,
  ErrorCode.Cancelled,
  ErrorCode.PayloadTooLarge,
]);

const REASON_PATTERN = /^([A-Z][A-Z_]+): ([\s\S]*)$/;

export function formatFailureReason(code: ErrorCode, message: string): string {
  return `${code}: ${message}`;
}

export function parseFailureReason(reason: string): { code: ErrorCode; message: string } {
  const match = REASON_PATTERN.exec(reason);
  const known = Object.values(ErrorCode) as string[];
  if (match && known.includes(match[1])) return { code: match[1] as ErrorCode, message: match[2] };
  return { code: ErrorCode.Internal, message: reason };
}
