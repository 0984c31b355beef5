import { type BatchItemError, ErrorCode, formatFailureReason, parseFailureReason } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';
import { UnrecoverableError } from 'bullmq';

/**
 * Turns whatever a handler threw into the error BullMQ records. The failure reason is always
 * `CODE: message`; permanent codes become UnrecoverableError so BullMQ does not retry them.
 */
export function toJobError(error: unknown): Error {
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
export function toBatchItemError(error: unknown): BatchItemError {
  if (isDomainError(error)) return { code: error.code, message: error.message };
  return parseFailureReason(toJobError(error).message);
}
