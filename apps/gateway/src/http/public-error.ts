import { HttpException } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { type DependencyEndpoints, asOutage, isDomainError, unstorableDataError } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { HTTP_STATUS_OF, RETRY_AFTER_SECONDS } from './error-status';

export const INTERNAL_MESSAGE = 'internal error; the correlation id identifies it in the logs';

/** What the client is told about an error: never a driver's or a downstream service's internal text. */
export interface PublicError {
  status: number;
  code: ErrorCode;
  message: string;
  /** Sent as `Retry-After` (seconds): the failure passes by itself. */
  retryAfterSeconds?: number;
  /** For the log: what really happened, when the client gets less (an outage, an internal error). */
  cause?: { level: 'error' | 'warn'; line: string; error: string; stack?: string };
}

export interface ErrorContext {
  /** Where Postgres and Redis listen, so a bare socket error names the right one. */
  endpoints?: DependencyEndpoints;
  /** The JSON body limit of the route, for a readable 413. */
  bodyLimit?: number;
}

function fromCode(code: ErrorCode, message: string): PublicError {
  // A request that timed out waited for a dependency (a service, the broker, the database):
  // to the client that is the same as the dependency being unavailable.
  const publicCode = code === ErrorCode.Timeout ? ErrorCode.ServiceUnavailable : code;
  const retryAfterSeconds = RETRY_AFTER_SECONDS[publicCode];
  return { status: HTTP_STATUS_OF[publicCode], code: publicCode, message, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) };
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
const errorStack = (error: unknown) => (error instanceof Error ? error.stack : undefined);

/**
 * The one mapping from anything thrown to what the API answers. Domain errors keep their code and
 * message, except INTERNAL (its message may be a downstream service's raw error) and TIMEOUT
 * (answered as SERVICE_UNAVAILABLE). Dependency outages become 503 naming what is down, data the
 * database refused becomes 400, framework errors keep their 4xx status, and anything else is a 500
 * that says nothing; in every case the real text goes to the log only.
 */
export function publicErrorOf(exception: unknown, context: ErrorContext = {}): PublicError {
  if (isDomainError(exception)) {
    if (exception.code === ErrorCode.Internal) {
      return { ...fromCode(ErrorCode.Internal, INTERNAL_MESSAGE), cause: { level: 'error', line: 'internal error', error: exception.message, stack: exception.stack } };
    }
    return fromCode(exception.code, exception.message);
  }
  const unstorable = unstorableDataError(exception);
  if (unstorable) return { ...fromCode(unstorable.code, unstorable.message), cause: { level: 'warn', line: 'data refused by the database', error: errorText(exception) } };
  const outage = asOutage(exception, context.endpoints);
  if (isDomainError(outage)) {
    return { ...fromCode(outage.code, outage.message), cause: { level: 'warn', line: 'dependency unavailable', error: errorText(exception) } };
  }

  // Anything can be thrown, null and undefined included.
  const shape = (exception ?? {}) as { statusCode?: unknown; code?: unknown };
  const status = exception instanceof HttpException ? exception.getStatus() : typeof shape.statusCode === 'number' ? shape.statusCode : undefined;
  if (shape.code === 'FST_REQ_FILE_TOO_LARGE') {
    return fromCode(ErrorCode.PayloadTooLarge, 'the upload is larger than the configured limit (MAX_UPLOAD_BYTES)');
  }
  if (status === 413) {
    const limit = context.bodyLimit === undefined ? 'the limit' : `the limit of ${context.bodyLimit} bytes`;
    return fromCode(ErrorCode.PayloadTooLarge, `the request body is larger than ${limit}`);
  }
  if (status !== undefined && status >= 400 && status < 500) {
    const code = status === 404 ? ErrorCode.NotFound : status === 429 ? ErrorCode.RateLimited : ErrorCode.InvalidPayload;
    return { status, code, message: errorText(exception) };
  }
  return {
    status: status !== undefined && status >= 500 && status < 600 ? status : 500,
    code: ErrorCode.Internal,
    message: INTERNAL_MESSAGE,
    cause: { level: 'error', line: 'unhandled error', error: errorText(exception), stack: errorStack(exception) },
  };
}

/** publicErrorOf, with what the client is not told (an outage's text, an internal error) logged under the correlation id. */
export function publicErrorLogged(exception: unknown, logger: Logger, log: { correlationId?: string } & Record<string, unknown>, context: ErrorContext = {}): PublicError {
  const error = publicErrorOf(exception, context);
  if (error.cause) {
    const { level, line, ...meta } = error.cause;
    logger[level](line, { ...meta, ...log, status: error.status });
  }
  return error;
}
