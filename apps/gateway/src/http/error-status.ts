import { ErrorCode } from '@quarry/contracts';

/** The one place where error codes become HTTP statuses. */
export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  [ErrorCode.InvalidPayload]: 400,
  [ErrorCode.UnknownJob]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.UnsupportedType]: 415,
  [ErrorCode.EmptyDocument]: 422,
  [ErrorCode.CorruptDocument]: 422,
  [ErrorCode.PasswordRequired]: 422,
  [ErrorCode.NoExtractableText]: 422,
  [ErrorCode.ResourceLimit]: 422,
  [ErrorCode.ParseTimeout]: 422,
  [ErrorCode.Cancelled]: 409,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.Internal]: 500,
  [ErrorCode.UpstreamModelError]: 502,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.Timeout]: 504,
};
