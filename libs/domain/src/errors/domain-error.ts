import { type ErrorCode, PERMANENT_ERROR_CODES } from '@quarry/contracts';

/**
 * The one error type services throw on purpose. It carries a code that survives the trip through a
 * queue (as the job's failure reason) and that the gateway maps to an HTTP status.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  /** True when retrying cannot help (bad input, missing document, unsupported type …). */
  get permanent(): boolean {
    return PERMANENT_ERROR_CODES.has(this.code);
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}
