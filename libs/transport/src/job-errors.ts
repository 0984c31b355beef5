import { type BatchItemError, ErrorCode, formatFailureReason, parseFailureReason } from '@quarry/contracts';
import { type DependencyEndpoints, DomainError, asOutage, isDomainError, unstorableDataError } from '@quarry/domain';
import { UnrecoverableError } from 'bullmq';

/**
 * Turns whatever a handler threw into the error BullMQ records. The failure reason is always
 * `CODE: message`; permanent codes become UnrecoverableError so BullMQ does not retry them. A
 * dependency outage becomes SERVICE_UNAVAILABLE naming what is down (retried: it passes), and data
 * the database refused becomes INVALID_PAYLOAD (not retried: the same data fails again); neither
 * carries the driver's text.
 */
export function toJobError(thrown: unknown, endpoints?: DependencyEndpoints): Error {
  const error = unstorableDataError(thrown) ?? asOutage(thrown, endpoints);
  if (isDomainError(error)) {
    const reason = formatFailureReason(error.code, error.message);
    return error.permanent ? new UnrecoverableError(reason) : new Error(reason);
  }
  if (error instanceof UnrecoverableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(formatFailureReason(ErrorCode.Internal, message));
}

/** Rebuilds the typed error on the producer's side from a failed job's reason. */
export function fromFailureReason(reason: string): DomainError {
  const { code, message } = parseFailureReason(reason);
  return new DomainError(code, message);
}

/** The code and message of whatever a handler threw, for one request's answer inside a batch reply. */
export function toBatchItemError(error: unknown, endpoints?: DependencyEndpoints): BatchItemError {
  if (isDomainError(error)) return { code: error.code, message: error.message };
  return parseFailureReason(toJobError(error, endpoints).message);
}
